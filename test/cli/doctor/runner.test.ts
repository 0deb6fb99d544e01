/**
 * The doctor's list of checks and its runner (functions/cli/doctor/runner.ts) against aws-sdk-client-mock:
 * the order they print in, the stop after failed credentials, and each check getting what the earlier ones
 * learned.
 */
import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../../functions/cli/aws.ts';
import { DOCTOR_CHECKS, doctorRegion } from '../../../functions/cli/doctor/runner.ts';
import { loadConfig } from '../../../functions/core/config.ts';
import { defaultKeyPolicy } from '../../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';
import { KEY_ARN } from '../../helpers.ts';

const sts = mockClient(STSClient);
const cloudtrail = mockClient(CloudTrailClient);
const eventbridge = mockClient(EventBridgeClient);
const kms = mockClient(KMSClient);
const logs = mockClient(CloudWatchLogsClient);
const lambda = mockClient(LambdaClient);
const input = (options = {}) => ({
  clients: defaultClientFactory()(REGION),
  config: loadConfig({}),
  region: REGION,
  options,
  now: 1_800_000_000_000,
});

describe('doctor runner', () => {
  beforeEach(() => {
    for (const mock of [sts, cloudtrail, eventbridge, kms, logs, lambda]) mock.reset();
  });

  it('lists the checks in the order doctor prints them', () => {
    // Act
    const names = DOCTOR_CHECKS.map((check) => check.name);

    // Assess
    expect(names).toEqual([
      'checkCredentials',
      'checkCloudTrail',
      'checkRule',
      'checkQueue',
      'checkKey',
      'checkKeyRotation',
      'checkKeyPolicy',
      'checkRecentFailures',
      'checkQueryResults',
      'checkFunctionRole',
      'checkKeyProtection',
      'checkCentralizationRules',
      'checkKeyDependencies',
    ]);
  });

  it('stops after the credentials check when there are none', async () => {
    // Prepare
    sts
      .on(GetCallerIdentityCommand)
      .rejects(Object.assign(new Error('bad token'), { name: 'InvalidClientTokenId', $metadata: {} }));

    // Act
    const checks = await doctorRegion(input());

    // Assess
    expect(checks.map((c) => [c.region, c.check, c.status])).toEqual([[REGION, 'credentials', 'fail']]);
    expect(cloudtrail.calls()).toHaveLength(0);
  });

  it('hands each check what the earlier ones learned (the account, the key, its policy)', async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: 'me' });
    cloudtrail.on(DescribeTrailsCommand).resolves({ trailList: [] });
    eventbridge.on(ListRulesCommand).resolves({ Rules: [] });
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: { Arn: KEY_ARN, KeyId: 'k', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT' },
    });
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
    });
    logs.on(FilterLogEventsCommand).resolves({ events: [] });
    lambda.on(GetFunctionConfigurationCommand).resolves({});

    // Act
    const checks = await doctorRegion(input({ function: 'enforce' }));

    // Assess
    expect(checks.map((c) => [c.check, c.status])).toEqual([
      ['credentials', 'ok'],
      ['cloudtrail', 'fail'],
      ['rule', 'fail'],
      ['key', 'ok'],
      ['key rotation', 'ok'],
      ['key policy', 'ok'],
      ['recent failures', 'ok'],
      ['query results', 'info'],
      ['function role', 'warn'],
      ['key protection', 'info'],
      // issue 21 item 1: a new check, last (DescribeLogGroups is not mocked: it could not run)
      ['key-dependencies', 'warn'],
    ]);
    expect(checks.every((c) => c.region === REGION)).toBe(true);
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)[0]?.args[0].input).toEqual({
      FunctionName: 'enforce',
    });
    expect(Object.keys(checks[0] ?? {})).toEqual(['region', 'check', 'status', 'detail']);
  });
});
