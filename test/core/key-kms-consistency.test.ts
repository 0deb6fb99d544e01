/**
 * KMS as it really behaves, for the guard key step (functions/core/key.ts, key-create.ts, kms-limits.ts) against
 * aws-sdk-client-mock on a fake clock: NotFound on a key created moments ago (eventual consistency) is retried,
 * a key that cannot be retired is kept and retried instead of forgotten, and the resource limits (32 KB key
 * policy, 50 aliases per key) fail at once with a permanent KeyPolicyError instead of being retried.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  type KeyMetadata,
  KMSClient,
  NotFoundException,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/core/config.ts';
import { KeyPolicyError } from '../../functions/core/errors.ts';
import { createKeyCache, ensureKey } from '../../functions/core/key.ts';
import { keyCreator } from '../../functions/core/key-create.ts';
import { KEY_POLICY_MAX_BYTES, policySizeProblem } from '../../functions/core/kms-limits.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { isTransient } from '../../functions/core/retry.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { fakeClock, KEY_ARN, KEY_ID, memoryLog } from '../helpers.ts';

const kms = mockClient(KMSClient);
const clients = {
  kms: new KMSClient({ region: REGION }),
  logs: new CloudWatchLogsClient({ region: REGION }),
};
const ctx = { partition: 'aws' as const, region: REGION, account: ACCOUNT };
const meta = { $metadata: {} };
const notFound = () => new NotFoundException({ ...meta, message: `Key '${KEY_ARN}' does not exist` });
const limit = () => Object.assign(new Error('limit'), { name: 'LimitExceededException', $metadata: {} });
const metadata: KeyMetadata = {
  KeyId: KEY_ID,
  Arn: KEY_ARN,
  KeyState: 'Enabled',
  KeySpec: 'SYMMETRIC_DEFAULT',
  KeyUsage: 'ENCRYPT_DECRYPT',
};
const options = (clock = fakeClock()) => ({
  clients,
  config: loadConfig({}),
  ctx,
  log: memoryLog(),
  clock,
  cache: createKeyCache(),
  deadline: clock.now() + 60_000,
  // Key creation (key-create.ts), as the changes function and the CLI run it: the enforce function creates none.
  creator: keyCreator,
});

/** A policy just under 32 KB (32,572 bytes) with a large foreign statement: the guard's merge puts it over. */
function bigPolicy(): string {
  const foreign = {
    Sid: 'Auditors',
    Effect: 'Allow',
    Principal: {
      AWS: Array.from({ length: 720 }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/auditor-${i}`),
    },
    Action: 'kms:DescribeKey',
    Resource: '*',
  };
  return JSON.stringify({ Version: '2012-10-17', Statement: [defaultKeyPolicy(ctx).Statement[0], foreign] });
}

describe('a key created moments ago (KMS eventual consistency)', () => {
  beforeEach(() => kms.reset());

  it('retries CreateAlias that answers NotFound for the new key, and keeps the key', async () => {
    // Prepare: no guard key; the new key is not found by the first two CreateAlias calls
    kms.on(DescribeKeyCommand).rejects(notFound());
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: metadata });
    kms.on(CreateAliasCommand).rejectsOnce(notFound()).rejectsOnce(notFound()).resolves({});
    kms.on(PutKeyPolicyCommand).resolves({});
    kms.on(EnableKeyRotationCommand).resolves({});
    kms.on(TagResourceCommand).resolves({});
    const alerts: string[] = [];

    // Act
    const key = await ensureKey({ ...options(), alert: (m) => alerts.push(m) });

    // Assess
    expect(key).toMatchObject({ arn: KEY_ARN, own: true });
    expect(kms.commandCalls(CreateAliasCommand)).toHaveLength(3);
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    expect(alerts).toEqual([]);
  });

  it('retries housekeeping calls that answer NotFound for the new key', async () => {
    kms.on(DescribeKeyCommand).rejects(notFound());
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: metadata });
    kms.on(CreateAliasCommand).resolves({});
    kms.on(PutKeyPolicyCommand).resolves({});
    kms.on(EnableKeyRotationCommand).rejectsOnce(notFound()).resolves({});
    kms.on(TagResourceCommand).rejectsOnce(notFound()).resolves({});
    const alerts: string[] = [];

    await ensureKey({ ...options(), alert: (m) => alerts.push(m) });

    expect(kms.commandCalls(EnableKeyRotationCommand)).toHaveLength(2);
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(2);
    expect(alerts).toEqual([]);
  });

  it('never forgets a key it could not retire: counted, then retired on the next lookup', async () => {
    // Prepare: the alias never takes (NotFound to the end of the budget), ScheduleKeyDeletion too at first
    kms.on(DescribeKeyCommand).rejects(notFound());
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: metadata });
    kms.on(CreateAliasCommand).rejects(notFound());
    kms.on(ScheduleKeyDeletionCommand).rejects(notFound());
    const o = options();
    const alerts: string[] = [];

    // Act 1: the record fails; the key is still live and kept as an orphan of this container
    await expect(ensureKey({ ...o, alert: (m) => alerts.push(m) })).rejects.toThrow(/does not exist/);

    // Assess 1
    expect(alerts).toEqual(['KeyHousekeepingFailed']);
    expect([...(o.cache.orphans ?? [])]).toEqual([KEY_ID]);
    expect(o.log.lines.some((l) => l.level === 'error' && /retried on the next lookup/.test(l.message))).toBe(
      true,
    );

    // Act 2: KMS now finds the key; the next lookup retires it before anything else
    kms.on(ScheduleKeyDeletionCommand).resolves({});
    kms.on(CreateAliasCommand).resolves({});
    kms.on(PutKeyPolicyCommand).resolves({});
    kms.on(EnableKeyRotationCommand).resolves({});
    kms.on(TagResourceCommand).resolves({});
    o.clock.advance(60_000);
    await ensureKey({ ...o, deadline: o.clock.now() + 60_000 });

    // Assess 2
    const retired = kms.commandCalls(ScheduleKeyDeletionCommand).at(-1)?.args[0].input;
    expect(retired?.KeyId).toBe(KEY_ID);
    expect(o.cache.orphans?.size).toBe(0);
  });
});

describe('KMS resource limits', () => {
  beforeEach(() => kms.reset());

  it('refuses a merged policy over 32 KB at once, before PutKeyPolicy, naming the size and the limit', async () => {
    // Prepare
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: bigPolicy() });
    const clock = fakeClock();
    const started = clock.now();

    // Act
    const error = await ensureKey(options(clock)).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(KeyPolicyError);
    expect((error as KeyPolicyError).permanent).toBe(true);
    expect((error as Error).message).toMatch(
      /would be \d+ bytes, over KMS's key policy limit of 32768 bytes/,
    );
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
    expect(kms.commandCalls(GetKeyPolicyCommand)).toHaveLength(1);
    expect(clock.now()).toBe(started);
  });

  it('turns LimitExceededException from PutKeyPolicy into a permanent KeyPolicyError, without retrying', async () => {
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata });
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [defaultKeyPolicy(ctx).Statement[0]] }),
    });
    kms.on(PutKeyPolicyCommand).rejects(limit());

    const error = await ensureKey(options()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KeyPolicyError);
    expect((error as KeyPolicyError).permanent).toBe(true);
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(1);
  });

  it('turns LimitExceededException from CreateAlias (50 aliases per key) into a permanent KeyPolicyError', async () => {
    kms.on(DescribeKeyCommand).rejects(notFound());
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: metadata });
    kms.on(CreateAliasCommand).rejects(limit());
    kms.on(ScheduleKeyDeletionCommand).resolves({});

    const error = await ensureKey(options()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KeyPolicyError);
    expect((error as Error).message).toMatch(/50 aliases/);
    expect(kms.commandCalls(CreateAliasCommand)).toHaveLength(1);
    // the new key does not hold the alias: retired, not left live
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(1);
  });

  it('policySizeProblem: none at the limit, a permanent KeyPolicyError one byte over', () => {
    expect(policySizeProblem('x'.repeat(KEY_POLICY_MAX_BYTES), KEY_ARN)).toBeUndefined();
    const over = policySizeProblem('x'.repeat(KEY_POLICY_MAX_BYTES + 1), KEY_ARN);
    expect(over).toBeInstanceOf(KeyPolicyError);
    expect(over?.permanent).toBe(true);
    expect(over?.message).toContain(`${KEY_POLICY_MAX_BYTES + 1} bytes`);
  });

  it('LimitExceededException is not transient (a resource quota); throttling still is', () => {
    expect(isTransient({ name: 'LimitExceededException' })).toBe(false);
    expect(isTransient({ name: 'ThrottlingException' })).toBe(true);
  });
});
