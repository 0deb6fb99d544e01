/**
 * The sweep Lambda's invocation (functions/core/sweep/run.ts) against aws-sdk-client-mock on a fake clock:
 * work items onto SQS in batches, continuing in a new invocation before time runs out or after a failure, dry
 * run, direct mode, and settings refused by name.
 */
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/core/config.ts';
import { parseCreateLogGroupEvent } from '../../../functions/core/event.ts';
import { clearKeyCache } from '../../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../../functions/core/policy.ts';
import {
  type ResumeEvent,
  runSweepInvocation,
  type SweepInvocationDeps,
} from '../../../functions/core/sweep/run.ts';
import { loadSweepSettings } from '../../../functions/core/sweep/settings.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';
import {
  FUNCTION_ARN,
  fakeClock,
  listedGroup as group,
  KEY_ARN,
  logGroupPage,
  memoryLog,
} from '../../helpers.ts';

const QUEUE = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/logs-kms-guard-enforce`;
const logs = mockClient(CloudWatchLogsClient);
const kms = mockClient(KMSClient);
const sqsMock = mockClient(SQSClient);
const lambdaMock = mockClient(LambdaClient);
function serve(groups: LogGroup[], size: number, clock?: ReturnType<typeof fakeClock>) {
  logs.on(DescribeLogGroupsCommand).callsFake((input: { nextToken?: string }) => {
    clock?.advance(1000);
    return logGroupPage(groups, input.nextToken, size);
  });
  logs.on(ListTagsForResourceCommand).resolves({ tags: {} });
}

function deps(env: Record<string, string>, clock = fakeClock()): SweepInvocationDeps {
  return {
    config: loadConfig(env),
    settings: loadSweepSettings(env),
    clients: { kms: new KMSClient({ region: REGION }), logs: new CloudWatchLogsClient({ region: REGION }) },
    sqs: new SQSClient({ region: REGION }),
    lambda: new LambdaClient({ region: REGION }),
    log: memoryLog(),
    region: REGION,
    account: ACCOUNT,
    functionArn: FUNCTION_ARN,
    remainingMs: 600_000,
    clock,
  };
}

describe('sweep Lambda', () => {
  beforeEach(() => {
    for (const m of [logs, kms, sqsMock, lambdaMock]) m.reset();
    clearKeyCache();
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: { Arn: KEY_ARN, KeyId: 'k', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT' },
    });
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
    });
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it('queues unencrypted in-scope groups as work items, ten per batch', async () => {
    // Prepare
    serve([...Array.from({ length: 25 }, (_, i) => group(`/g/${i}`)), group('/k', KEY_ARN)], 50);
    // Act
    const result = await runSweepInvocation({}, deps({ ENFORCE_QUEUE_URL: QUEUE }));
    // Assess
    expect(result).toMatchObject({ done: true, continued: false, counts: { queued: 25, guardKey: 1 } });
    const batches = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    const body = JSON.parse(batches[0]?.[0]?.MessageBody ?? '{}');
    // The enforce handler accepts what the sweep sends.
    expect(parseCreateLogGroupEvent(body, { account: ACCOUNT, region: REGION })).toMatchObject({
      kind: 'create',
      name: '/g/0',
    });
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
  });

  it('retries entries SQS did not take', async () => {
    // Prepare
    serve([group('/a'), group('/b')], 50);
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }],
        Failed: [{ Id: '1', Code: 'x', SenderFault: false }],
      })
      .resolves({ Successful: [], Failed: [] });
    // Act
    await runSweepInvocation({}, deps({ ENFORCE_QUEUE_URL: QUEUE }));
    // Assess
    const calls = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.length);
    expect(calls).toEqual([2, 1]);
  });

  it('continues in a new invocation when time runs low, and the continuation finishes the run', async () => {
    // Prepare: 1 s per page listed, then its 10 tag reads at SWEEP_TAGS_RATE 4 (1.5 s); 9 s left after margins,
    // no new page after half of them: pages 1 and 2 done.
    const clock = fakeClock();
    serve(
      Array.from({ length: 30 }, (_, i) => group(`/g/${i}`)),
      10,
      clock,
    );
    const d = { ...deps({ ENFORCE_QUEUE_URL: QUEUE }, clock), remainingMs: 3_000 + 5_000 + 9_000 };
    // Act
    const first = await runSweepInvocation({}, d);
    // Assess
    expect(first).toMatchObject({ done: false, continued: true, nextToken: 'p2' });
    const invoke = lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(invoke).toMatchObject({ FunctionName: FUNCTION_ARN, InvocationType: 'Event' });
    const payload = JSON.parse(new TextDecoder().decode(invoke?.Payload as Uint8Array)) as ResumeEvent;
    expect(payload.resume).toMatchObject({ runId: first.runId, nextToken: 'p2', invocation: 1 });
    // Act: the continuation, with time enough.
    const second = await runSweepInvocation(payload, { ...d, remainingMs: 600_000 });
    // Assess
    expect(second).toMatchObject({ runId: first.runId, done: true, counts: { queued: 30, listed: 30 } });
    const names = sqsMock
      .commandCalls(SendMessageBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .map((e) => JSON.parse(e.MessageBody ?? '{}').detail.logGroupName);
    expect(new Set(names).size).toBe(30);
    expect(names).toHaveLength(30);
  });

  it('counts a completed run once, at its last invocation (SweepCompleted), not at a continuation', async () => {
    // Prepare: two invocations, as above
    const clock = fakeClock();
    serve(
      Array.from({ length: 30 }, (_, i) => group(`/g/${i}`)),
      10,
      clock,
    );
    const completed: string[] = [];
    const d = {
      ...deps({ ENFORCE_QUEUE_URL: QUEUE }, clock),
      remainingMs: 3_000 + 5_000 + 9_000,
      onComplete: (runId: string) => completed.push(runId),
    };
    // Act
    const first = await runSweepInvocation({}, d);
    const continuedWith = [...completed];
    const invoke = lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input;
    const payload = JSON.parse(new TextDecoder().decode(invoke?.Payload as Uint8Array)) as ResumeEvent;
    await runSweepInvocation(payload, { ...d, remainingMs: 600_000 });
    // Assess
    expect(first.continued).toBe(true);
    expect(continuedWith).toEqual([]);
    expect(completed).toEqual([first.runId]);
  });

  it('an invocation that fails after finished pages continues from its checkpoint: nothing listed or queued twice', async () => {
    // Prepare: pages of ten; SQS takes page 1's batch, then refuses page 2's.
    serve(
      Array.from({ length: 30 }, (_, i) => group(`/g/${i}`)),
      10,
    );
    const outage = Object.assign(new Error('SQS is unavailable'), { name: 'ServiceUnavailable' });
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [] })
      .rejectsOnce(outage)
      .resolves({ Successful: [], Failed: [] });
    const d = deps({ ENFORCE_QUEUE_URL: QUEUE });
    // Act
    const first = await runSweepInvocation({}, d);
    const invoke = lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input;
    const payload = JSON.parse(new TextDecoder().decode(invoke?.Payload as Uint8Array)) as ResumeEvent;
    const second = await runSweepInvocation(payload, d);
    // Assess: the continuation starts at page 2, the first page not finished.
    expect(first).toMatchObject({ done: false, continued: true, nextToken: 'p1', counts: { pages: 1 } });
    expect(payload.resume).toMatchObject({ runId: first.runId, nextToken: 'p1', counts: { queued: 10 } });
    expect(second).toMatchObject({ done: true, counts: { pages: 3, listed: 30, queued: 30 } });
    const names = sqsMock
      .commandCalls(SendMessageBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .map((e) => JSON.parse(e.MessageBody ?? '{}').detail.logGroupName);
    // Page 2's batch was sent twice (refused, then taken); every group was taken once.
    expect(names).toHaveLength(40);
    expect(new Set(names).size).toBe(30);
    const tokens = logs.commandCalls(DescribeLogGroupsCommand).map((c) => c.args[0].input.nextToken);
    expect(tokens.filter((t) => t === undefined)).toHaveLength(1);
  });

  it('an invocation that fails before finishing a page throws: Lambda retries it from its start token', async () => {
    // Prepare
    serve([group('/a'), group('/b')], 50);
    sqsMock
      .on(SendMessageBatchCommand)
      .rejects(Object.assign(new Error('SQS is unavailable'), { name: 'ServiceUnavailable' }));
    // Act
    const run = runSweepInvocation(
      { resume: { runId: 'r1', nextToken: 'p0' } },
      deps({ ENFORCE_QUEUE_URL: QUEUE }),
    );
    // Assess
    await expect(run).rejects.toThrow(/SQS is unavailable/);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('dry run queues nothing and reports what it would queue', async () => {
    // Prepare
    serve([group('/a'), group('/b')], 50);
    // Act
    const result = await runSweepInvocation({}, deps({ ENFORCE_QUEUE_URL: QUEUE, DRY_RUN: 'true' }));
    // Assess
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(result.counts.candidates).toBe(2);
  });

  it('encrypts directly through the core without a queue', async () => {
    // Prepare
    serve([group('/a'), group('/b', KEY_ARN)], 50);
    logs.on(AssociateKmsKeyCommand).resolves({});
    // Act
    const result = await runSweepInvocation({}, deps({}));
    // Assess
    expect(logs.commandCalls(AssociateKmsKeyCommand).map((c) => c.args[0].input.logGroupName)).toEqual([
      '/a',
    ]);
    expect(result.counts.encrypted).toBe(1);
  });

  it('rejects a bad queue URL or rate by name', () => {
    expect(() => loadSweepSettings({ ENFORCE_QUEUE_URL: 'queue' })).toThrow(/ENFORCE_QUEUE_URL/);
    expect(() => loadSweepSettings({ SWEEP_ASSOCIATE_RATE: '9' })).toThrow(/SWEEP_ASSOCIATE_RATE/);
    // ListTagsForResource is 5 TPS per account and region (CloudWatch Logs quotas page).
    expect(() => loadSweepSettings({ SWEEP_TAGS_RATE: '8' })).toThrow(/SWEEP_TAGS_RATE.*at most 5/);
    expect(loadSweepSettings({}).tagsRate).toBe(4);
  });
});
