/**
 * The protected guard key under IAM (issue 21, item 2), through the emulator's IAM (iam-simulate) and the real
 * SDK: an account administrator (AdministratorAccess, not break-glass) can neither delete nor disable the key,
 * nor replace its policy, nor set the break-glass tag; a break-glass role can do all of it; the AWS-native
 * backstop (kms:TrailingDaysWithoutKeyUsage) holds on its own; the guard's role writes the protected policy
 * (KMS's lockout check passes) and never writes it back over a break-glass; RESTORE_GUARD_KEY never undoes one.
 */
import {
  CreateAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GetKeyLastUsageCommand,
  GetKeyPolicyCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import type { ChangeRequest } from '../../functions/core/change-event.ts';
import { DEFAULT_KEY_ALIAS, loadConfig } from '../../functions/core/config.ts';
import { handleChange } from '../../functions/core/drift.ts';
import { createKeyCache, ensureKeyPolicy, keyContext } from '../../functions/core/key.ts';
import {
  BACKSTOP_UNUSED_DAYS,
  BREAK_GLASS_TAG,
  DENY_KEY_LOSS_SID,
  protectionStatus,
} from '../../functions/core/key-protection.ts';
import { defaultKeyPolicy, parsePolicy } from '../../functions/core/policy.ts';
import type { IamPrincipal } from '../../local/emulator/iam.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { memoryLog } from '../helpers.ts';
import { rejection, setup, signedAs } from '../local/emulator/helpers.ts';

const GUARD_ROLE = `arn:aws:iam::${ACCOUNT}:role/logs-kms-guard-EnforceRole`;
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Administrator`;
const BREAK_GLASS_ROLE = `arn:aws:iam::${ACCOUNT}:role/LogKeysBreakGlass`;
const KEYS = { guard: 'AKIDGUARD', admin: 'AKIDADMINROLE', breakGlass: 'AKIDBREAKGLASS', setup: 'AKIDSETUP' };
const DAY = 86_400_000;

/** The AWS managed policy AdministratorAccess. */
const ADMINISTRATOR_ACCESS = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};
const principal = (arn: string): IamPrincipal => ({
  arn,
  policies: [{ name: 'AdministratorAccess', policy: ADMINISTRATOR_ACCESS }],
});

const ENV = { GUARD_ROLE_ARN: GUARD_ROLE, BREAK_GLASS_ROLE_ARNS: BREAK_GLASS_ROLE };
const config = (env: Record<string, string> = {}) => loadConfig({ ...ENV, ...env });
const ctx = (env: Record<string, string> = {}) => keyContext(config(env), REGION, ACCOUNT);

/** An emulator with IAM, the three roles (each AdministratorAccess) and a protected guard key used today. */
async function protectedWorld(policy = defaultKeyPolicy(ctx())) {
  const world = await setup({
    iam: {
      principals: {
        [KEYS.guard]: principal(GUARD_ROLE),
        [KEYS.admin]: principal(ADMIN_ROLE),
        [KEYS.breakGlass]: principal(BREAK_GLASS_ROLE),
      },
      admins: [KEYS.setup],
      authorizationLagMs: 0,
    },
    throttle: false,
  });
  const key = world.emulator.state.createKeyDirect(REGION, { policy: JSON.stringify(policy) });
  world.emulator.state.setKeyLastUsage(REGION, key.keyId, Date.now() - 60_000);
  return {
    world,
    key,
    guard: signedAs(world, KEYS.guard),
    admin: signedAs(world, KEYS.admin),
    breakGlass: signedAs(world, KEYS.breakGlass),
    state: () => world.emulator.state.key(REGION, key.keyId),
  };
}

describe('a protected guard key: the account administrator (not break-glass)', () => {
  it('can neither schedule its deletion nor disable it: explicit deny in the key policy', async () => {
    // Prepare
    const { admin, key, state } = await protectedWorld();
    // Act
    const deletion = await rejection(
      admin.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.arn, PendingWindowInDays: 7 })),
    );
    const disabling = await rejection(admin.kms.send(new DisableKeyCommand({ KeyId: key.arn })));
    // Assess
    expect(deletion.name).toBe('AccessDeniedException');
    expect(deletion.message).toContain('with an explicit deny in a resource-based policy');
    expect(disabling.name).toBe('AccessDeniedException');
    expect(disabling.message).toContain('kms:DisableKey');
    expect(state()?.state).toBe('Enabled');
  });

  it('cannot remove the deny: PutKeyPolicy refused, even bypassing the lockout check', async () => {
    // Prepare
    const { admin, key, state } = await protectedWorld();
    const open = defaultKeyPolicy({ ...ctx(), breakGlassRoles: [] });
    // Act
    const plain = await rejection(
      admin.kms.send(new PutKeyPolicyCommand({ KeyId: key.arn, Policy: JSON.stringify(open) })),
    );
    const bypass = await rejection(
      admin.kms.send(
        new PutKeyPolicyCommand({
          KeyId: key.arn,
          Policy: JSON.stringify(open),
          BypassPolicyLockoutSafetyCheck: true,
        }),
      ),
    );
    // Assess
    expect(plain.name).toBe('AccessDeniedException');
    expect(bypass.name).toBe('AccessDeniedException');
    expect(protectionStatus(parsePolicy(state()?.policy ?? '')).protected).toBe(true);
  });

  it('cannot set or remove the break-glass tag (so cannot make the guard stand aside)', async () => {
    // Prepare
    const { admin, key } = await protectedWorld();
    // Act
    const tag = await rejection(
      admin.kms.send(
        new TagResourceCommand({ KeyId: key.arn, Tags: [{ TagKey: BREAK_GLASS_TAG, TagValue: 'mine' }] }),
      ),
    );
    const untag = await rejection(
      admin.kms.send(new UntagResourceCommand({ KeyId: key.arn, TagKeys: [BREAK_GLASS_TAG] })),
    );
    // Assess
    expect(tag.name).toBe('AccessDeniedException');
    expect(untag.name).toBe('AccessDeniedException');
  });

  it('is still refused by the backstop alone while the key was used within the window, and only then', async () => {
    // Prepare: the principal Deny removed (as a break-glass operator might), the backstop kept
    const policy = defaultKeyPolicy(ctx());
    policy.Statement = policy.Statement.filter((s) => s.Sid !== DENY_KEY_LOSS_SID);
    const { admin, key, state, world } = await protectedWorld(policy);
    // Act
    const recent = await rejection(admin.kms.send(new DisableKeyCommand({ KeyId: key.arn })));
    world.emulator.state.setKeyLastUsage(REGION, key.keyId, Date.now() - (BACKSTOP_UNUSED_DAYS + 1) * DAY, {
      createdAt: Date.now() - 400 * DAY,
    });
    await admin.kms.send(new DisableKeyCommand({ KeyId: key.arn }));
    // Assess
    expect(recent.name).toBe('AccessDeniedException');
    expect(state()?.state).toBe('Disabled');
  });
});

describe('a protected guard key: the break-glass role', () => {
  it('can disable it and schedule its deletion, however recently it was used', async () => {
    // Prepare
    const { breakGlass, key, state } = await protectedWorld();
    // Act
    await breakGlass.kms.send(new DisableKeyCommand({ KeyId: key.arn }));
    const disabled = state()?.state;
    await breakGlass.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.arn, PendingWindowInDays: 30 }));
    // Assess
    expect(disabled).toBe('Disabled');
    expect(state()?.state).toBe('PendingDeletion');
  });

  it('can tag the key and replace its policy', async () => {
    // Prepare
    const { breakGlass, key, state } = await protectedWorld();
    const open = defaultKeyPolicy({ ...ctx(), breakGlassRoles: [] });
    // Act
    await breakGlass.kms.send(
      new TagResourceCommand({
        KeyId: key.arn,
        Tags: [{ TagKey: BREAK_GLASS_TAG, TagValue: 'INC-42 2026-12-07' }],
      }),
    );
    await breakGlass.kms.send(new PutKeyPolicyCommand({ KeyId: key.arn, Policy: JSON.stringify(open) }));
    // Assess
    expect(state()?.tags[BREAK_GLASS_TAG]).toBe('INC-42 2026-12-07');
    expect(protectionStatus(parsePolicy(state()?.policy ?? '')).protected).toBe(false);
  });
});

describe("the guard's role and the protection", () => {
  const steps = (clients: ReturnType<typeof signedAs>, env: Record<string, string> = {}) => ({
    clients,
    config: config(env),
    ctx: ctx(env),
    log: memoryLog(),
    cache: createKeyCache(),
  });

  it('writes the protection into its own key (KMS lockout check passes for the guard role)', async () => {
    // Prepare: the guard key as written before the protection existed
    const { guard, key, state } = await protectedWorld(defaultKeyPolicy({ ...ctx(), breakGlassRoles: [] }));
    // Act
    const after = await ensureKeyPolicy({
      ...steps(guard),
      key: { arn: key.arn, keyId: key.keyId, own: true },
    });
    // Assess
    expect(after.policyChanges?.join('; ')).toContain('the deny of deletion and disabling');
    const status = protectionStatus(parsePolicy(state()?.policy ?? ''));
    expect(status).toEqual({ protected: true, breakGlassRoles: [BREAK_GLASS_ROLE], missing: [] });
  });

  it('leaves the protection as a break-glass left it (tag), and puts it back once the tag is gone', async () => {
    // Prepare: break-glass tags the key and takes the Denies out
    const { guard, breakGlass, key, state } = await protectedWorld();
    await breakGlass.kms.send(
      new TagResourceCommand({ KeyId: key.arn, Tags: [{ TagKey: BREAK_GLASS_TAG, TagValue: 'INC-42' }] }),
    );
    const open = defaultKeyPolicy({ ...ctx(), breakGlassRoles: [] });
    await breakGlass.kms.send(new PutKeyPolicyCommand({ KeyId: key.arn, Policy: JSON.stringify(open) }));
    // Act
    const during = await ensureKeyPolicy({
      ...steps(guard),
      key: { arn: key.arn, keyId: key.keyId, own: true },
    });
    const policyDuring = state()?.policy;
    await breakGlass.kms.send(new UntagResourceCommand({ KeyId: key.arn, TagKeys: [BREAK_GLASS_TAG] }));
    const after = await ensureKeyPolicy({
      ...steps(guard),
      key: { arn: key.arn, keyId: key.keyId, own: true },
    });
    // Assess
    expect(during.changedAt).toBeUndefined();
    expect(protectionStatus(parsePolicy(policyDuring ?? '')).protected).toBe(false);
    expect(after.changedAt).toBeDefined();
    expect(protectionStatus(parsePolicy(state()?.policy ?? '')).protected).toBe(true);
  });

  it('RESTORE_GUARD_KEY does not undo a break-glass deletion (caller or tag), and restores any other', async () => {
    // Prepare: the guard's own key behind its alias, protected, with the restore grant
    const env = { RESTORE_GUARD_KEY: 'true' };
    const { world, guard, breakGlass, key } = await protectedWorld(defaultKeyPolicy(ctx(env)));
    const setupKms = signedAs(world, KEYS.setup).kms;
    await setupKms.send(new CreateAliasCommand({ AliasName: DEFAULT_KEY_ALIAS, TargetKeyId: key.keyId }));
    await breakGlass.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.arn, PendingWindowInDays: 7 }));
    const deps = {
      clients: guard,
      config: config(env),
      log: memoryLog(),
      deadline: Date.now() + 20_000,
    };
    const change: ChangeRequest = {
      kind: 'change',
      change: 'deletion-scheduled',
      eventId: 'e1',
      keyId: key.arn,
      region: REGION,
      account: ACCOUNT,
    };
    // Act: the event names the break-glass caller
    const byCaller = await handleChange({ ...change, callerRole: BREAK_GLASS_ROLE }, deps);
    const stillPending = world.emulator.state.key(REGION, key.keyId)?.state;
    // ... the same change by anyone else is undone
    const other = await handleChange({ ...change, eventId: 'e2', callerRole: ADMIN_ROLE }, deps);
    const restored = world.emulator.state.key(REGION, key.keyId)?.state;
    // ... and a break-glass declared by the tag is not, even where the caller is unknown (the sweep's check)
    await breakGlass.kms.send(
      new TagResourceCommand({ KeyId: key.arn, Tags: [{ TagKey: BREAK_GLASS_TAG, TagValue: 'INC-42' }] }),
    );
    await breakGlass.kms.send(new DisableKeyCommand({ KeyId: key.arn }));
    const byTag = await handleChange({ ...change, change: 'key-disabled', eventId: 'e3' }, deps);
    // Assess
    expect(byCaller.outcome).toBe('key-at-risk');
    expect(byCaller.reason).toContain(`not restored: made by the break-glass role ${BREAK_GLASS_ROLE}`);
    expect(stillPending).toBe('PendingDeletion');
    expect(other.outcome).toBe('key-restored');
    expect(restored).toBe('Enabled');
    expect(byTag.outcome).toBe('key-at-risk');
    expect(byTag.reason).toContain(`not restored: break-glass in progress (${BREAK_GLASS_TAG}=INC-42)`);
    expect(world.emulator.state.key(REGION, key.keyId)?.state).toBe('Disabled');
  });
});

describe('GetKeyLastUsage in the emulator', () => {
  it('reports the last cryptographic use and its clock moves with setKeyLastUsage', async () => {
    // Prepare
    const { world, key } = await protectedWorld();
    const root = signedAs(world, KEYS.setup).kms;
    world.emulator.state.setKeyLastUsage(REGION, key.keyId, undefined);
    // Act
    const never = await root.send(new GetKeyLastUsageCommand({ KeyId: key.arn }));
    await root.send(new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('x') }));
    const used = await root.send(new GetKeyLastUsageCommand({ KeyId: key.arn }));
    const described = await root.send(new DescribeKeyCommand({ KeyId: key.arn }));
    const policy = await root.send(new GetKeyPolicyCommand({ KeyId: key.arn }));
    // Assess
    expect(never.KeyLastUsage).toBeUndefined();
    expect(never.TrackingStartDate).toBeInstanceOf(Date);
    expect(used.KeyLastUsage?.Operation).toBe('Encrypt');
    expect(used.KeyLastUsage?.Timestamp?.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(described.KeyMetadata?.KeyState).toBe('Enabled');
    expect(policy.Policy).toContain(DENY_KEY_LOSS_SID);
  });
});
