/**
 * AssociateKmsKey with retries (functions/core/associate.ts) against aws-sdk-client-mock on a fake clock:
 * which errors are retried, ended or handed back to the queue, waiting out key propagation, the token bucket,
 * and the backoff schedule (functions/core/retry.ts).
 */
import {
  AccessDeniedException,
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  InvalidParameterException,
  OperationAbortedException,
  ResourceNotFoundException,
  ServiceUnavailableException,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { associateKey, classifyAssociateError } from '../../functions/core/associate.ts';
import { AssociationError, DeadlineExceededError } from '../../functions/core/errors.ts';
import { backoffDelay } from '../../functions/core/retry.ts';
import { TokenBucket } from '../../functions/core/token-bucket.ts';
import { fakeClock, KEY_ARN, memoryLog } from '../helpers.ts';

const meta = { $metadata: {} };
const accessDenied = () =>
  new AccessDeniedException({
    ...meta,
    message: `The specified KMS key does not exist or is not allowed to be used with Arn 'arn:aws:logs:us-east-1:123456789012:log-group:/x'`,
  });
const notFoundKey = () =>
  new InvalidParameterException({ ...meta, message: 'The specified KMS Key Id could not be found.' });
/** AWS's text when CloudWatch Logs' KMS call with the caller's credentials is refused (LZA #768). */
const callerKmsDenied = () =>
  new AccessDeniedException({
    ...meta,
    message:
      'User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: kms:Encrypt on resource: ' +
      `${KEY_ARN} because no identity-based policy allows the kms:Encrypt action`,
  });
const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

const logs = mockClient(CloudWatchLogsClient);
const logsClient = new CloudWatchLogsClient({ region: 'us-east-1' });

/** associateKey of /x with KEY_ARN, the deadline `budgetMs` after `clock`'s now; `extra` adds or overrides. */
const associate = (
  clock: ReturnType<typeof fakeClock>,
  budgetMs: number,
  extra: Partial<Parameters<typeof associateKey>[0]> = {},
) =>
  associateKey({
    logs: logsClient,
    name: '/x',
    keyArn: KEY_ARN,
    deadline: clock.now() + budgetMs,
    log: memoryLog(),
    clock,
    ...extra,
  });

describe('classifyAssociateError', () => {
  it.each([
    [new ResourceNotFoundException({ ...meta, message: 'The specified log group does not exist.' }), 'gone'],
    [accessDenied(), 'propagation'],
    [
      new AccessDeniedException({
        ...meta,
        message: 'User: arn:aws:sts::1:assumed-role/r/f is not authorized to perform: logs:AssociateKmsKey',
      }),
      'permanent',
    ],
    [callerKmsDenied(), 'caller-kms-denied'],
    [notFoundKey(), 'propagation'],
    [
      new InvalidParameterException({
        ...meta,
        message: 'Log groups starting with AWS/ are reserved for AWS',
      }),
      'not-encryptable',
    ],
    [new InvalidParameterException({ ...meta, message: 'The specified KMS key is disabled.' }), 'permanent'],
    [new OperationAbortedException({ ...meta, message: 'conflict' }), 'transient'],
    [throttled(), 'transient'],
    [new ServiceUnavailableException({ ...meta, message: 'down' }), 'transient'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'transient'],
    [Object.assign(new Error('boom'), { name: 'Weird', $metadata: { httpStatusCode: 502 } }), 'transient'],
    [Object.assign(new Error('never seen'), { name: 'BrandNewException' }), 'unknown'],
    ['a string', 'unknown'],
  ])('classifies %s as %s', (err, expected) => {
    expect(classifyAssociateError(err)).toBe(expected);
  });
});

describe('associateKey', () => {
  beforeEach(() => logs.reset());

  it.each([
    [true, 'retries it as propagation and associates', 2],
    [false, 'fails at once: the key policy or IAM does not grant it', 1],
  ])('a refused KMS call with the caller credentials, key just changed = %s: %s', async (fresh, _, calls) => {
    // Prepare
    logs.on(AssociateKmsKeyCommand).rejectsOnce(callerKmsDenied()).resolves({});
    const clock = fakeClock();
    const run = associate(clock, 10_000, { keyJustChanged: fresh });

    // Act / Assess
    if (fresh) await expect(run).resolves.toMatchObject({ outcome: 'associated' });
    else await expect(run).rejects.toThrow(/not authorized to perform: kms:Encrypt/);
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(calls);
  });

  it('associates with the key ARN in one call', async () => {
    // Prepare
    logs.on(AssociateKmsKeyCommand).resolves({});
    const clock = fakeClock();
    // Act
    const result = await associate(clock, 10_000);
    // Assess
    expect(result).toEqual({ outcome: 'associated', attempts: 1 });
    expect(logs.commandCalls(AssociateKmsKeyCommand)[0]?.args[0].input).toEqual({
      logGroupName: '/x',
      kmsKeyId: KEY_ARN,
    });
  });

  it('retries while the key propagates (access denied, then key not found) and succeeds', async () => {
    logs.on(AssociateKmsKeyCommand).rejectsOnce(notFoundKey()).rejectsOnce(accessDenied()).resolves({});
    const clock = fakeClock();
    const result = await associate(clock, 60_000);
    expect(result).toEqual({ outcome: 'associated', attempts: 3 });
    expect(clock.slept).toHaveLength(2);
  });

  it.each([
    ['OperationAbortedException', () => new OperationAbortedException({ ...meta, message: 'busy' })],
    ['ThrottlingException', throttled],
    ['ServiceUnavailableException', () => new ServiceUnavailableException({ ...meta, message: 'down' })],
  ])('retries %s', async (_name, make) => {
    logs.on(AssociateKmsKeyCommand).rejectsOnce(make()).resolves({});
    const clock = fakeClock();
    const result = await associate(clock, 60_000);
    expect(result.attempts).toBe(2);
  });

  it('treats a deleted group as done', async () => {
    logs.on(AssociateKmsKeyCommand).rejects(new ResourceNotFoundException({ ...meta, message: 'gone' }));
    const clock = fakeClock();
    const result = await associate(clock, 60_000);
    expect(result).toEqual({ outcome: 'gone', attempts: 1 });
  });

  it('fails a permanent InvalidParameterException at once', async () => {
    logs
      .on(AssociateKmsKeyCommand)
      .rejects(new InvalidParameterException({ ...meta, message: 'The specified KMS key is not enabled.' }));
    const clock = fakeClock();
    const run = associate(clock, 60_000);
    await expect(run).rejects.toBeInstanceOf(AssociationError);
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(1);
  });

  it('hands back to the queue when propagation outlives the deadline, with the cause attached', async () => {
    logs.on(AssociateKmsKeyCommand).rejects(accessDenied());
    const clock = fakeClock();
    const deadline = clock.now() + 20_000;
    const error = await associateKey({
      logs: logsClient,
      name: '/x',
      keyArn: KEY_ARN,
      deadline,
      log: memoryLog(),
      clock,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.retryable).toBe(true);
    expect(error.cause.name).toBe('AccessDeniedException');
    expect(clock.now()).toBeLessThan(deadline);
  });

  it('names the last answer when the deadline cuts the final call short, not the abort', async () => {
    // Prepare: a 503, then a call that hangs until the deadline's signal aborts it (as a stalled connection).
    // A hand-made client: aws-sdk-client-mock does not pass the send options (the abort signal) to a fake.
    let calls = 0;
    const hanging = {
      send: (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
        calls++;
        if (calls === 1) return Promise.reject(new ServiceUnavailableException({ ...meta, message: 'busy' }));
        return new Promise((_, reject) =>
          options?.abortSignal?.addEventListener('abort', () =>
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
          ),
        );
      },
    } as unknown as CloudWatchLogsClient;

    // Act: the real clock, so the signal's timer and the deadline agree
    const error = await associateKey({
      logs: hanging,
      name: '/x',
      keyArn: KEY_ARN,
      deadline: Date.now() + 200,
      log: memoryLog(),
      backoff: { baseMs: 1, maxMs: 1 },
    }).catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.message).toMatch(/cut off; before it ServiceUnavailableException\) after 2 attempt/);
    expect(error.cause.name).toBe('AbortError');
  });

  it('re-checks the key policy once when Logs keeps refusing', async () => {
    logs.on(AssociateKmsKeyCommand).rejects(accessDenied());
    const clock = fakeClock();
    let stalls = 0;
    await associateKey({
      logs: logsClient,
      name: '/x',
      keyArn: KEY_ARN,
      deadline: clock.now() + 120_000,
      log: memoryLog(),
      clock,
      stallAfter: 3,
      onPropagationStall: async () => {
        stalls++;
      },
    }).catch(() => undefined);
    expect(stalls).toBe(1);
  });

  it('gives up on an error it has never seen after a bounded number of attempts, never succeeding silently', async () => {
    logs.on(AssociateKmsKeyCommand).rejects(Object.assign(new Error('???'), { name: 'BrandNewException' }));
    const clock = fakeClock();
    const error = await associate(clock, 600_000).catch((e) => e);
    expect(error).toBeInstanceOf(AssociationError);
    expect(error.message).toContain('BrandNewException');
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(3);
  });

  it('waits for a token from the bucket before each call', async () => {
    logs.on(AssociateKmsKeyCommand).resolves({});
    const clock = fakeClock();
    const bucket = new TokenBucket(5, 1, clock);
    for (let i = 0; i < 6; i++) {
      await associate(clock, 60_000, { name: `/x${i}`, bucket });
    }
    // 6 calls at 5 per second with a burst of 1: 5 waits of 200 ms.
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeCloseTo(1000, 5);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially to the cap and jitters within [ceiling/2, ceiling]', () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(1, { ...o, random: () => 0 })).toBe(50);
    expect(backoffDelay(3, { ...o, random: () => 1 })).toBe(400);
    expect(backoffDelay(20, { ...o, random: () => 1 })).toBe(1000);
  });
});
