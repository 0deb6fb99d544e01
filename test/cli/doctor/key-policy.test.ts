/**
 * The doctor's key policy checks (functions/cli/doctor/key-policy.ts) against aws-sdk-client-mock: whether
 * the policy admits CloudWatch Logs, holds the Insights query-results statement, and lets the enforce
 * function's role use the key (named in the guard key's policy, or delegated to IAM on a configured key).
 */
import { GetKeyPolicyCommand, type KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../../functions/cli/aws.ts';
import {
  checkFunctionRole,
  checkKeyPolicy,
  checkQueryResults,
} from '../../../functions/cli/doctor/key-policy.ts';
import { loadConfig } from '../../../functions/core/config.ts';
import { defaultKeyPolicy, type PolicyContext } from '../../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';
import { KEY_ARN, KEY_ID } from '../../helpers.ts';

const kms = mockClient(KMSClient);
const lambda = mockClient(LambdaClient);
const ROLE = `arn:aws:iam::${ACCOUNT}:role/logs-kms-guard-prod-EnforceRole`;
const key: KeyMetadata = { Arn: KEY_ARN, KeyId: KEY_ID, KeyState: 'Enabled' };
const ctx: PolicyContext = { partition: 'aws', region: REGION, account: ACCOUNT };

describe('checkKeyPolicy', () => {
  beforeEach(() => {
    kms.reset();
  });

  it('is ok when the policy admits CloudWatch Logs here, and learns the policy', async () => {
    // Prepare
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(defaultKeyPolicy(ctx)) });

    // Act
    const result = await checkKeyPolicy({
      clients: defaultClientFactory()(REGION),
      region: REGION,
      account: ACCOUNT,
      key,
    });

    // Assess
    expect(result.findings).toEqual([
      { check: 'key policy', status: 'ok', detail: `admits logs.${REGION} for this account's log groups` },
    ]);
    expect(result.learned?.keyPolicy?.Id).toBe('logs-kms-guard');
  });

  it('fails with the key setup command when the policy shuts CloudWatch Logs out', async () => {
    // Prepare
    const narrowed = defaultKeyPolicy(ctx);
    narrowed.Statement = narrowed.Statement.filter((s) => s.Sid !== 'AllowCloudWatchLogs');
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(narrowed) });

    // Act
    const result = await checkKeyPolicy({
      clients: defaultClientFactory()(REGION),
      region: REGION,
      account: ACCOUNT,
      key,
    });

    // Assess
    expect(result.findings).toEqual([
      {
        check: 'key policy',
        status: 'fail',
        detail: `does not let CloudWatch Logs in ${REGION} use the key: associations fail`,
        fix: `logs-kms-guard key setup --region ${REGION}`,
      },
    ]);
  });

  it('warns that it could not check an unreadable policy, and learns none', async () => {
    // Prepare
    kms
      .on(GetKeyPolicyCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: {} }));

    // Act
    const result = await checkKeyPolicy({ clients: defaultClientFactory()(REGION), region: REGION, key });

    // Assess
    expect(result.findings[0]).toMatchObject({ check: 'key policy', status: 'warn' });
    expect(result.learned).toBeUndefined();
  });
});

describe('checkQueryResults', () => {
  it('is ok when the policy holds the query-results statement, is information when not (optional), finds nothing without a policy', () => {
    // Prepare
    const withQueries = defaultKeyPolicy({ ...ctx, encryptQueryResults: true });

    // Act
    const results = [
      checkQueryResults({ keyPolicy: withQueries }),
      checkQueryResults({ keyPolicy: defaultKeyPolicy(ctx) }),
      checkQueryResults({}),
    ];

    // Assess
    // Was 'warn': optional, so information (issue 20 item 6).
    expect(results.map((r) => r.findings.map((f) => f.status))).toEqual([['ok'], ['info'], []]);
    expect(results[1]?.findings[0]?.fix).toBe('deploy with EncryptQueryResults=true (optional)');
  });
});

describe('checkFunctionRole', () => {
  beforeEach(() => {
    lambda.reset();
  });
  const input = (env: Record<string, string>, guardRoles: string[] = []) => ({
    clients: defaultClientFactory()(REGION),
    config: loadConfig(env),
    region: REGION,
    account: ACCOUNT,
    key,
    keyPolicy: defaultKeyPolicy({ ...ctx, guardRoles }),
  });

  it('is ok when the guard key policy names the role from the function configuration', async () => {
    // Prepare
    lambda.on(GetFunctionConfigurationCommand).resolves({ Role: ROLE });

    // Act
    const result = await checkFunctionRole({ ...input({}, [ROLE]), enforceFunction: 'enforce' });

    // Assess
    expect(result.findings).toEqual([
      { check: 'function role', status: 'ok', detail: `the guard key's policy names ${ROLE}` },
    ]);
  });

  it('fails with the key setup command when the guard key policy does not name the role', async () => {
    // Act
    const result = await checkFunctionRole(input({ GUARD_ROLE_ARN: ROLE }));

    // Assess
    expect(result.findings[0]).toMatchObject({
      check: 'function role',
      status: 'fail',
      fix: `logs-kms-guard key setup --region ${REGION} --function-role ${ROLE}`,
    });
    expect(lambda.calls()).toHaveLength(0);
  });

  it('a configured key: ok when its policy delegates to IAM (the account-root statement)', async () => {
    // Act
    const result = await checkFunctionRole(input({ GUARD_ROLE_ARN: ROLE, KMS_KEY_ARN: KEY_ARN }));

    // Assess
    expect(result.findings).toEqual([
      { check: 'function role', status: 'ok', detail: `${ROLE} may use ${KEY_ARN} through CloudWatch Logs` },
    ]);
  });

  it('warns when the role is unknown, and finds nothing without the account, key or policy', async () => {
    // Act
    const unknown = await checkFunctionRole(input({}));
    const withoutAccount = await checkFunctionRole({ ...input({}), account: undefined });

    // Assess
    expect(unknown.findings).toEqual([
      {
        check: 'function role',
        status: 'warn',
        detail: 'could not check: the enforce function role is unknown (pass --function-role ARN)',
      },
    ]);
    expect(withoutAccount.findings).toEqual([]);
  });
});
