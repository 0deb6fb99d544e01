/**
 * Reliability suite, in a local world (local/world.ts, IAM on): answers injected with the emulator's
 * intercept hook into the calls of dist/enforce.mjs containers, and hung connections to handleEvent
 * (functions/core/handle.ts) under the production client settings.
 *
 * Promise: answers from AWS the guard has never seen (unknown exception names, malformed responses,
 * hung connections) lead to bounded retries and then a clear failure: a failed record that ends in the
 * DLQ, never a group reported encrypted that is not, never a silent acknowledgement.
 */
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { associateKey } from '../../functions/core/associate.ts';
import { CLIENT_SETTINGS, clientsFor } from '../../functions/core/clients.ts';
import { loadConfig } from '../../functions/core/config.ts';
import { handleEvent } from '../../functions/core/handle.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import type { Emulator, InterceptedRequest, Interception } from '../../local/emulator/emulator.ts';
import {
  ACCOUNT,
  GUARD_ALIAS,
  GUARD_TAGS,
  REGION,
  retryAborted,
  startWorld,
  type World,
} from '../../local/world.ts';
import { captureOutput, memoryLog, sleep } from '../helpers.ts';
import { FULL, figures, guardKeyPolicy } from './rig.ts';

const MAX_RECEIVES = 2;
const ctx = { partition: 'aws' as const, region: REGION, account: ACCOUNT };

let world: World;
let emulator: Emulator;
let intercept: ((r: InterceptedRequest) => Interception | undefined) | undefined;
let feed: ((event: unknown) => void) | undefined;
const lines: string[] = [];

beforeAll(async () => {
  world = await startWorld({
    iam: true,
    emulator: { timeScale: 20, propagationDelayMs: 0, intercept: (r) => intercept?.(r) },
  });
  emulator = world.emulator;
  world.onDelivered((e) => feed?.(e)); // what the template's rules send to the queue
  // The guard key exists and Logs can use it: only the injected answer can stand in the way.
  await world.createGuardKey({ policy: guardKeyPolicy(emulator, REGION), tags: GUARD_TAGS });
});
afterAll(async () => {
  figures(`unknown errors: ${lines.join('; ')}`);
  await emulator?.stop();
});

/** One CreateLogGroup event through fresh enforce containers while `answer` replaces `operation`'s answers. */
async function runCase(label: string, operation: string, answer: Interception, budgetMs = 5_000) {
  const output = captureOutput();
  const name = `/unknown-errors/${label}`;
  const pipeline = world.pipeline({
    concurrency: 1,
    batchSize: 1,
    timeoutMs: budgetMs,
    visibilityTimeoutMs: 50,
    maxReceiveCount: MAX_RECEIVES,
    env: {
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ASSOCIATE_RATE: '100',
      KMS_KEY_ARN: '',
      EXCLUDE_LOG_GROUPS: '',
      KEY_CACHE_TTL_SECONDS: '0',
    },
  });
  let delivered = false;
  feed = (e) => {
    delivered = true;
    pipeline.send(e);
  };
  await pipeline.start();
  await retryAborted(() => world.logs.send(new CreateLogGroupCommand({ logGroupName: name })));
  while (!delivered) await sleep(5);
  const before = emulator.calls.length;
  intercept = (r) => (r.operation === operation ? answer : undefined);
  const drained = await pipeline.drain(budgetMs * (MAX_RECEIVES + 2) + 60_000);
  intercept = undefined;
  await pipeline.stop();
  output.restore();
  const calls = emulator.calls.slice(before);
  const decisions = output.decisions();
  return {
    drained,
    group: emulator.state.logGroup(REGION, name),
    dlq: pipeline.dlq.length,
    decisions,
    attempts: calls.filter((c) => c.operation === operation).length,
    calls,
    metrics: output.metrics(),
  };
}

const GARBLED = '{"logGroups": [{"logGroupName": ';
const cases: {
  label: string;
  operation: string;
  answer: Interception;
  reason: RegExp;
  /** Calls of the operation per receive: exact when the guard counts them, else an upper bound. */
  perReceive: number | { max: number };
}[] = [
  {
    label: 'associate-unknown-400',
    operation: 'AssociateKmsKey',
    answer: { kind: 'error', name: 'FrobnicationException', message: 'never seen before' },
    reason: /AssociationError: .*unexpected FrobnicationException 3 times/,
    perReceive: 3, // the guard's own limit for errors it has never seen; the SDK does not retry a 400
  },
  {
    label: 'associate-unknown-500',
    operation: 'AssociateKmsKey',
    answer: { kind: 'error', name: 'FrobnicationException', message: 'never seen before', status: 500 },
    reason: /DeadlineExceededError: .*FrobnicationException/,
    perReceive: { max: 30 }, // a 5xx is transient: retried (3 SDK attempts each) until the deadline
  },
  {
    label: 'associate-malformed-200',
    operation: 'AssociateKmsKey',
    answer: { kind: 'raw', body: GARBLED },
    reason: /AssociationError: .*unexpected SyntaxError 3 times/,
    perReceive: 3,
  },
  {
    label: 'associate-html-502',
    operation: 'AssociateKmsKey',
    answer: { kind: 'raw', status: 502, body: '<html>Bad Gateway</html>', contentType: 'text/html' },
    reason: /DeadlineExceededError: .*SyntaxError/,
    perReceive: { max: 30 },
  },
  {
    label: 'describe-groups-malformed',
    operation: 'DescribeLogGroups',
    answer: { kind: 'raw', body: GARBLED },
    reason: /SyntaxError/,
    perReceive: 1,
  },
  {
    label: 'describe-key-unknown-400',
    operation: 'DescribeKey',
    answer: { kind: 'error', name: 'FrobnicationException', message: 'never seen before' },
    reason: /FrobnicationException: never seen before/,
    perReceive: 1,
  },
  {
    label: 'get-key-policy-garbled-answer',
    operation: 'GetKeyPolicy',
    answer: { kind: 'raw', body: GARBLED },
    reason: /SyntaxError/,
    perReceive: 1,
  },
  {
    label: 'get-key-policy-garbled-policy',
    operation: 'GetKeyPolicy',
    answer: { kind: 'raw', body: JSON.stringify({ Policy: '{"Statement": [', PolicyName: 'default' }) },
    reason: /KeyPolicyError: .*cannot be read/,
    perReceive: 1,
  },
];

describe('errors the guard has never seen, through the enforce bundle', () => {
  it.each(cases)(
    '$label: bounded retries, a failed record in the DLQ, never reported encrypted',
    async (c) => {
      // Act
      const run = await runCase(c.label, c.operation, c.answer);

      // Assess
      expect(run.drained).toBe(true);
      expect(run.group?.kmsKeyId).toBeUndefined();
      expect(run.decisions.map((d) => d.outcome)).toEqual(Array(MAX_RECEIVES).fill('failed'));
      for (const d of run.decisions) expect(d.reason).toMatch(c.reason);
      expect(run.dlq).toBe(1);
      expect(run.metrics.Failed).toBe(MAX_RECEIVES);
      expect(run.metrics.Encrypted ?? 0).toBe(0);
      if (typeof c.perReceive === 'number') expect(run.attempts).toBe(c.perReceive * MAX_RECEIVES);
      else {
        expect(run.attempts).toBeGreaterThan(MAX_RECEIVES);
        expect(run.attempts).toBeLessThanOrEqual(c.perReceive.max * MAX_RECEIVES);
      }
      // No key was created or changed because of a strange answer.
      expect(
        run.calls.filter((call) => /CreateKey|PutKeyPolicy|ScheduleKeyDeletion/.test(call.operation)),
      ).toEqual([]);
      lines.push(
        `${c.label}: ${run.attempts} ${c.operation} calls over ${MAX_RECEIVES} receives, failed, DLQ ${run.dlq}`,
      );
    },
    120_000,
  );

  it('an association AWS made but answered with garbage: not claimed, then confirmed by the next delivery', async () => {
    // Act
    const run = await runCase('associate-applied-garbled', 'AssociateKmsKey', {
      kind: 'raw',
      body: GARBLED,
      applied: true,
    });

    // Assess: first receive fails (the guard did not see a success), the second finds the key in place.
    expect(run.drained).toBe(true);
    expect(run.decisions.map((d) => d.outcome)).toEqual(['failed', 'already-encrypted']);
    expect(run.group?.kmsKeyId).toBe(emulator.state.key(REGION, GUARD_ALIAS)?.arn);
    expect(run.dlq).toBe(0);
    expect(run.metrics.Encrypted ?? 0).toBe(0);
    lines.push('associate applied but garbled: failed, then already-encrypted on redelivery, DLQ 0');
  }, 60_000);

  // A well-formed JSON answer of the wrong shape (`logGroups` not a list) must not read as "the group is gone".
  it('a DescribeLogGroups answer of the wrong shape is a failure, not "group gone"', async () => {
    // Act
    const run = await runCase('describe-groups-wrong-shape', 'DescribeLogGroups', {
      kind: 'raw',
      body: '{"logGroups": "not a list"}',
    });

    // Assess
    lines.push(`describe wrong shape: ${run.decisions.map((d) => d.outcome).join(', ')} DLQ ${run.dlq}`);
    expect(run.decisions.map((d) => d.outcome)).toEqual(Array(MAX_RECEIVES).fill('failed'));
    expect(run.dlq).toBe(1);
  }, 60_000);
});

describe('a hung connection', () => {
  it('the SDK clients give up on a request that never answers (throwOnRequestTimeout)', () => {
    // Without throwOnRequestTimeout, @smithy/node-http-handler only logs a warning when requestTimeout
    // passes and keeps waiting: a hung call would hold the invocation until the Lambda timeout.
    expect(CLIENT_SETTINGS.requestHandler.throwOnRequestTimeout).toBe(true);
    expect(CLIENT_SETTINGS.requestHandler.requestTimeout).toBeGreaterThan(0);
    expect(CLIENT_SETTINGS.maxAttempts).toBeLessThanOrEqual(3);
  });

  it('AssociateKmsKey that never answers: TimeoutError, retried until the deadline, then a failed record', async () => {
    // Prepare: the production client settings with a short request timeout, against a hanging emulator
    clearKeyCache();
    const config = loadConfig({ ASSOCIATE_RATE: '100' });
    const settings = {
      ...CLIENT_SETTINGS,
      requestHandler: { ...CLIENT_SETTINGS.requestHandler, requestTimeout: 300 },
    };
    const clients = world.clients(REGION, settings);
    const name = '/unknown-errors/hang-core';
    emulator.state.putLogGroup(REGION, name);
    const event = {
      version: '0',
      id: 'hang-core',
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.logs',
      account: ctx.account,
      time: new Date().toISOString(),
      region: REGION,
      resources: [],
      detail: {
        eventSource: 'logs.amazonaws.com',
        eventName: 'CreateLogGroup',
        awsRegion: REGION,
        requestParameters: { logGroupName: name },
        recipientAccountId: ctx.account,
      },
    };
    const before = emulator.calls.length;
    intercept = (r) => (r.operation === 'AssociateKmsKey' ? { kind: 'hang' } : undefined);

    // Act
    const handled = await handleEvent(event, {
      config,
      log: memoryLog(),
      home: { account: ctx.account, region: REGION },
      clientsFor: () => clients,
      deadline: Date.now() + 3_000,
    }).finally(() => {
      intercept = undefined;
    });

    // Assess
    const attempts = emulator.calls.slice(before).filter((c) => c.operation === 'AssociateKmsKey').length;
    lines.push(
      `hung AssociateKmsKey (300 ms request timeout, 3 s budget): ${attempts} calls, ${handled.outcome} (${handled.error?.name})`,
    );
    expect(handled.outcome).toBe('failed');
    expect(handled.retry).toBe(true);
    // The SDK's request timeout (TimeoutError), or the guard's own cut-off at the deadline (AbortError).
    expect(handled.reason).toMatch(/TimeoutError|AbortError/);
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(30);
    expect(emulator.state.logGroup(REGION, name)?.kmsKeyId).toBeUndefined();
  }, 60_000);

  it('a call still hanging at the deadline is cut off there, not at the SDK request timeout', async () => {
    // Prepare: the production 10 s request timeout, and a budget of 1.5 s
    const { logs } = world.clients(REGION, CLIENT_SETTINGS);
    const name = '/unknown-errors/hang-cutoff';
    emulator.state.putLogGroup(REGION, name);
    intercept = (r) => (r.operation === 'AssociateKmsKey' ? { kind: 'hang' } : undefined);
    // Act
    const error = await associateKey({
      logs,
      name,
      keyArn: `arn:aws:kms:${REGION}:${ctx.account}:key/00000000-0000-0000-0000-000000000000`,
      deadline: Date.now() + 1_500,
      log: memoryLog(),
    })
      .then(
        () => undefined,
        (err: Error) => err,
      )
      .finally(() => {
        intercept = undefined;
      });
    // Assess: without the cut-off the first attempt would only end after the 10 s request timeout, past this
    // test's own 5 s limit; with it, one attempt, ended by the deadline, handed back to the queue.
    expect(error?.name).toBe('DeadlineExceededError');
    expect((error?.cause as Error | undefined)?.name).toBe('AbortError');
  }, 5_000);

  it.runIf(FULL)(
    'through the bundle with the real 10 s request timeout: a failed record, never a hung or silent one',
    async () => {
      // Act: 45 s invocations; each guard attempt costs up to 3 SDK attempts x 10 s
      const run = await runCase('hang-bundle', 'AssociateKmsKey', { kind: 'hang' }, 45_000);

      // Assess: every receive failed and the record is in the DLQ. The SDK's request timeout ends a hung
      // call (TimeoutError), or the guard's abort signal does at the invocation's deadline (AbortError), so
      // every invocation writes its decision line before its timeout.
      lines.push(
        `hung AssociateKmsKey through the bundle (10 s request timeout x 3 SDK attempts, 45 s invocations): ` +
          `${run.attempts} calls over ${MAX_RECEIVES} receives, ${run.decisions.length} decision line(s) ` +
          `(${run.decisions.map((d) => d.errorName).join(', ')}), DLQ ${run.dlq}`,
      );
      expect(run.drained).toBe(true);
      expect(run.group?.kmsKeyId).toBeUndefined();
      expect(run.dlq).toBe(1);
      for (const d of run.decisions) {
        expect(d.outcome).toBe('failed');
        expect(d.reason).toMatch(/TimeoutError|AbortError/);
      }
      expect(run.metrics.Encrypted ?? 0).toBe(0);
      // Bounded: about 2 guard attempts x 3 SDK attempts per 45 s invocation (plus an overrun into the next).
      expect(run.attempts).toBeLessThanOrEqual(MAX_RECEIVES * 9);
    },
    400_000,
  );
});

// clientsFor is what the functions use: make sure it carries the settings checked above.
describe('clientsFor', () => {
  it('builds the clients from CLIENT_SETTINGS', async () => {
    const { logs } = clientsFor('eu-south-2');
    expect(await logs.config.maxAttempts()).toBe(CLIENT_SETTINGS.maxAttempts);
  });
});
