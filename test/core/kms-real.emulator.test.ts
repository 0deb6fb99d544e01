/**
 * KMS as it really behaves, end to end through handleSqsBatch (functions/core/handle.ts) and the real SDK
 * against the emulator: a new key (created by the changes function's key check) that KMS does not find for a
 * moment after CreateKey (eventual consistency, boto/botocore#2107), a merged key policy over KMS's 32 KB limit (refused at once, the record not re-queued),
 * the 50-aliases-per-key quota, and GetKeyRotationStatus on a key pending deletion.
 */
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  GetKeyRotationStatusCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keyCheckItem, parseChangeEvent } from '../../functions/core/change-event.ts';
import { loadConfig } from '../../functions/core/config.ts';
import { handleEvent, handleSqsBatch } from '../../functions/core/handle.ts';
import { handleChangeEvent } from '../../functions/core/handle-change.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { keyCreator } from '../../functions/core/key-create.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { ACCOUNT, GUARD_ALIAS, REGION, startWorld, type World } from '../../local/world.ts';
import { memoryLog } from '../helpers.ts';

const ctx = { partition: 'aws' as const, region: REGION, account: ACCOUNT };
const HIDDEN_MS = 1_500;
let world: World;

beforeAll(async () => {
  world = await startWorld({
    emulator: { propagationDelayMs: 100, kmsNewKeyHiddenMs: HIDDEN_MS, throttle: false },
  });
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => clearKeyCache());

/** An SQS record carrying the CloudTrail CreateLogGroup event of `name`, as the queue delivers it. */
function record(name: string): SQSRecord {
  const event = {
    version: '0',
    id: `evt-${name}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.logs',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [],
    detail: {
      eventSource: 'logs.amazonaws.com',
      eventName: 'CreateLogGroup',
      awsRegion: REGION,
      requestParameters: { logGroupName: name },
      recipientAccountId: ACCOUNT,
    },
  };
  return { messageId: `m-${name}`, body: JSON.stringify(event) } as SQSRecord;
}

/** Handles one record in-process as the enforce function does; answers the batch response and the log. */
async function handle(name: string, env: Record<string, string> = {}) {
  const log = memoryLog();
  const alerts: string[] = [];
  const response = await handleSqsBatch(
    [record(name)],
    {
      config: loadConfig(env),
      log,
      home: { account: ACCOUNT, region: REGION },
      clientsFor: () => world.clients(),
      deadline: Date.now() + 25_000,
      alert: (m) => alerts.push(m),
    },
    1,
  );
  return { response, log, alerts };
}

/**
 * A guard key check handled in-process as the changes function does (its parser, change handling and the key
 * creator): the only event path that creates the guard key. Answers the decision and the alarmed metrics.
 */
async function keyCheck() {
  const alerts: string[] = [];
  const decision = await handleEvent(keyCheckItem({ region: REGION, account: ACCOUNT, id: 'check-1' }), {
    config: loadConfig({}),
    log: memoryLog(),
    home: { account: ACCOUNT, region: REGION },
    clientsFor: () => world.clients(),
    deadline: Date.now() + 25_000,
    alert: (m) => alerts.push(m),
    parse: parseChangeEvent,
    onChange: handleChangeEvent,
    keyCreator,
  });
  return { ...decision, alerts };
}

describe('KMS answering NotFound right after CreateKey', () => {
  it('creates the key, waits out the NotFound window, and encrypts the group with no orphan left', async () => {
    // Prepare: no guard key yet; a new key is not found by other calls for HIDDEN_MS
    const name = '/kms-real/first-group';
    await world.logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    const before = world.emulator.calls.length;

    // Act 1: the changes function's key check creates the key (the enforce function creates none: key-create.ts)
    const check = await keyCheck();
    const created = world.emulator.calls.slice(before);
    // Act 2: the enforce function, in its own container (own key cache), encrypts the group with that key
    clearKeyCache();
    const { response, alerts } = await handle(name);

    // Assess: CreateAlias met NotFound first, was retried, and won; one live key, behind the alias
    const calls = world.emulator.calls.slice(before);
    const aliasCalls = created.filter((c) => c.operation === 'CreateAlias');
    expect(check.outcome).toBe('key-created');
    expect(aliasCalls[0]?.error).toBe('NotFoundException');
    expect(aliasCalls.at(-1)?.error).toBeUndefined();
    expect(calls.filter((c) => c.operation === 'ScheduleKeyDeletion')).toEqual([]);
    expect(calls.filter((c) => c.operation === 'CreateKey')).toHaveLength(1);
    expect(response.batchItemFailures).toEqual([]);
    expect([...check.alerts, ...alerts]).toEqual([]);
    const keys = world.emulator.state.keys(REGION).filter((k) => k.state === 'Enabled');
    expect(keys).toHaveLength(1);
    expect(check.keyArn).toBe(keys[0]?.arn);
    expect(world.emulator.state.key(REGION, GUARD_ALIAS)?.arn).toBe(keys[0]?.arn);
    expect(world.emulator.state.logGroup(REGION, name)?.kmsKeyId).toBe(keys[0]?.arn);
  }, 60_000);
});

describe('KMS resource limits', () => {
  it('the emulator refuses a key policy over 32 KB and a 51st alias with LimitExceededException', async () => {
    const key = world.emulator.state.createKeyDirect(REGION, {});
    const huge = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ ...defaultKeyPolicy(ctx).Statement[0], Sid: 'x'.repeat(33_000) }],
    });
    await expect(
      world.kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy: huge })),
    ).rejects.toMatchObject({ name: 'LimitExceededException' });
    for (let i = 0; i < 50; i++) {
      await world.kms.send(new CreateAliasCommand({ AliasName: `alias/many-${i}`, TargetKeyId: key.keyId }));
    }
    await expect(
      world.kms.send(new CreateAliasCommand({ AliasName: 'alias/many-50', TargetKeyId: key.keyId })),
    ).rejects.toMatchObject({ name: 'LimitExceededException' });
  });

  it('an oversized merged policy fails the record at once with KeyPolicyError, not re-queued, no PutKeyPolicy', async () => {
    // Prepare: the guard key behind its alias, its policy just under 32 KB without the Logs statement
    const foreign = {
      Sid: 'Auditors',
      Effect: 'Allow',
      Principal: { AWS: Array.from({ length: 720 }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/auditor-${i}`) },
      Action: 'kms:DescribeKey',
      Resource: '*',
    };
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Id: 'logs-kms-guard',
      Statement: [defaultKeyPolicy(ctx).Statement[0], foreign],
    });
    const big = await startWorld({ emulator: { propagationDelayMs: 100 } });
    try {
      await big.createGuardKey({ policy });
      const name = '/kms-real/oversized';
      await big.logs.send(new CreateLogGroupCommand({ logGroupName: name }));
      const before = big.emulator.calls.length;
      const started = Date.now();
      const saved = world;
      world = big;
      let outcome: Awaited<ReturnType<typeof handle>>;
      try {
        outcome = await handle(name);
      } finally {
        world = saved;
      }

      // Assess
      const calls = big.emulator.calls.slice(before);
      expect(calls.filter((c) => c.operation === 'PutKeyPolicy')).toEqual([]);
      expect(calls.filter((c) => c.operation === 'GetKeyPolicy')).toHaveLength(1);
      expect(outcome.response.batchItemFailures).toEqual([]); // not delivered again: no DLQ churn
      const decision = outcome.log.lines.find((l) => l.message === 'decision');
      expect(decision?.extra).toMatchObject({
        outcome: 'failed',
        errorName: 'KeyPolicyError',
        unsafeKey: true,
      });
      expect(String(decision?.extra?.reason)).toMatch(/over KMS's key policy limit of 32768 bytes/);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(big.emulator.state.logGroup(REGION, name)?.kmsKeyId).toBeUndefined();
    } finally {
      await big.stop();
    }
  }, 60_000);
});

describe('GetKeyRotationStatus on a key pending deletion', () => {
  it('answers rotation off (not an error), and the original status after the deletion is cancelled', async () => {
    const key = world.emulator.state.createKeyDirect(REGION, { rotation: true });
    await world.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 }));
    const pending = await world.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.keyId }));
    await world.kms.send(new CancelKeyDeletionCommand({ KeyId: key.keyId }));
    const cancelled = await world.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.keyId }));
    expect(pending.KeyRotationEnabled).toBe(false);
    expect(cancelled.KeyRotationEnabled).toBe(true);
  });
});
