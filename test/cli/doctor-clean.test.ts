/**
 * A healthy default deployment (issue 20, item 6): `doctor` is clean (no warning, exit 0) though its Insights
 * query results are not encrypted with the guard key, which is optional and reported as information; and
 * `audit` says so once per account-region, not on every row. Through `run(argv, io)` against
 * aws-sdk-client-mock.
 */
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
  LookupEventsCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { KEY_ARN, listedGroup, logGroupPage } from '../helpers.ts';
import { testIo } from './helpers.ts';

const sts = mockClient(STSClient);
const cloudtrail = mockClient(CloudTrailClient);
const eventbridge = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
const kms = mockClient(KMSClient);
const logs = mockClient(CloudWatchLogsClient);
const lambda = mockClient(LambdaClient);
const ROLE = `arn:aws:iam::${ACCOUNT}:role/logs-kms-guard-prod-EnforceRole`;
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:logs-kms-guard-prod-events`;
const DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:logs-kms-guard-prod-events-dlq`;
const url = (arn: string) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${arn.split(':').at(-1)}`;

/** A default deployment (EncryptQueryResults off) in good health, in every region asked. */
function healthyDeployment() {
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/me` });
  // issue 21 item 1: doctor's key-dependencies check reads the trail's key events (none here).
  cloudtrail.on(LookupEventsCommand).resolves({ Events: [] });
  cloudtrail.on(DescribeTrailsCommand).resolves({
    trailList: [
      {
        Name: 'org',
        TrailARN: `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/org`,
        IsMultiRegionTrail: true,
      },
    ],
  });
  cloudtrail.on(GetTrailStatusCommand).resolves({ IsLogging: true });
  cloudtrail.on(GetEventSelectorsCommand).resolves({ EventSelectors: [{ ReadWriteType: 'All' }] });
  eventbridge.on(ListRulesCommand).resolves({
    Rules: [
      {
        Name: 'logs-kms-guard-prod-create',
        State: 'ENABLED',
        EventPattern: '{"eventName":["CreateLogGroup"],"errorCode":[{"exists":false}]}',
      },
    ],
  });
  eventbridge.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'q', Arn: QUEUE }] });
  sqs.on(GetQueueUrlCommand).callsFake((input: { QueueName: string }) => ({
    QueueUrl: url(input.QueueName),
  }));
  sqs.on(GetQueueAttributesCommand, { QueueUrl: url(QUEUE) }).resolves({
    Attributes: {
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ, maxReceiveCount: 5 }),
    },
  });
  sqs
    .on(GetQueueAttributesCommand, { QueueUrl: url(DLQ) })
    .resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
  kms.on(DescribeKeyCommand).resolves({
    KeyMetadata: {
      Arn: KEY_ARN,
      KeyId: 'k',
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
    },
  });
  kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
  kms.on(GetKeyPolicyCommand).resolves({
    Policy: JSON.stringify(
      defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT, guardRoles: [ROLE] }),
    ),
  });
  logs.on(FilterLogEventsCommand).resolves({ events: [] });
  lambda.on(GetFunctionConfigurationCommand).resolves({ Role: ROLE });
  // issue 21 item 1: doctor's key-dependencies check lists the region's groups (none here).
  logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
}

beforeEach(() => {
  for (const mock of [sts, cloudtrail, eventbridge, sqs, kms, logs, lambda]) mock.reset();
  clearKeyCache();
  healthyDeployment();
});

describe('doctor on a healthy default deployment', () => {
  it('is clean: every check ok, the query results as information, exit 0', async () => {
    const t = testIo();
    const code = await run(['doctor', '--function', 'enforce', '--function-role', ROLE], t.io);
    expect(code).toBe(0);
    expect(t.stdout()).not.toMatch(/^(warn|fail)/m);
    expect(t.stdout()).toMatch(
      /^info {2}us-east-1 {2}query results: Insights query results are not encrypted with this key \(optional; not a problem\)/m,
    );
    // Issue 21 item 2: the key protection check adds one more information (a default deployment is unprotected).
    expect(t.stdout()).toMatch(/^info {2}us-east-1 {2}key protection: not protected: /m);
    expect(t.stderr()).toMatch(/check\(s\): 0 fail, 0 warn, 2 info\n$/);
    const json = testIo();
    expect(await run(['doctor', '--json', '--function', 'enforce', '--function-role', ROLE], json.io)).toBe(
      0,
    );
    const checks = JSON.parse(json.stdout()).checks as { check: string; status: string }[];
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([
      expect.objectContaining({ check: 'query results', status: 'info' }),
      expect.objectContaining({ check: 'key protection', status: 'info' }),
    ]);
  });
});

describe('audit: the query results said once per account-region, as information', () => {
  it('one stderr line naming the regions, nothing on the rows; JSON queryResults per region', async () => {
    logs
      .on(DescribeLogGroupsCommand)
      .callsFake((input: { nextToken?: string }) =>
        logGroupPage([listedGroup('/a', KEY_ARN), listedGroup('/b', KEY_ARN)], input.nextToken, 50),
      );
    logs.on(ListTagsForResourceCommand).resolves({ tags: {} });
    const t = testIo();
    await run(['audit', '--regions', 'us-east-1,eu-west-1'], t.io);
    expect(t.stdout()).not.toContain('Insights');
    const lines = t
      .stderr()
      .split('\n')
      .filter((l) => l.includes('Insights'));
    expect(lines).toEqual([
      'Insights query results (information): not encrypted with the guard key (optional: EncryptQueryResults=true): us-east-1, eu-west-1',
    ]);
    const json = testIo();
    await run(['audit', '--regions', 'us-east-1,eu-west-1', '--json'], json.io);
    expect(Object.keys(JSON.parse(json.stdout()).queryResults)).toEqual(['us-east-1', 'eu-west-1']);
  });
});
