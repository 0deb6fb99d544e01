/**
 * The doctor's first check (functions/cli/doctor/credentials.ts) against aws-sdk-client-mock: the account and
 * identity from STS, the account from a log group ARN when STS does not answer, and invalid credentials
 * stopping the region's checks.
 */
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../../functions/cli/aws.ts';
import { checkCredentials } from '../../../functions/cli/doctor/credentials.ts';
import { loadConfig } from '../../../functions/core/config.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';

const sts = mockClient(STSClient);
const logs = mockClient(CloudWatchLogsClient);
const kms = mockClient(KMSClient);
const failure = (name: string) => Object.assign(new Error(`${name} happened`), { name, $metadata: {} });

describe('checkCredentials', () => {
  beforeEach(() => {
    sts.reset();
    logs.reset();
    kms.reset();
  });

  it('is ok with the account and identity STS names, and learns the account', async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/me` });

    // Act
    const result = await checkCredentials({
      clients: defaultClientFactory()(REGION),
      config: loadConfig({}),
    });

    // Assess
    expect(result.findings).toEqual([
      { check: 'credentials', status: 'ok', detail: `account ${ACCOUNT} as arn:aws:iam::${ACCOUNT}:user/me` },
    ]);
    expect(result.learned).toEqual({ account: ACCOUNT });
    expect(result.stop).toBeUndefined();
  });

  it('warns when STS does not answer but a log group ARN names the account', async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).rejects(failure('InternalFailure'));
    logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [{ logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/a` }],
    });

    // Act
    const result = await checkCredentials({
      clients: defaultClientFactory()(REGION),
      config: loadConfig({}),
    });

    // Assess
    expect(result.findings[0]).toMatchObject({ check: 'credentials', status: 'warn' });
    expect(result.findings[0]?.detail).toMatch(
      /^could not check with STS: .*; account 123456789012 read from an ARN instead$/,
    );
    expect(result.learned).toEqual({ account: ACCOUNT });
  });

  it('fails and stops the region when the credentials are not valid', async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).rejects(failure('InvalidClientTokenId'));

    // Act
    const result = await checkCredentials({
      clients: defaultClientFactory()(REGION),
      config: loadConfig({}),
    });

    // Assess
    expect(result.findings).toEqual([
      {
        check: 'credentials',
        status: 'fail',
        detail: expect.stringContaining('the AWS credentials are not valid here'),
        fix: 'pass --profile or configure credentials',
      },
    ]);
    expect(result.stop).toBe(true);
    expect(logs.calls()).toHaveLength(0);
  });
});
