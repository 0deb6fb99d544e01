/**
 * The enforce Lambda handler (functions/enforce.ts), imported afresh per environment, against
 * aws-sdk-client-mock: AWS calls per event cold and warm, exclusion, existing keys, gone groups, dry run,
 * unsafe keys, SQS batches with partial failures, and bad settings.
 */
import {
  AccessDeniedException,
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sweepWorkItem } from '../functions/core/event.ts';
import { defaultKeyPolicy } from '../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../local/world.ts';
import { FUNCTION_ARN, KEY_ARN, loadEvent } from './helpers.ts';

const kms = mockClient(KMSClient);
const logs = mockClient(CloudWatchLogsClient);
const meta = { $metadata: {} };
const ctx = { partition: 'aws' as const, region: REGION, account: ACCOUNT };

function context(remainingMs = 60_000, arn = FUNCTION_ARN): Context {
  return {
    invokedFunctionArn: arn,
    functionName: 'logs-kms-guard-prod-enforce',
    awsRequestId: 'req-1',
    getRemainingTimeInMillis: () => remainingMs,
  } as unknown as Context;
}

function sqsBatch(...bodies: unknown[]): SQSEvent {
  const template = loadEvent<SQSEvent>('sqs-batch-two-events.json').Records[0];
  return {
    Records: bodies.map((body, i) => ({
      ...template,
      messageId: `m-${i}`,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })),
  } as SQSEvent;
}

/** Imports a fresh copy of the handler with the given environment (config is read at load, as in Lambda). */
async function loadHandler(env: Record<string, string> = {}) {
  vi.resetModules();
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  const mod = await import('../functions/enforce.ts');
  return mod.handler as unknown as (event: unknown, ctx: Context) => Promise<any>;
}

const totalCalls = () => kms.calls().length + logs.calls().length;
let output: string[];

function existingKey() {
  kms.on(DescribeKeyCommand).resolves({
    KeyMetadata: {
      KeyId: 'k',
      Arn: KEY_ARN,
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
    },
  });
  kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(defaultKeyPolicy(ctx)) });
}
function group(name: string, kmsKeyId?: string, tags: Record<string, string> = {}) {
  logs.on(DescribeLogGroupsCommand, { logGroupNamePrefix: name }).resolves({
    logGroups: [{ logGroupName: name, ...(kmsKeyId ? { kmsKeyId } : {}) }],
  });
  logs.on(ListTagsForResourceCommand, { resourceArn: groupArn(name) }).resolves({ tags });
}
function groupArn(name: string) {
  return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`;
}

describe('enforce handler', () => {
  beforeEach(() => {
    kms.reset();
    logs.reset();
    output = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    });
    vi.stubEnv('AWS_REGION', REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  // 5 and 3 since issue 19 (were 4 and 2): the group's tags are read right before its association.
  it('encrypts a new group: 5 calls cold, 3 calls warm', async () => {
    // Prepare
    const handler = await loadHandler();
    existingKey();
    group('/ecs/checkout-service');
    group('/aws/lambda/orders-api');
    logs.on(AssociateKmsKeyCommand).resolves({});
    // Act
    const cold = await handler(loadEvent('create-log-group-ecs-cli.json'), context());
    const coldCalls = totalCalls();
    const warm = await handler(loadEvent('create-log-group-lambda.json'), context());
    // Assess
    expect(cold).toMatchObject({
      outcome: 'encrypted',
      logGroupName: '/ecs/checkout-service',
      keyArn: KEY_ARN,
    });
    expect(warm).toMatchObject({ outcome: 'encrypted', logGroupName: '/aws/lambda/orders-api' });
    expect(coldCalls).toBe(5);
    expect(totalCalls() - coldCalls).toBe(3);
    expect(logs.commandCalls(ListTagsForResourceCommand).map((c) => c.args[0].input)).toEqual([
      { resourceArn: groupArn('/ecs/checkout-service') },
      { resourceArn: groupArn('/aws/lambda/orders-api') },
    ]);
    expect(logs.commandCalls(AssociateKmsKeyCommand).map((c) => c.args[0].input)).toEqual([
      { logGroupName: '/ecs/checkout-service', kmsKeyId: KEY_ARN },
      { logGroupName: '/aws/lambda/orders-api', kmsKeyId: KEY_ARN },
    ]);
    const decisions = output.filter((l) => l.includes('"message":"decision"')).map((l) => JSON.parse(l));
    expect(decisions[0]).toMatchObject({
      outcome: 'encrypted',
      eventId: '9e3d7c1b-2a5f-4b8e-8d6c-4f1a0b3e2c79',
      logGroupName: '/ecs/checkout-service',
    });
    expect(output.join('')).toContain('"Encrypted":1');
  });

  it.each([
    [
      'a failed call',
      'create-log-group-failed-already-exists.json',
      'ignored-failed-call',
      'IgnoredFailedCall',
    ],
    ['another API call', 'put-retention-policy.json', 'rejected-input', 'RejectedInput'],
    ['a group tagged to be skipped', 'create-log-group-skip-tag.json', 'out-of-scope', 'OutOfScope'],
    ['an event for another region', 'create-log-group-eu-west-1.json', 'rejected-input', 'RejectedInput'],
  ])('handles %s with zero AWS calls', async (_label, file, outcome, metric) => {
    const handler = await loadHandler();
    const result = await handler(loadEvent(file), context());
    expect(result.outcome).toBe(outcome);
    expect(totalCalls()).toBe(0);
    expect(output.join('')).toContain(`"${metric}":1`);
  });

  // Issue 21 item 1: it was zero calls; the owner's key is now noted on the group (one TagResource), so that a
  // later DisassociateKmsKey (whose record names no key) still records which key the old data needs.
  it('handles a group created with its own key with one call: the owner key noted, nothing else', async () => {
    const handler = await loadHandler();
    const event = loadEvent('create-log-group-with-kms-key.json');
    const result = await handler(event, context());
    expect(result.outcome).toBe('already-encrypted');
    expect(totalCalls()).toBe(1);
    expect(logs.commandCalls(TagResourceCommand).map((c) => c.args[0].input.tags)).toEqual([
      { 'logs-kms-guard:owner-key': event.detail.requestParameters.kmsKeyId },
    ]);
    expect(output.join('')).toContain('"AlreadyEncrypted":1');
  });

  it('rejects an event for another account, taken from the invoked function ARN', async () => {
    const handler = await loadHandler();
    const result = await handler(
      loadEvent('create-log-group-lambda.json'),
      context(60_000, 'arn:aws:lambda:us-east-1:210987654321:function:g'),
    );
    expect(result).toMatchObject({
      outcome: 'rejected-input',
      reason: expect.stringContaining('210987654321'),
    });
    expect(totalCalls()).toBe(0);
  });

  it('excludes by configured pattern with zero calls', async () => {
    const handler = await loadHandler({ EXCLUDE_LOG_GROUPS: '/aws/lambda/orders-*' });
    const result = await handler(loadEvent('create-log-group-lambda.json'), context());
    expect(result).toMatchObject({
      outcome: 'out-of-scope',
      reason: expect.stringContaining('/aws/lambda/orders-*'),
    });
    expect(totalCalls()).toBe(0);
  });

  it('never overrides a key the group got meanwhile', async () => {
    const handler = await loadHandler();
    group('/ecs/checkout-service', 'arn:aws:kms:us-east-1:123456789012:key/other');
    const result = await handler(loadEvent('create-log-group-ecs-cli.json'), context());
    expect(result.outcome).toBe('already-encrypted');
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
  });

  it('replaces another key only when ALLOW_KEY_OVERRIDE is set', async () => {
    const handler = await loadHandler({ ALLOW_KEY_OVERRIDE: 'true' });
    existingKey();
    group('/ecs/checkout-service', 'arn:aws:kms:us-east-1:123456789012:key/other');
    logs.on(AssociateKmsKeyCommand).resolves({});
    const result = await handler(loadEvent('create-log-group-ecs-cli.json'), context());
    expect(result.outcome).toBe('encrypted');
  });

  it('treats a group that is gone as done', async () => {
    const handler = await loadHandler();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: '/ecs/checkout-service-2' }] });
    const result = await handler(loadEvent('create-log-group-ecs-cli.json'), context());
    expect(result.outcome).toBe('group-gone');
    expect(kms.calls()).toHaveLength(0);
  });

  it('treats a group deleted before the association as done', async () => {
    const handler = await loadHandler();
    existingKey();
    group('/ecs/checkout-service');
    logs.on(AssociateKmsKeyCommand).rejects(new ResourceNotFoundException({ ...meta, message: 'gone' }));
    const result = await handler(loadEvent('create-log-group-ecs-cli.json'), context());
    expect(result.outcome).toBe('group-gone');
  });

  it('decides but changes nothing in dry run', async () => {
    const handler = await loadHandler({ DRY_RUN: 'true' });
    existingKey();
    group('/ecs/checkout-service');
    const result = await handler(loadEvent('create-log-group-ecs-cli.json'), context());
    expect(result).toMatchObject({ outcome: 'would-encrypt', keyArn: KEY_ARN });
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
  });

  it('fails loudly on an unsafe key: thrown error, alarm metric, no association', async () => {
    const handler = await loadHandler();
    group('/ecs/checkout-service');
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: { KeyId: 'k', Arn: KEY_ARN, KeyState: 'PendingDeletion', KeySpec: 'SYMMETRIC_DEFAULT' },
    });
    await expect(handler(loadEvent('create-log-group-ecs-cli.json'), context())).rejects.toThrow(
      /PendingDeletion/,
    );
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
    expect(output.join('')).toContain('"UnsafeKeyRefused":1');
    expect(output.join('')).toContain('"Failed":1');
  });

  describe('the opt-out tag as it is at the moment of change (issue 19)', () => {
    it('leaves alone a group tagged with the opt-out tag after its creation event', async () => {
      // Prepare: the event carries no tags; the group has been tagged since
      const handler = await loadHandler();
      existingKey();
      group('/ecs/checkout-service', undefined, { 'logs-kms-guard:skip': 'true' });
      logs.on(AssociateKmsKeyCommand).resolves({});
      // Act
      const result = await handler(loadEvent('create-log-group-ecs-cli.json'), context());
      // Assess
      expect(result).toMatchObject({ outcome: 'out-of-scope', reason: 'tagged logs-kms-guard:skip=true' });
      expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
      expect(output.join('')).toContain('"OutOfScope":1');
    });

    it('leaves alone a group whose sweep work item waited while the group was tagged', async () => {
      // Prepare
      const handler = await loadHandler();
      existingKey();
      group('/legacy/app', undefined, { 'logs-kms-guard:skip': 'yes' });
      logs.on(AssociateKmsKeyCommand).resolves({});
      const item = sweepWorkItem({ name: '/legacy/app', region: REGION, account: ACCOUNT, runId: 'run-1' });
      // Act
      const response = await handler(sqsBatch(item), context());
      // Assess
      expect(response).toEqual({ batchItemFailures: [] });
      expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
      expect(output.join('')).toContain('"OutOfScope":1');
    });

    it('takes the event tags as a shortcut when they already opt out: no tag read', async () => {
      const handler = await loadHandler();
      const result = await handler(loadEvent('create-log-group-skip-tag.json'), context());
      expect(result.outcome).toBe('out-of-scope');
      expect(totalCalls()).toBe(0);
    });

    it('hands the record back, untouched, when the tags cannot be read', async () => {
      // Prepare
      const handler = await loadHandler();
      existingKey();
      group('/ecs/checkout-service');
      logs.on(ListTagsForResourceCommand).rejects(
        new AccessDeniedException({
          ...meta,
          message: 'not authorized to perform: logs:ListTagsForResource',
        }),
      );
      logs.on(AssociateKmsKeyCommand).resolves({});
      // Act
      const response = await handler(sqsBatch(loadEvent('create-log-group-ecs-cli.json')), context());
      // Assess
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
      expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
      expect(output.join('')).toContain('"Failed":1');
    });
  });

  describe('with an SQS batch', () => {
    it('reports only the failed record for retry', async () => {
      // Prepare
      const handler = await loadHandler();
      existingKey();
      group('/ecs/checkout-service');
      group('/aws/lambda/orders-api');
      logs.on(AssociateKmsKeyCommand, { logGroupName: '/ecs/checkout-service' }).resolves({});
      logs.on(AssociateKmsKeyCommand, { logGroupName: '/aws/lambda/orders-api' }).rejects(
        new AccessDeniedException({
          ...meta,
          message: 'User: x is not authorized to perform: logs:AssociateKmsKey',
        }),
      );
      const batch = sqsBatch(
        loadEvent('create-log-group-ecs-cli.json'),
        loadEvent('create-log-group-lambda.json'),
        'not json at all',
        loadEvent('create-log-group-failed-already-exists.json'),
      );
      // Act
      const response = await handler(batch, context());
      // Assess
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    });

    it('accepts the captured SQS batch shape', async () => {
      const handler = await loadHandler();
      existingKey();
      group('/ecs/checkout-service');
      group('/aws/lambda/orders-api');
      logs.on(AssociateKmsKeyCommand).resolves({});
      const response = await handler(loadEvent('sqs-batch-two-events.json'), context());
      expect(response).toEqual({ batchItemFailures: [] });
      expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(2);
    });

    it('hands every record back when the invocation has no time left', async () => {
      const handler = await loadHandler();
      const response = await handler(sqsBatch(loadEvent('create-log-group-ecs-cli.json')), context(1_000));
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
      expect(totalCalls()).toBe(0);
    });
  });

  it('refuses to start with a bad setting, naming the variable', async () => {
    await expect(loadHandler({ KMS_KEY_ARN: 'alias/mine' })).rejects.toThrow(/KMS_KEY_ARN/);
  });
});
