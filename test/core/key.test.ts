/**
 * Finding, creating and repairing the guard key (functions/core/key.ts ensureKey) against aws-sdk-client-mock
 * on a fake clock: the cache, policy merge, the create race (a small stateful KMS fake makes CreateAlias
 * atomic), retiring the losing key, throttling, unsafe and configured keys, dry run. Creation is
 * functions/core/key-create.ts `keyCreator`, passed as the `creator` option (the changes function and the CLI);
 * without it (the enforce function) a missing key is a retryable GuardKeyMissingError.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  AlreadyExistsException,
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
import { GuardKeyMissingError, KeyPolicyError, UnsafeKeyError } from '../../functions/core/errors.ts';
import { clearKeyCache, createKeyCache, ensureKey } from '../../functions/core/key.ts';
import { keyCreator } from '../../functions/core/key-create.ts';
import {
  defaultKeyPolicy,
  GUARD_RETIRE_SID,
  LOGS_STATEMENT_SID,
  parsePolicy,
} from '../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { fakeClock, KEY_ARN, KEY_ID, memoryLog } from '../helpers.ts';

const kms = mockClient(KMSClient);
const clients = {
  kms: new KMSClient({ region: REGION }),
  logs: new CloudWatchLogsClient({ region: REGION }),
};
const ctx = { partition: 'aws' as const, region: REGION, account: ACCOUNT };
const ROLE = `arn:aws:iam::${ACCOUNT}:role/logs-kms-guard-prod-us-east-1-EnforceRole`;
const roleCtx = { ...ctx, guardRoles: [ROLE] };
const meta = { $metadata: {} };
const metadata = (over: Partial<KeyMetadata> = {}): KeyMetadata => ({
  KeyId: KEY_ID,
  Arn: KEY_ARN,
  KeyState: 'Enabled',
  KeySpec: 'SYMMETRIC_DEFAULT',
  KeyUsage: 'ENCRYPT_DECRYPT',
  ...over,
});
const rootOnlyPolicy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [defaultKeyPolicy(ctx).Statement[0]],
});
/**
 * The key steps as the changes function and the CLI run them: with `keyCreator`, a missing key is created.
 * The enforce function passes no creator (key creation is off its event path): see `without a creator` below.
 */
const options = (env: Record<string, string> = {}, clock = fakeClock()) => ({
  clients,
  config: loadConfig(env),
  ctx,
  log: memoryLog(),
  clock,
  creator: keyCreator,
});

/** Another invocation wins the alias: this one creates its key, CreateAlias says AlreadyExists, the alias holds `winner`. */
function loseAliasRace(): KeyMetadata {
  const winner = metadata({ KeyId: 'winner', Arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/winner` });
  kms
    .on(DescribeKeyCommand)
    .rejectsOnce(new NotFoundException({ ...meta, message: 'not found' }))
    .resolves({ KeyMetadata: winner });
  kms.on(CreateKeyCommand).resolves({ KeyMetadata: metadata() });
  kms.on(CreateAliasCommand).rejects(new AlreadyExistsException({ ...meta, message: 'already exists' }));
  return winner;
}

describe('ensureKey', () => {
  beforeEach(() => {
    kms.reset();
    clearKeyCache();
  });

  it('uses the existing guard key found by alias, and caches it for the TTL', async () => {
    // Prepare
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata() });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(defaultKeyPolicy(ctx)) });
    const clock = fakeClock();
    const o = options({}, clock);
    // Act
    const first = await ensureKey(o);
    const second = await ensureKey(o);
    clock.advance(301_000);
    await ensureKey(o);
    // Assess
    expect(first).toMatchObject({ arn: KEY_ARN, own: true });
    expect(second).toBe(first);
    expect(kms.commandCalls(DescribeKeyCommand)[0]?.args[0].input).toEqual({ KeyId: 'alias/logs-kms-guard' });
    expect(kms.commandCalls(DescribeKeyCommand)).toHaveLength(2);
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('repairs the guard key policy by merging, keeping foreign statements', async () => {
    const foreign = {
      Sid: 'AuditorsDescribe',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::123456789012:role/Auditor' },
      Action: 'kms:DescribeKey',
      Resource: '*',
    };
    const current = JSON.stringify({
      Version: '2012-10-17',
      Statement: [defaultKeyPolicy(ctx).Statement[0], foreign],
    });
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata() });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: current });
    kms.on(PutKeyPolicyCommand).resolves({});
    const key = await ensureKey(options());
    const written = parsePolicy(kms.commandCalls(PutKeyPolicyCommand)[0]?.args[0].input.Policy as string);
    expect(written.Statement).toContainEqual(foreign);
    expect(written.Statement.map((s) => s.Sid)).toEqual([
      expect.any(String),
      'AuditorsDescribe',
      LOGS_STATEMENT_SID,
    ]);
    expect(key.changedAt).toBeDefined();
  });

  it('creates the key with the full policy, the alias, rotation and its tag when none exists', async () => {
    // Prepare
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ ...meta, message: 'Alias is not found.' }));
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: metadata() });
    kms.on(CreateAliasCommand).resolves({});
    kms.on(EnableKeyRotationCommand).resolves({});
    kms.on(TagResourceCommand).resolves({});
    kms.on(PutKeyPolicyCommand).resolves({});

    // Act
    const key = await ensureKey({ ...options(), ctx: roleCtx });

    // Assess: born a candidate (its creator may retire it), no tags at creation (no IAM TagResource needed)
    const create = kms.commandCalls(CreateKeyCommand)[0]?.args[0].input;
    expect(create?.KeySpec).toBe('SYMMETRIC_DEFAULT');
    expect(JSON.parse(create?.Policy as string)).toEqual(defaultKeyPolicy(roleCtx, { candidate: true }));
    expect(JSON.stringify(create?.Policy)).toContain(GUARD_RETIRE_SID);
    expect(create?.Tags).toBeUndefined();
    expect(kms.commandCalls(CreateAliasCommand)[0]?.args[0].input).toEqual({
      AliasName: 'alias/logs-kms-guard',
      TargetKeyId: KEY_ID,
    });
    // the winner drops the retire statement, turns rotation on and tags the key for people
    const put = kms.commandCalls(PutKeyPolicyCommand)[0]?.args[0].input;
    expect(JSON.parse(put?.Policy as string)).toEqual(defaultKeyPolicy(roleCtx));
    expect(put?.Policy).not.toContain(GUARD_RETIRE_SID);
    expect(kms.commandCalls(EnableKeyRotationCommand)).toHaveLength(1);
    expect(kms.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags).toEqual([
      { TagKey: 'ManagedBy', TagValue: 'logs-kms-guard' },
    ]);
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    expect(key).toMatchObject({ arn: KEY_ARN, own: true, changedAt: expect.any(Number) });
  });

  it('two invocations racing to create the key end with one live key: the loser retires its own', async () => {
    // Prepare: a tiny stateful KMS in which CreateAlias is atomic.
    const keys = new Map<string, KeyMetadata>();
    let alias: string | undefined;
    let n = 0;
    kms.on(DescribeKeyCommand).callsFake(async ({ KeyId }) => {
      const id = KeyId === 'alias/logs-kms-guard' ? alias : KeyId;
      const k = id ? keys.get(id) : undefined;
      if (!k) throw new NotFoundException({ ...meta, message: 'not found' });
      return { KeyMetadata: k };
    });
    kms.on(CreateKeyCommand).callsFake(async () => {
      const id = `00000000-0000-0000-0000-00000000000${++n}`;
      const k = metadata({ KeyId: id, Arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}` });
      keys.set(id, k);
      await new Promise((r) => setTimeout(r, 5));
      return { KeyMetadata: k };
    });
    kms.on(CreateAliasCommand).callsFake(async ({ TargetKeyId }) => {
      if (alias)
        throw new AlreadyExistsException({ ...meta, message: 'An alias with the name ... already exists' });
      alias = TargetKeyId;
      return {};
    });
    kms.on(ScheduleKeyDeletionCommand).callsFake(async ({ KeyId }) => {
      const k = keys.get(KeyId);
      if (k) k.KeyState = 'PendingDeletion';
      return {};
    });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(defaultKeyPolicy(ctx)) });
    kms.on(EnableKeyRotationCommand).resolves({});
    kms.on(TagResourceCommand).resolves({});
    // Act: two containers (separate caches) handle the first two events at once.
    const [a, b] = await Promise.all([
      ensureKey({ ...options(), cache: createKeyCache() }),
      ensureKey({ ...options(), cache: createKeyCache() }),
    ]);
    // Assess
    expect(a.arn).toBe(b.arn);
    const live = [...keys.values()].filter((k) => k.KeyState === 'Enabled');
    expect(live).toHaveLength(1);
    expect(live[0]?.Arn).toBe(a.arn);
    expect(kms.commandCalls(CreateKeyCommand)).toHaveLength(2);
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(1);
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)[0]?.args[0].input.PendingWindowInDays).toBe(7);
  });

  it('retries a refused housekeeping call on a seconds-old key while its tags start to count for IAM', async () => {
    // Prepare: another invocation holds the alias; IAM refuses ScheduleKeyDeletion twice (aws:ResourceTag
    // conditions do not see the new key's tags yet), then allows it.
    const winner = loseAliasRace();
    const denied = Object.assign(new Error('User is not authorized to perform: kms:ScheduleKeyDeletion'), {
      name: 'AccessDeniedException',
    });
    kms.on(ScheduleKeyDeletionCommand).rejectsOnce(denied).rejectsOnce(denied).resolves({});
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(defaultKeyPolicy(ctx)) });
    const alerts: string[] = [];
    // Act
    const key = await ensureKey({ ...options(), alert: (m) => alerts.push(m) });
    // Assess
    expect(key.arn).toBe(winner.Arn);
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(3);
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)[2]?.args[0].input.KeyId).toBe(KEY_ID);
    expect(alerts).toEqual([]);
  });

  it('counts the alarmed metric when an unused key still cannot be retired, after a bounded wait', async () => {
    // Prepare
    const winner = loseAliasRace();
    kms
      .on(ScheduleKeyDeletionCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(defaultKeyPolicy(ctx)) });
    const clock = fakeClock();
    const started = clock.now();
    const alerts: string[] = [];
    const o = { ...options({}, clock), alert: (m: string) => alerts.push(m) };
    // Act
    const key = await ensureKey(o);
    // Assess: the event still gets the winner's key; the orphan is counted (alarm) and logged, not hidden
    expect(key.arn).toBe(winner.Arn);
    expect(alerts).toEqual(['KeyHousekeepingFailed']);
    expect(o.log.lines.some((l) => l.level === 'error' && /schedule deletion/.test(l.message))).toBe(true);
    expect(kms.commandCalls(ScheduleKeyDeletionCommand).length).toBeLessThanOrEqual(10);
    expect(clock.now() - started).toBeLessThanOrEqual(20_000);
  });

  it('shares one lookup between concurrent records of one container', async () => {
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ ...meta, message: 'not found' }));
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: metadata() });
    kms.on(CreateAliasCommand).resolves({});
    kms.on(EnableKeyRotationCommand).resolves({});
    kms.on(TagResourceCommand).resolves({});
    const o = options();
    const keys = await Promise.all([ensureKey(o), ensureKey(o), ensureKey(o)]);
    expect(new Set(keys.map((k) => k.arn)).size).toBe(1);
    expect(kms.commandCalls(CreateKeyCommand)).toHaveLength(1);
  });

  it('does not retire its key when a retried CreateAlias reports AlreadyExists for its own alias', async () => {
    // Prepare: the first CreateAlias went through but its answer was lost; the retry says AlreadyExists.
    kms
      .on(DescribeKeyCommand)
      .rejectsOnce(new NotFoundException({ ...meta, message: 'not found' }))
      .resolves({ KeyMetadata: metadata() });
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: metadata() });
    kms.on(CreateAliasCommand).rejects(new AlreadyExistsException({ ...meta, message: 'already exists' }));
    kms.on(EnableKeyRotationCommand).resolves({});
    kms.on(TagResourceCommand).resolves({});
    // Act
    const key = await ensureKey(options());
    // Assess
    expect(key.arn).toBe(KEY_ARN);
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
  });

  it('retries a throttled KMS call instead of failing the record', async () => {
    kms
      .on(DescribeKeyCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ KeyMetadata: metadata() });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(defaultKeyPolicy(ctx)) });
    const key = await ensureKey(options());
    expect(key.arn).toBe(KEY_ARN);
    expect(kms.commandCalls(DescribeKeyCommand)).toHaveLength(2);
  });

  it.each([
    ['Disabled', metadata({ KeyState: 'Disabled' }), /state is Disabled/],
    ['PendingDeletion', metadata({ KeyState: 'PendingDeletion' }), /state is PendingDeletion/],
    ['PendingImport', metadata({ KeyState: 'PendingImport' }), /state is PendingImport/],
    ['asymmetric', metadata({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }), /RSA_2048/],
    [
      'in another region',
      metadata({ Arn: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${KEY_ID}` }),
      /not in us-east-1/,
    ],
  ])('refuses a %s key and changes nothing', async (_label, bad, message) => {
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: bad });
    const run = ensureKey(options());
    await expect(run).rejects.toBeInstanceOf(UnsafeKeyError);
    await expect(ensureKey(options())).rejects.toThrow(message);
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
    expect(kms.commandCalls(CreateKeyCommand)).toHaveLength(0);
  });

  describe('with a configured key (KMS_KEY_ARN)', () => {
    it('verifies and uses a key whose policy admits Logs', async () => {
      kms.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata() });
      kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(defaultKeyPolicy(ctx)) });
      const key = await ensureKey(options({ KMS_KEY_ARN: KEY_ARN }));
      expect(key).toMatchObject({ arn: KEY_ARN, own: false });
      expect(kms.commandCalls(DescribeKeyCommand)[0]?.args[0].input).toEqual({ KeyId: KEY_ARN });
    });

    it('fails clearly, writing nothing, when its policy lacks the Logs statement', async () => {
      kms.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata() });
      kms.on(GetKeyPolicyCommand).resolves({ Policy: rootOnlyPolicy });
      const run = ensureKey(options({ KMS_KEY_ARN: KEY_ARN }));
      await expect(run).rejects.toBeInstanceOf(KeyPolicyError);
      await expect(ensureKey(options({ KMS_KEY_ARN: KEY_ARN }))).rejects.toThrow(/ALLOW_KEY_POLICY_UPDATE/);
      expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
    });

    it('adds the statement when ALLOW_KEY_POLICY_UPDATE is set', async () => {
      kms.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata() });
      kms.on(GetKeyPolicyCommand).resolves({ Policy: rootOnlyPolicy });
      kms.on(PutKeyPolicyCommand).resolves({});
      await ensureKey(options({ KMS_KEY_ARN: KEY_ARN, ALLOW_KEY_POLICY_UPDATE: 'true' }));
      expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(1);
    });

    it('refuses a configured key that does not exist', async () => {
      kms.on(DescribeKeyCommand).rejects(new NotFoundException({ ...meta, message: 'does not exist' }));
      await expect(ensureKey(options({ KMS_KEY_ARN: KEY_ARN }))).rejects.toThrow(/does not exist/);
      expect(kms.commandCalls(CreateKeyCommand)).toHaveLength(0);
    });
  });

  it('in dry run plans the key once per region (not once per group), and never for a real run', async () => {
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ ...meta, message: 'not found' }));
    const dry = options({ DRY_RUN: 'true' });
    await ensureKey(dry);
    await ensureKey(dry);
    expect(kms.commandCalls(DescribeKeyCommand)).toHaveLength(1);
    // The key exists now: a real run finds it, never the dry run's plan.
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata() });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(defaultKeyPolicy(ctx)) });
    const real = await ensureKey(options());
    expect(real).toMatchObject({ arn: KEY_ARN, own: true });
    expect(real.planned).toBeUndefined();
  });

  it('in dry run plans the key instead of creating it', async () => {
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ ...meta, message: 'not found' }));
    const key = await ensureKey(options({ DRY_RUN: 'true' }));
    expect(key.planned).toBe(true);
    expect(kms.commandCalls(CreateKeyCommand)).toHaveLength(0);
  });
});

describe('ensureKey without a creator (the enforce function)', () => {
  beforeEach(() => {
    kms.reset();
    clearKeyCache();
  });

  it('fails with a retryable GuardKeyMissingError and creates no key when the guard key does not exist', async () => {
    // Prepare: no guard key in the region; the options carry no `creator`, as the enforce function's do
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ ...meta, message: 'not found' }));
    const { creator: _none, ...enforceOptions } = options();

    // Act
    const run = ensureKey(enforceOptions);

    // Assess: the record is retried (the changes function's key check creates the key), and nothing was created
    await expect(run).rejects.toBeInstanceOf(GuardKeyMissingError);
    await expect(run).rejects.toMatchObject({ retryable: true });
    expect(kms.commandCalls(CreateKeyCommand)).toHaveLength(0);
    expect(kms.commandCalls(CreateAliasCommand)).toHaveLength(0);
  });
});
