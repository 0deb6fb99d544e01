/**
 * After creation (dist/enforce.mjs, emulator): the CloudTrail events of changes to groups and keys, as the
 * emulator emits them for the calls it serves (the same path EventBridge takes), handled by the deployable
 * bundle under its deployed role.
 */
import { DeleteLogGroupCommand, DisassociateKmsKeyCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteAliasCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { keyCheckItem } from '../../functions/core/change-event.ts';
import { disassociateKey } from '../../functions/core/disassociate.ts';
import { defaultKeyPolicy, guardRoleStatements, LOGS_STATEMENT_SID } from '../../functions/core/policy.ts';
import { CHANGES_FUNCTION } from '../../local/functions.ts';
import { GUARD_ALIAS } from '../../local/world.ts';
import { logsStatement, policyOf, rootStatement, sleep } from '../helpers.ts';
import {
  callsSince,
  createEvent,
  existingGuardKey,
  type Handler,
  invokeBatch,
  lambdaContext,
  startWorld,
  type World,
} from './helpers.ts';

/** A world whose emulator's CloudTrail events are kept, with the guard key and `groups` on it. */
async function guarded(groups: string[], env: Record<string, string> = {}, restore = false) {
  const world = await startWorld({ throttle: false, propagationDelayMs: 0 });
  const events: Record<string, any>[] = [];
  world.emulator.onEvent((e) => events.push(e as Record<string, any>));
  const role = world.asDeployed(env).GUARD_ROLE_ARN as string;
  const statements = guardRoleStatements({
    partition: 'aws',
    region: world.region,
    account: world.account,
    guardRoles: [role],
    ...(restore ? { restoreGuardKey: true } : {}),
  });
  const foreign = {
    Sid: 'AuditTeamDescribe',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${world.account}:role/audit` },
    Action: 'kms:DescribeKey',
    Resource: '*',
  };
  const key = await existingGuardKey(
    world,
    policyOf(
      rootStatement(world.account),
      logsStatement(world.region, world.account),
      foreign,
      ...statements,
    ),
  );
  for (const name of groups) world.emulator.state.putLogGroup(world.region, name, { kmsKeyId: key.arn });
  const handler = await world.container(env);
  return { world, key, events, handler, foreign };
}

/** The CloudTrail event the emulator emitted for the last `eventName` call (waits for delivery). */
async function lastEvent(
  events: Record<string, any>[],
  eventName: string,
  match: (e: Record<string, any>) => boolean = () => true,
) {
  for (let i = 0; i < 100; i++) {
    const found = events.filter((e) => e.detail?.eventName === eventName && match(e)).at(-1);
    if (found) return structuredClone(found);
    await sleep(10);
  }
  throw new Error(`no ${eventName} event was emitted`);
}

async function handle(world: World, handler: Handler, event: unknown) {
  return handler(event, lambdaContext(world));
}

describe('DisassociateKmsKey: the group is encrypted again, unless it was rolled back', () => {
  it('someone removes the key: re-encrypted with the guard key, ReEncrypted counted', async () => {
    // Prepare
    const { world, key, events, handler } = await guarded(['/platform/audit']);
    await world.logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/platform/audit' }));
    const event = await lastEvent(events, 'DisassociateKmsKey');

    // Act
    const out = await handle(world, handler, event);

    // Assess
    expect(out).toMatchObject({ outcome: 're-encrypted', logGroupName: '/platform/audit', keyArn: key.arn });
    expect(world.emulator.state.logGroup(world.region, '/platform/audit')?.kmsKeyId).toBe(key.arn);
    expect(world.output.metrics()).toMatchObject({ ReEncrypted: 1, NeedsAttention: 1 });
  });

  it("the guard's rollback (opt-out tag, then disassociate) is never undone, also on a duplicate delivery", async () => {
    // Prepare: the rollback path (core/sweep.ts disassociateKey, as `rollback` and `disassociate` run it)
    const { world, events, handler } = await guarded(['/team/rolled-back']);
    const clients = { kms: world.kms, logs: world.logs };
    const arn = `arn:aws:logs:${world.region}:${world.account}:log-group:/team/rolled-back`;
    await disassociateKey(clients, '/team/rolled-back', { optOut: { arn, tagKey: 'logs-kms-guard:skip' } });
    const event = await lastEvent(events, 'DisassociateKmsKey');

    // Act
    const first = await handle(world, handler, event);
    const again = await invokeBatch(world, handler, [event]);

    // Assess
    expect(first).toMatchObject({ outcome: 'out-of-scope' });
    expect(again).toEqual([]);
    expect(world.emulator.state.logGroup(world.region, '/team/rolled-back')?.kmsKeyId).toBeUndefined();
    expect(world.output.metrics().ReEncrypted).toBeUndefined();
    expect(world.output.metrics().NeedsAttention).toBeUndefined();
  });

  it('an event for a group deleted since: gone, nothing else', async () => {
    // Prepare
    const { world, events, handler } = await guarded(['/short/lived']);
    await world.logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/short/lived' }));
    const event = await lastEvent(events, 'DisassociateKmsKey');
    await world.logs.send(new DeleteLogGroupCommand({ logGroupName: '/short/lived' }));

    // Act
    const out = await handle(world, handler, event);

    // Assess
    expect(out).toMatchObject({ outcome: 'group-gone' });
  });
});

describe('the guard key: policy narrowed, rotation off', () => {
  it('PutKeyPolicy without the Logs statement: merged back, every foreign statement kept, KeyPolicyRepaired', async () => {
    // Prepare
    const { world, key, events, handler, foreign } = await guarded(['/a']);
    const narrowed = JSON.parse(key.policy);
    narrowed.Statement = narrowed.Statement.filter((s: { Sid?: string }) => s.Sid !== LOGS_STATEMENT_SID);
    await world.kms.send(
      new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy: JSON.stringify(narrowed) }),
    );
    const event = await lastEvent(events, 'PutKeyPolicy');

    // Act
    const out = await handle(world, handler, event);

    // Assess
    expect(out).toMatchObject({ outcome: 'key-policy-repaired', keyArn: key.arn });
    const policy = JSON.parse(world.emulator.state.key(world.region, key.keyId)?.policy ?? '{}');
    expect(policy.Statement).toContainEqual(foreign);
    expect(policy.Statement.filter((s: { Sid?: string }) => s.Sid === LOGS_STATEMENT_SID)).toHaveLength(1);
    expect(world.output.metrics()).toMatchObject({ KeyPolicyRepaired: 1, NeedsAttention: 1 });
  });

  it("the guard's own PutKeyPolicy comes back as an event: ignored at zero calls", async () => {
    // Prepare
    const { world, key, handler, events } = await guarded(['/a']);
    const narrowed = JSON.parse(key.policy);
    narrowed.Statement = narrowed.Statement.filter((s: { Sid?: string }) => s.Sid !== LOGS_STATEMENT_SID);
    await world.kms.send(
      new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy: JSON.stringify(narrowed) }),
    );
    const event = await lastEvent(events, 'PutKeyPolicy');
    await handle(world, handler, event); // the guard repairs: its own PutKeyPolicy is now in the events
    const role = world.asDeployed({}).GUARD_ROLE_ARN;
    const own = await lastEvent(
      events,
      'PutKeyPolicy',
      (e) => e.detail.userIdentity?.sessionContext?.sessionIssuer?.arn === role,
    );
    const mark = world.emulator.calls.length;

    // Act
    const out = await handle(world, handler, own);

    // Assess
    expect(out).toMatchObject({ outcome: 'change-ignored' });
    expect(callsSince(world.emulator, mark)).toEqual([]);
  });

  it('DisableKeyRotation on the guard key: rotation back on', async () => {
    // Prepare
    const { world, key, events, handler } = await guarded(['/a']);
    await world.kms.send(new DisableKeyRotationCommand({ KeyId: key.keyId }));
    const event = await lastEvent(events, 'DisableKeyRotation');

    // Act
    const out = await handle(world, handler, event);

    // Assess
    expect(out).toMatchObject({ outcome: 'rotation-restored' });
    expect(world.emulator.state.key(world.region, key.keyId)?.rotation).toBe(true);
    expect(world.output.metrics()).toMatchObject({ RotationRestored: 1 });
  });
});

describe('a key that log groups use, disabled or scheduled for deletion', () => {
  const groups = ['/g/1', '/g/2', '/g/3'];

  it('ScheduleKeyDeletion of the guard key: KeyAtRisk with the number of groups and the date; nothing undone by default', async () => {
    // Prepare
    const { world, key, events, handler } = await guarded(groups);
    await world.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 }));
    const event = await lastEvent(events, 'ScheduleKeyDeletion');

    // Act
    const out = await handle(world, handler, event);
    const duplicate = await handle(world, handler, structuredClone(event));

    // Assess: the alarm once, naming the key, the count and the date
    expect(out).toMatchObject({ outcome: 'key-at-risk', keyArn: key.arn });
    expect(duplicate).toMatchObject({ outcome: 'change-ignored' });
    expect(world.output.metrics()).toMatchObject({ KeyAtRisk: 3 });
    // KeyAtRisk has its own alarm: not counted in NeedsAttention.
    expect(world.output.metrics().NeedsAttention).toBeUndefined();
    const alarm = world.output.decisions().length
      ? world.output.lines
          .map((l) => JSON.parse(l))
          .find((l) => l.message?.startsWith('a key that log groups use'))
      : undefined;
    expect(alarm).toMatchObject({ keyArn: key.arn, groups: 3, keyState: 'PendingDeletion' });
    expect(Date.parse(alarm.unreadableFrom)).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect(world.emulator.state.key(world.region, key.keyId)?.state).toBe('PendingDeletion');
  });

  it('with RESTORE_GUARD_KEY=true the deletion is cancelled and the key enabled again', async () => {
    // Prepare: the guard key's policy grants the restore (what the guard writes with the setting on)
    const { world, key, events, handler } = await guarded(groups, { RESTORE_GUARD_KEY: 'true' }, true);
    await world.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 }));
    const event = await lastEvent(events, 'ScheduleKeyDeletion');

    // Act
    const out = await handle(world, handler, event);

    // Assess
    expect(out).toMatchObject({ outcome: 'key-restored' });
    expect(world.emulator.state.key(world.region, key.keyId)?.state).toBe('Enabled');
    expect(world.output.metrics()).toMatchObject({ KeyAtRisk: 3, KeyRestored: 1 });
  });

  it("DisableKey of a team's own key that a group uses: KeyAtRisk; of a key no group uses: ignored", async () => {
    // Prepare
    const { world, events, handler } = await guarded([]);
    const teamKey = world.emulator.state.createKeyDirect(world.region, {
      policy: policyOf(rootStatement(world.account), logsStatement(world.region, world.account)),
    });
    const unused = world.emulator.state.createKeyDirect(world.region, {
      policy: policyOf(rootStatement(world.account)),
    });
    world.emulator.state.putLogGroup(world.region, '/team/own', { kmsKeyId: teamKey.arn });
    await world.kms.send(new DisableKeyCommand({ KeyId: teamKey.keyId }));
    const used = await lastEvent(events, 'DisableKey');
    await world.kms.send(new DisableKeyCommand({ KeyId: unused.keyId }));
    const notUsed = await lastEvent(events, 'DisableKey');

    // Act
    const a = await handle(world, handler, used);
    const b = await handle(world, handler, notUsed);

    // Assess: the guard touched neither key
    expect(a).toMatchObject({ outcome: 'key-at-risk', keyArn: teamKey.arn });
    expect(b).toMatchObject({ outcome: 'change-ignored' });
    expect(world.output.metrics()).toMatchObject({ KeyAtRisk: 1 });
    expect(world.emulator.state.key(world.region, teamKey.keyId)?.state).toBe('Disabled');
  });
});

describe('the guard alias deleted', () => {
  it('alarmed, and no second key is created', async () => {
    // Prepare
    const { world, events, handler } = await guarded(['/a']);
    await world.kms.send(new DeleteAliasCommand({ AliasName: GUARD_ALIAS }));
    const event = await lastEvent(events, 'DeleteAlias');
    const mark = world.emulator.calls.length;

    // Act
    const out = await handle(world, handler, event);

    // Assess
    expect(out).toMatchObject({ outcome: 'alias-changed' });
    expect(world.output.metrics()).toMatchObject({ KeyAliasChanged: 1, NeedsAttention: 1 });
    expect(callsSince(world.emulator, mark).map((c) => c.operation)).not.toContain('CreateKey');
  });
});

describe('a lost alias never makes the guard create a second key', () => {
  it('the enforce function waits for the key; the key check finds the guard key on its own log group and refuses, with the fix', async () => {
    // Prepare: the guard key as deployed (policy Id logs-kms-guard), the changes function's own log group on it
    // (the deploy-time probe), the alias deleted
    const world = await startWorld({ throttle: false, propagationDelayMs: 0 });
    const role = world.asDeployed({}).GUARD_ROLE_ARN as string;
    const ctx = {
      partition: 'aws' as const,
      region: world.region,
      account: world.account,
      guardRoles: [role],
    };
    const key = world.emulator.state.createKeyDirect(world.region, {
      policy: JSON.stringify(defaultKeyPolicy(ctx)),
    });
    world.emulator.state.putLogGroup(world.region, `/aws/lambda/${CHANGES_FUNCTION}`, {
      kmsKeyId: key.arn,
    });
    world.emulator.state.putLogGroup(world.region, '/new/group');
    const handler = await world.container();
    const mark = world.emulator.calls.length;

    // Act
    const first = handler(createEvent(world, '/new/group'), lambdaContext(world));
    await expect(first).rejects.toThrow(/the guard key alias\/logs-kms-guard does not exist/);
    const check = handler(
      keyCheckItem({ region: world.region, account: world.account, id: 'check-alias' }),
      lambdaContext(world),
    );

    // Assess: the record is retried (GuardKeyMissingError), the check refuses with the fix, no second key
    await expect(check).rejects.toThrow(
      /the guard alias alias\/logs-kms-guard is missing, but the guard key .* exists/,
    );
    expect(callsSince(world.emulator, mark).map((c) => c.operation)).not.toContain('CreateKey');
    expect(world.output.metrics()).toMatchObject({ UnsafeKeyRefused: 1, NeedsAttention: 1 });
  });
});

describe('a guard key that does not exist yet (the deploy-time key was not ready)', () => {
  it('the enforce function retries its records; the scheduled key check creates the key; the retry encrypts', async () => {
    // Prepare: no guard key at all; a new group's record on the queue
    const world = await startWorld({ throttle: false, propagationDelayMs: 0 });
    world.emulator.state.putLogGroup(world.region, '/later/group');
    const handler = await world.container();

    // Act: the record, the scheduled check, the record's next delivery
    const before = await invokeBatch(world, handler, [createEvent(world, '/later/group')]);
    const checked = await handler(
      keyCheckItem({ region: world.region, account: world.account, id: 'check-create' }),
      lambdaContext(world),
    );
    const after = await invokeBatch(world, handler, [createEvent(world, '/later/group')]);

    // Assess
    expect(before).toHaveLength(1);
    expect(checked).toMatchObject({ outcome: 'key-created' });
    expect(after).toEqual([]);
    const guardKey = world.emulator.state.key(world.region, GUARD_ALIAS);
    expect(world.emulator.state.logGroup(world.region, '/later/group')?.kmsKeyId).toBe(guardKey?.arn);
    expect(world.emulator.calls.filter((c) => c.operation === 'CreateKey')).toHaveLength(1);
    expect(world.output.metrics()).toMatchObject({ KeyCreated: 1, Failed: 1, Encrypted: 1 });
  });
});

describe('malformed or foreign change events cost zero calls', () => {
  it.each([
    [
      'a key of another account',
      (e: any) =>
        (e.detail.requestParameters.keyId =
          'arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
    ],
    ['a keyId that is not one', (e: any) => (e.detail.requestParameters.keyId = 'x'.repeat(300))],
    ['no requestParameters', (e: any) => delete e.detail.requestParameters],
    ['another account', (e: any) => (e.account = e.detail.recipientAccountId = '210987654321')],
    ['a failed call', (e: any) => (e.detail.errorCode = 'AccessDenied')],
    ['the wrong eventSource', (e: any) => (e.detail.eventSource = 'logs.amazonaws.com')],
  ])('%s', async (_label, mutate) => {
    // Prepare
    const { world, key, events, handler } = await guarded(['/a']);
    await world.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 }));
    const event = await lastEvent(events, 'ScheduleKeyDeletion');
    mutate(event);
    const mark = world.emulator.calls.length;

    // Act
    const out = await handle(world, handler, event);

    // Assess
    expect(['rejected-input', 'ignored-failed-call']).toContain(out.outcome);
    expect(callsSince(world.emulator, mark)).toEqual([]);
    expect(world.output.metrics().KeyAtRisk).toBeUndefined();
  });
});

describe("the sweep's guard key check (events can be lost)", () => {
  it('a narrowed policy and rotation turned off that no event reported: both repaired by the check', async () => {
    // Prepare: the changes happened while the event bus lost their events
    const { world, key, handler, foreign } = await guarded(['/a']);
    const narrowed = JSON.parse(key.policy);
    narrowed.Statement = narrowed.Statement.filter((s: { Sid?: string }) => s.Sid !== LOGS_STATEMENT_SID);
    world.emulator.state.setKeyPolicy(world.region, key.keyId, JSON.stringify(narrowed));
    await world.kms.send(new DisableKeyRotationCommand({ KeyId: key.keyId }));
    const check = keyCheckItem({ region: world.region, account: world.account, id: 'check-1' });

    // Act
    const out = await handle(world, handler, check);
    const again = await handle(world, handler, structuredClone(check));

    // Assess
    expect(out).toMatchObject({
      outcome: 'key-policy-repaired',
      reason: expect.stringContaining('rotation'),
    });
    expect(again).toMatchObject({ outcome: 'change-ignored' });
    const after = world.emulator.state.key(world.region, key.keyId);
    expect(after?.rotation).toBe(true);
    expect(JSON.parse(after?.policy ?? '{}').Statement).toContainEqual(foreign);
    expect(world.output.metrics()).toMatchObject({ KeyPolicyRepaired: 1, NeedsAttention: 1 });
  });

  it('a guard key scheduled for deletion while the event was lost: KeyAtRisk from the check', async () => {
    // Prepare
    const { world, key, handler } = await guarded(['/a', '/b']);
    world.emulator.state.setKeyState(world.region, key.keyId, 'PendingDeletion');

    // Act
    const out = await handle(
      world,
      handler,
      keyCheckItem({ region: world.region, account: world.account, id: 'check-2' }),
    );

    // Assess
    expect(out).toMatchObject({ outcome: 'key-at-risk', keyArn: key.arn });
    expect(world.output.metrics()).toMatchObject({ KeyAtRisk: 2 });
  });
});
