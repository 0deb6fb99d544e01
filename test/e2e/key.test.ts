/**
 * The built dist/enforce.mjs against the emulator under the deployed role (test/e2e/helpers.ts): key
 * propagation retries, repairing the guard key's policy, configured keys, unusable keys refused, and a
 * configured key in another account (two emulators).
 */
import { describe, expect, it } from 'vitest';
import { policyAdmitsLogs } from '../../local/emulator/policy-eval.ts';
import { startEmulator } from '../../local/emulator/server.ts';
import { GUARD_ALIAS } from '../../local/world.ts';
import { logsStatement, policyOf, rootStatement } from '../helpers.ts';
import {
  callsOf,
  createEvent,
  existingGuardKey,
  guardKeys,
  guardStatements,
  invokeBatch,
  lambdaContext,
  sqsBatch,
  startWorld,
  succeeded,
  type World,
} from './helpers.ts';

/** Statements that belong to someone else: the guard must keep them exactly as they are. */
const foreignStatements = (account: string) => [
  {
    Sid: 'AllowAuditRoleDecryptViaS3',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${account}:role/audit` },
    Action: ['kms:Decrypt', 'kms:DescribeKey'],
    Resource: '*',
    Condition: {
      StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:CallerAccount': account },
    },
  },
  {
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: 'kms:ScheduleKeyDeletion',
    Resource: '*',
    Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'false' } },
  },
];

const groupArn = (world: World, name: string) =>
  `arn:aws:logs:${world.region}:${world.account}:log-group:${name}`;

describe('propagation retry (dist/enforce.mjs, emulator)', () => {
  it('retries AssociateKmsKey while Logs cannot see a brand-new key, then encrypts the group', async () => {
    // Prepare: Logs sees KMS changes 2 s (real) late; the deployment's key check has just created the guard
    // key (the enforce function creates none), so the first event meets a key Logs cannot see yet (the delay
    // is longer than it was when the event created the key: the key check's own time comes off it).
    const world = await startWorld({ timeScale: 4, propagationDelayMs: 8_000, throttle: false });
    const name = '/aws/lambda/fresh-account-first-group';
    world.emulator.state.putLogGroup(world.region, name);
    const deployed = await world.deployKey();
    const handler = await world.container();
    const earlier = world.output.decisions().length; // the key check's

    // Act
    const failed = await invokeBatch(world, handler, [createEvent(world, name)]);

    // Assess: the first attempts were refused as "not visible yet", the last one went through.
    expect(failed).toEqual([]);
    const key = world.emulator.state.key(world.region, GUARD_ALIAS);
    expect(key?.state).toBe('Enabled');
    expect(key?.arn).toBe(deployed);
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBe(key?.arn);
    const attempts = callsOf(world.emulator, 'AssociateKmsKey');
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.at(-1)?.error).toBeUndefined();
    expect(new Set(attempts.slice(0, -1).map((c) => c.error))).toEqual(
      new Set(['InvalidParameterException']),
    );
    const [decision] = world.output.decisions().slice(earlier);
    expect(decision).toMatchObject({ outcome: 'encrypted', keyArn: key?.arn, attempts: attempts.length });
  });
});

describe('key policy repair (dist/enforce.mjs, emulator)', () => {
  it('adds the Logs statement to the guard key and keeps every foreign statement unchanged', async () => {
    // Prepare: the guard's key (behind its alias) lost its Logs statement; others have statements in it.
    const world = await startWorld({ timeScale: 10, propagationDelayMs: 3_000, throttle: false });
    const foreign = foreignStatements(world.account);
    const original = {
      Version: '2012-10-17',
      Id: 'key-consolelegacy-3',
      Statement: [rootStatement(world.account), ...foreign, ...guardStatements(world)],
    };
    const key = await existingGuardKey(world, JSON.stringify(original));
    const name = '/ecs/payments-service';
    world.emulator.state.putLogGroup(world.region, name);
    const handler = await world.container();

    // Act
    const failed = await invokeBatch(world, handler, [createEvent(world, name)]);

    // Assess: one policy write, merged: the Logs statement added, everything else as it was.
    expect(failed).toEqual([]);
    expect(succeeded(world.emulator, 'PutKeyPolicy')).toHaveLength(1);
    const after = world.emulator.state.key(world.region, key.keyId);
    const policy = JSON.parse(after?.policy ?? '{}');
    expect(policy.Version).toBe(original.Version);
    expect(policy.Id).toBe(original.Id);
    for (const statement of original.Statement) expect(policy.Statement).toContainEqual(statement);
    expect(policy.Statement).toHaveLength(original.Statement.length + 1);
    const input = { region: world.region, keyArn: key.arn, logGroupArn: groupArn(world, '/any/other/group') };
    expect(policyAdmitsLogs(policy, input).admitted).toBe(true);
    expect(policyAdmitsLogs(policy, { ...input, region: 'eu-west-1' }).admitted).toBe(false);
    // The group is encrypted with that key (the emulator's AssociateKmsKey checks the policy itself);
    // no other key was created and the key's state was not touched.
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBe(key.arn);
    expect(callsOf(world.emulator, 'CreateKey')).toHaveLength(0);
    expect(after?.state).toBe('Enabled');
    expect(callsOf(world.emulator, 'AssociateKmsKey').at(-1)?.error).toBeUndefined();
  });

  it('corrects a Logs statement for the wrong region by Sid, keeping the foreign statements', async () => {
    // Prepare: the AllowCloudWatchLogs statement names another region (a copied policy).
    const world = await startWorld({ timeScale: 10, propagationDelayMs: 3_000, throttle: false });
    const foreign = foreignStatements(world.account);
    const key = await existingGuardKey(
      world,
      policyOf(
        rootStatement(world.account),
        logsStatement('eu-west-1', world.account),
        ...foreign,
        ...guardStatements(world),
      ),
    );
    const name = '/aws/codebuild/catalog-build';
    world.emulator.state.putLogGroup(world.region, name);
    const handler = await world.container();

    // Act
    const failed = await invokeBatch(world, handler, [createEvent(world, name)]);

    // Assess
    expect(failed).toEqual([]);
    const policy = JSON.parse(world.emulator.state.key(world.region, key.keyId)?.policy ?? '{}');
    for (const statement of [rootStatement(world.account), ...foreign]) {
      expect(policy.Statement).toContainEqual(statement);
    }
    expect(policy.Statement.filter((s: any) => s.Sid === 'AllowCloudWatchLogs')).toHaveLength(1);
    expect(
      policyAdmitsLogs(policy, { region: world.region, keyArn: key.arn, logGroupArn: groupArn(world, name) })
        .admitted,
    ).toBe(true);
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBe(key.arn);
  });

  it('only verifies a configured KMS_KEY_ARN: no policy write, no association, the record fails', async () => {
    // Prepare: a user's key whose policy does not admit Logs; ALLOW_KEY_POLICY_UPDATE is not set.
    const world = await startWorld({ throttle: false });
    const before = policyOf(rootStatement(world.account), ...foreignStatements(world.account));
    const key = world.emulator.state.createKeyDirect(world.region, { policy: before });
    const name = '/aws/lambda/orders-api';
    world.emulator.state.putLogGroup(world.region, name);
    const handler = await world.container({ KMS_KEY_ARN: key.arn });

    // Act: once from the queue, once invoked directly.
    const failed = await invokeBatch(world, handler, [createEvent(world, name)]);
    const direct = handler(createEvent(world, name), lambdaContext(world));

    // Assess: the queue gets the record back, a direct invocation throws; nothing was changed.
    expect(failed).toEqual([0]);
    await expect(direct).rejects.toMatchObject({ name: 'KeyPolicyError' });
    expect(callsOf(world.emulator, 'PutKeyPolicy')).toHaveLength(0);
    expect(callsOf(world.emulator, 'AssociateKmsKey')).toHaveLength(0);
    expect(callsOf(world.emulator, 'CreateKey')).toHaveLength(0);
    expect(world.emulator.state.key(world.region, key.keyId)?.policy).toBe(before);
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBeUndefined();
    const decisions = world.output.decisions();
    expect(decisions.map((d) => [d.outcome, d.errorName])).toEqual([
      ['failed', 'KeyPolicyError'],
      ['failed', 'KeyPolicyError'],
    ]);
    expect(world.output.metrics()).toMatchObject({ Failed: 2, UnsafeKeyRefused: 2 });
  });

  it('merges into a configured key only with ALLOW_KEY_POLICY_UPDATE=true', async () => {
    // Prepare: the same kind of key, the update allowed.
    const world = await startWorld({ timeScale: 10, propagationDelayMs: 3_000, throttle: false });
    const foreign = foreignStatements(world.account);
    const key = world.emulator.state.createKeyDirect(world.region, {
      policy: policyOf(rootStatement(world.account), ...foreign),
    });
    const name = '/aws/lambda/orders-api';
    world.emulator.state.putLogGroup(world.region, name);
    const handler = await world.container({ KMS_KEY_ARN: key.arn, ALLOW_KEY_POLICY_UPDATE: 'true' });

    // Act
    const failed = await invokeBatch(world, handler, [createEvent(world, name)]);

    // Assess: the user's key, merged and used; the guard created no key of its own.
    expect(failed).toEqual([]);
    expect(succeeded(world.emulator, 'PutKeyPolicy')).toHaveLength(1);
    const policy = JSON.parse(world.emulator.state.key(world.region, key.keyId)?.policy ?? '{}');
    for (const statement of foreign) expect(policy.Statement).toContainEqual(statement);
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBe(key.arn);
    expect(guardKeys(world)).toHaveLength(0);
    expect(world.emulator.state.key(world.region, GUARD_ALIAS)).toBeUndefined();
  });
});

describe('unusable keys (dist/enforce.mjs, emulator)', () => {
  it.each(['Disabled', 'PendingDeletion'] as const)(
    'refuses a guard key that is %s: never associated, not repaired behind anyone’s back, failure counted',
    async (state) => {
      // Prepare: the alias points to the guard's key, which someone disabled or scheduled for deletion.
      const world = await startWorld({ throttle: false });
      const key = await existingGuardKey(world);
      world.emulator.state.setKeyState(world.region, key.keyId, state);
      const name = '/aws/lambda/checkout-api';
      world.emulator.state.putLogGroup(world.region, name);
      const handler = await world.container();

      // Act
      const failed = await invokeBatch(world, handler, [createEvent(world, name)]);

      // Assess: the record fails loudly (UnsafeKeyRefused has an alarm); the group stays as it was, the key
      // keeps its state and alias, and no replacement key appears.
      expect(failed).toEqual([0]);
      expect(world.output.decisions()).toMatchObject([{ outcome: 'failed', errorName: 'UnsafeKeyError' }]);
      expect(world.output.metrics()).toMatchObject({ Failed: 1, UnsafeKeyRefused: 1 });
      expect(callsOf(world.emulator, 'AssociateKmsKey')).toHaveLength(0);
      expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBeUndefined();
      const after = world.emulator.state.key(world.region, key.keyId);
      expect(after?.state).toBe(state);
      expect(after?.aliases).toEqual([GUARD_ALIAS]);
      expect(world.emulator.state.keys(world.region)).toHaveLength(1);
      for (const op of ['CreateKey', 'EnableKey', 'CancelKeyDeletion', 'PutKeyPolicy', 'UpdateAlias']) {
        expect(callsOf(world.emulator, op), op).toHaveLength(0);
      }
    },
  );

  it('a warm container whose cached key was disabled since: refused as unsafe, nothing associated', async () => {
    // Prepare: the container verified and cached the key on a first group; then the key is disabled
    // (setKeyState: CloudWatch Logs sees it at once), well within KEY_CACHE_TTL_SECONDS.
    const world = await startWorld({ throttle: false });
    const key = await existingGuardKey(world);
    for (const name of ['/aws/lambda/first', '/aws/lambda/second']) {
      world.emulator.state.putLogGroup(world.region, name);
    }
    const handler = await world.container();
    expect(await invokeBatch(world, handler, [createEvent(world, '/aws/lambda/first')])).toEqual([]);
    world.emulator.state.setKeyState(world.region, key.keyId, 'Disabled');

    // Act
    const failed = await invokeBatch(world, handler, [createEvent(world, '/aws/lambda/second')]);

    // Assess: Logs refused the one attempt (permanent, not retried); the guard checked the key again and
    // refused it as unsafe, which raises the alarm metric at once rather than after the cache expires.
    expect(failed).toEqual([0]);
    expect(world.emulator.state.logGroup(world.region, '/aws/lambda/second')?.kmsKeyId).toBeUndefined();
    const refused = callsOf(world.emulator, 'AssociateKmsKey').slice(1);
    expect(refused.map((c) => c.error)).toEqual(['InvalidParameterException']);
    expect(world.emulator.state.key(world.region, key.keyId)?.state).toBe('Disabled');
    expect(world.output.decisions().at(-1)).toMatchObject({ outcome: 'failed', errorName: 'UnsafeKeyError' });
    expect(world.output.metrics()).toMatchObject({ Failed: 1, UnsafeKeyRefused: 1 });
    for (const op of ['CreateKey', 'EnableKey', 'PutKeyPolicy'])
      expect(callsOf(world.emulator, op), op).toHaveLength(0);
  });

  it('refuses an asymmetric KMS_KEY_ARN before reading its policy', async () => {
    // Prepare: an RSA encryption key whose policy would admit Logs.
    const world = await startWorld({ throttle: false });
    const key = world.emulator.state.createKeyDirect(world.region, {
      keySpec: 'RSA_2048',
      keyUsage: 'ENCRYPT_DECRYPT',
      policy: policyOf(rootStatement(world.account), logsStatement(world.region, world.account)),
    });
    const name = '/aws/lambda/reports-api';
    world.emulator.state.putLogGroup(world.region, name);
    const handler = await world.container({ KMS_KEY_ARN: key.arn, ALLOW_KEY_POLICY_UPDATE: 'true' });

    // Act
    const failed = await invokeBatch(world, handler, [createEvent(world, name)]);

    // Assess
    expect(failed).toEqual([0]);
    expect(world.output.decisions()).toMatchObject([{ outcome: 'failed', errorName: 'UnsafeKeyError' }]);
    expect(world.output.metrics()).toMatchObject({ UnsafeKeyRefused: 1 });
    for (const op of ['GetKeyPolicy', 'PutKeyPolicy', 'AssociateKmsKey', 'CreateKey']) {
      expect(callsOf(world.emulator, op), op).toHaveLength(0);
    }
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBeUndefined();
  });
});

describe('a configured key in another account (dist/enforce.mjs, two emulated accounts)', () => {
  it('is refused at the start of every invocation, naming KMS_KEY_ARN, with zero AWS calls in either account', async () => {
    // Prepare: a central key that really exists, in account 210987654321 (a second emulator), and the guard
    // deployed in the world's account with KMS_KEY_ARN pointing at it.
    const central = await startEmulator({ port: 0, account: '210987654321' });
    try {
      const key = central.state.createKeyDirect('us-east-1', {
        policy: policyOf(rootStatement('210987654321'), logsStatement('us-east-1', '123456789012')),
      });
      const world = await startWorld({ throttle: false });
      world.emulator.state.putLogGroup(world.region, '/aws/lambda/orders');
      const handler = await world.container({ KMS_KEY_ARN: key.arn });
      const mark = world.emulator.calls.length;

      // Act: from the queue and directly
      const batch = handler(
        sqsBatch(world, [createEvent(world, '/aws/lambda/orders')]),
        lambdaContext(world),
      );
      const direct = handler(createEvent(world, '/aws/lambda/orders'), lambdaContext(world));

      // Assess: the invocation fails (the records go back to the queue, the Errors alarm fires)
      await expect(batch).rejects.toMatchObject({
        name: 'ConfigError',
        message: expect.stringContaining('KMS_KEY_ARN'),
      });
      await expect(direct).rejects.toThrow(
        /account 210987654321.*GetKeyPolicy or PutKeyPolicy across accounts/,
      );
      expect(world.emulator.calls.slice(mark)).toEqual([]);
      expect(central.calls).toEqual([]);
      expect(world.emulator.state.logGroup(world.region, '/aws/lambda/orders')?.kmsKeyId).toBeUndefined();
    } finally {
      await central.stop();
    }
  });
});
