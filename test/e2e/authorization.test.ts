/**
 * Authorization as AWS enforces it (issue 11): the function roles of the packaged template, evaluated by the
 * emulator with a third-party IAM evaluator (local/emulator/iam.ts). An attack matrix: every key-management
 * or direct-use request a function role could make on a key the guard did not create is denied, in both key
 * modes, including the two escalation chains the template review found, replayed step by step after the tags
 * and aliases they set have had time to count for authorization. And the guard's own key is safe from its
 * own role where it must be (no policy-lockout bypass, no deletion once it is in use).
 */
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateAliasCommand,
  CreateGrantCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DisableKeyCommand,
  EncryptCommand,
  type KMSClient,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { defaultKeyPolicy, GUARD_RETIRE_SID, retireStatement } from '../../functions/core/policy.ts';
import { deployRole } from '../../local/roles.ts';
import { ACCOUNT, GUARD_ALIAS, REGION } from '../../local/world.ts';
import { sleep } from '../helpers.ts';
import { createEvent, lambdaContext, startWorld, type World } from './helpers.ts';

/** Tags and aliases count for authorization after this long (real ms): the chains wait it out. */
const LAG_MS = 150;
const ctx = { partition: 'aws' as const, region: REGION, account: ACCOUNT };

interface Scene {
  world: World;
  /** A team's key behind its own alias, policy delegating to IAM (the common case an attacker wants). */
  aliased: { arn: string; keyId: string; alias: string };
  /** A team's key used by ARN only (no alias): what the old retire grant could have deleted. */
  bare: { arn: string; keyId: string };
  roleClient(role: 'EnforceRole' | 'SweepRole'): KMSClient;
  guardRole: string;
}

async function scene(mode: 'guard-key' | 'configured-key', guardAliasExists: boolean): Promise<Scene> {
  const world = await startWorld({
    throttle: false,
    propagationDelayMs: 0,
    iam: { authorizationLagMs: LAG_MS },
  });
  // The attacks are refused on purpose; the guard's own first event (below) is checked separately.
  world.expectDenials();
  const policy = JSON.stringify(defaultKeyPolicy(ctx));
  const team = world.emulator.state.createKeyDirect(REGION, { policy, tags: { team: 'payments' } });
  await world.kms.send(new CreateAliasCommand({ AliasName: 'alias/payments', TargetKeyId: team.keyId }));
  const bare = world.emulator.state.createKeyDirect(REGION, { policy, tags: { team: 'search' } });
  const settings: Record<string, string> = {};
  if (mode === 'configured-key') {
    const configured = world.emulator.state.createKeyDirect(REGION, { policy });
    settings.KMS_KEY_ARN = configured.arn;
    settings.ALLOW_KEY_POLICY_UPDATE = 'true';
  }
  const enforceEnv = world.asDeployed(settings);
  if (guardAliasExists && mode === 'guard-key') {
    // The guard made its key the way it does in production: the deployment's key check in a changes
    // container (GuardKeyReady; the enforce function creates no key), then the first event, through the bundle.
    await world.deployKey(settings);
    await world.logs.send(new CreateLogGroupCommand({ logGroupName: '/first' }));
    const handler = await world.container(settings);
    const out = await handler(createEvent(world, '/first'), lambdaContext(world));
    expect(out).toMatchObject({ outcome: 'encrypted' });
  }
  const sweepEnv = deployRole(world.emulator, { role: 'SweepRole', region: REGION, env: settings });
  const clientFor = (env: Record<string, string>) =>
    world.clients(REGION, {
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID as string, secretAccessKey: 'x' },
      maxAttempts: 1,
    }).kms;
  return {
    world,
    aliased: { arn: team.arn, keyId: team.keyId, alias: 'alias/payments' },
    bare: { arn: bare.arn, keyId: bare.keyId },
    roleClient: (role) => clientFor(role === 'EnforceRole' ? enforceEnv : sweepEnv),
    guardRole: enforceEnv.GUARD_ROLE_ARN as string,
  };
}

/** Sends a command and answers the error name (or 'OK' when it was allowed). */
async function attempt(kms: KMSClient, command: unknown): Promise<string> {
  try {
    await kms.send(command as never);
    return 'OK';
  } catch (err) {
    return (err as Error).name;
  }
}

/** The emulator's truth about a key, to prove a denied request changed nothing. */
function fingerprint(s: Scene, keyId: string) {
  const k = s.world.emulator.state.key(REGION, keyId);
  return JSON.stringify([k?.state, k?.policy, k?.tags, k?.aliases, k?.rotation]);
}

/** Every single request of the matrix, against one foreign key. */
function attacks(key: { arn: string; keyId: string }, s: Scene): [string, unknown][] {
  const looksGuard = [
    { TagKey: 'ManagedBy', TagValue: 'logs-kms-guard' },
    { TagKey: 'logs-kms-guard:role', TagValue: 'candidate' },
  ];
  return [
    ['TagResource as the guard', new TagResourceCommand({ KeyId: key.keyId, Tags: looksGuard })],
    [
      'TagResource ManagedBy only',
      new TagResourceCommand({ KeyId: key.keyId, Tags: [looksGuard[0] as never] }),
    ],
    ['UntagResource', new UntagResourceCommand({ KeyId: key.keyId, TagKeys: ['team'] })],
    ['ScheduleKeyDeletion', new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 })],
    ['DisableKey', new DisableKeyCommand({ KeyId: key.keyId })],
    [
      'PutKeyPolicy (add itself)',
      new PutKeyPolicyCommand({
        KeyId: key.keyId,
        PolicyName: 'default',
        Policy: JSON.stringify(defaultKeyPolicy({ ...ctx, guardRoles: [s.guardRole] })),
      }),
    ],
    [
      'CreateAlias (guard alias → this key)',
      new CreateAliasCommand({ AliasName: GUARD_ALIAS, TargetKeyId: key.keyId }),
    ],
    [
      'CreateAlias (other alias)',
      new CreateAliasCommand({ AliasName: 'alias/mine', TargetKeyId: key.keyId }),
    ],
    [
      'UpdateAlias (guard alias → this key)',
      new UpdateAliasCommand({ AliasName: GUARD_ALIAS, TargetKeyId: key.keyId }),
    ],
    [
      'CreateGrant',
      new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: s.guardRole, Operations: ['Decrypt'] }),
    ],
    ['Encrypt (direct, not via Logs)', new EncryptCommand({ KeyId: key.keyId, Plaintext: Buffer.from('x') })],
    [
      'Decrypt (direct, not via Logs)',
      new DecryptCommand({ KeyId: key.keyId, CiphertextBlob: Buffer.from('x') }),
    ],
  ];
}

describe('attack matrix: a function role cannot harm or use a key the guard did not create', () => {
  const cases = [
    ['guard-key', false],
    ['guard-key', true],
    ['configured-key', false],
  ] as const;
  for (const [mode, aliasExists] of cases) {
    for (const role of ['EnforceRole', 'SweepRole'] as const) {
      it(`${role}, ${mode} mode${mode === 'guard-key' ? `, guard alias ${aliasExists ? 'exists' : 'not yet created'}` : ''}`, async () => {
        // Prepare
        const s = await scene(mode, aliasExists);
        const kms = s.roleClient(role);
        const before = [fingerprint(s, s.aliased.keyId), fingerprint(s, s.bare.keyId)];

        // Act
        const results: Record<string, string> = {};
        for (const key of [s.aliased, s.bare]) {
          for (const [label, command] of attacks(key, s)) {
            results[`${key === s.aliased ? 'aliased' : 'bare'}: ${label}`] = await attempt(kms, command);
          }
        }
        results['aliased: UpdateAlias (its alias → other key)'] = await attempt(
          kms,
          new UpdateAliasCommand({ AliasName: s.aliased.alias, TargetKeyId: s.bare.keyId }),
        );
        results['aliased: DeleteAlias'] = await attempt(
          kms,
          new DeleteAliasCommand({ AliasName: s.aliased.alias }),
        );

        // Assess: every one refused, nothing changed
        for (const [label, result] of Object.entries(results)) {
          // UpdateAlias of a guard alias that does not exist yet is NotFoundException before any authorization.
          const refusal =
            label.includes('UpdateAlias (guard alias') && !aliasExists
              ? 'NotFoundException'
              : 'AccessDeniedException';
          expect.soft(result, label).toBe(refusal);
        }
        expect([fingerprint(s, s.aliased.keyId), fingerprint(s, s.bare.keyId)]).toEqual(before);
        expect(s.world.emulator.state.key(REGION, GUARD_ALIAS)?.keyId ?? 'none').not.toBe(s.aliased.keyId);
      });
    }
  }
});

describe('the escalation chains of the old template, replayed after tags and aliases count', () => {
  it('chain 1: tag a foreign key as a guard candidate, wait, schedule its deletion: denied at every step', async () => {
    // Prepare
    const s = await scene('guard-key', true);
    const kms = s.roleClient('EnforceRole');
    const before = fingerprint(s, s.bare.keyId);

    // Act
    const tag = await attempt(
      kms,
      new TagResourceCommand({
        KeyId: s.bare.keyId,
        Tags: [
          { TagKey: 'ManagedBy', TagValue: 'logs-kms-guard' },
          { TagKey: 'logs-kms-guard:role', TagValue: 'candidate' },
        ],
      }),
    );
    // Even if someone else tags it so (anyone with TagResource can), the role still cannot delete it.
    await s.world.kms.send(
      new TagResourceCommand({
        KeyId: s.bare.keyId,
        Tags: [
          { TagKey: 'ManagedBy', TagValue: 'logs-kms-guard' },
          { TagKey: 'logs-kms-guard:role', TagValue: 'candidate' },
        ],
      }),
    );
    await sleep(LAG_MS * 3);
    const schedule = await attempt(
      kms,
      new ScheduleKeyDeletionCommand({ KeyId: s.bare.keyId, PendingWindowInDays: 7 }),
    );

    // Assess
    expect(tag).toBe('AccessDeniedException');
    expect(schedule).toBe('AccessDeniedException');
    expect(s.world.emulator.state.key(REGION, s.bare.keyId)?.state).toBe('Enabled');
    expect(fingerprint(s, s.bare.keyId)).not.toBe(before); // the admin's tags landed; the key lives on
  });

  it('chain 2: before the guard alias exists, point it at a foreign key, tag it, rewrite its policy: denied', async () => {
    // Prepare
    const s = await scene('guard-key', false);
    const kms = s.roleClient('EnforceRole');
    const before = fingerprint(s, s.bare.keyId);

    // Act
    const alias = await attempt(
      kms,
      new CreateAliasCommand({ AliasName: GUARD_ALIAS, TargetKeyId: s.bare.keyId }),
    );
    const tag = await attempt(
      kms,
      new TagResourceCommand({
        KeyId: s.bare.keyId,
        Tags: [{ TagKey: 'ManagedBy', TagValue: 'logs-kms-guard' }],
      }),
    );
    await sleep(LAG_MS * 3);
    const put = await attempt(
      kms,
      new PutKeyPolicyCommand({
        KeyId: s.bare.keyId,
        PolicyName: 'default',
        Policy: JSON.stringify(defaultKeyPolicy({ ...ctx, guardRoles: [s.guardRole] })),
      }),
    );

    // Assess
    expect([alias, tag, put]).toEqual([
      'AccessDeniedException',
      'AccessDeniedException',
      'AccessDeniedException',
    ]);
    expect(s.world.emulator.state.key(REGION, GUARD_ALIAS)).toBeUndefined();
    expect(fingerprint(s, s.bare.keyId)).toBe(before);
  });
});

describe("the guard's own key against its own role", () => {
  it('no policy-lockout bypass, no DisableKey, no deletion once it is in use, no direct use', async () => {
    // Prepare
    const s = await scene('guard-key', true);
    const kms = s.roleClient('EnforceRole');
    const guard = s.world.emulator.state.key(REGION, GUARD_ALIAS);
    if (!guard) throw new Error('the guard key was not created');

    // Act
    const results = {
      bypass: await attempt(
        kms,
        new PutKeyPolicyCommand({
          KeyId: guard.keyId,
          PolicyName: 'default',
          Policy: guard.policy,
          BypassPolicyLockoutSafetyCheck: true,
        }),
      ),
      disable: await attempt(kms, new DisableKeyCommand({ KeyId: guard.keyId })),
      schedule: await attempt(
        kms,
        new ScheduleKeyDeletionCommand({ KeyId: guard.keyId, PendingWindowInDays: 30 }),
      ),
      encrypt: await attempt(kms, new EncryptCommand({ KeyId: guard.keyId, Plaintext: Buffer.from('x') })),
      deleteAlias: await attempt(kms, new DeleteAliasCommand({ AliasName: GUARD_ALIAS })),
    };

    // Assess
    expect(guard.policy).not.toContain(GUARD_RETIRE_SID);
    expect(results).toEqual({
      bypass: 'AccessDeniedException',
      disable: 'AccessDeniedException',
      schedule: 'AccessDeniedException',
      encrypt: 'AccessDeniedException',
      deleteAlias: 'AccessDeniedException',
    });
    expect(s.world.emulator.state.key(REGION, GUARD_ALIAS)?.state).toBe('Enabled');
  });

  it('a guard key that kept its retire statement (housekeeping failed) cannot be deleted once its alias counts', async () => {
    // Prepare: the retire statement left in place, as when the winner's PutKeyPolicy failed
    const s = await scene('guard-key', true);
    const kms = s.roleClient('EnforceRole');
    const guard = s.world.emulator.state.key(REGION, GUARD_ALIAS);
    if (!guard) throw new Error('the guard key was not created');
    const policy = JSON.parse(guard.policy);
    policy.Statement.push(retireStatement({ ...ctx, guardRoles: [s.guardRole] }));
    await s.world.kms.send(
      new PutKeyPolicyCommand({ KeyId: guard.keyId, PolicyName: 'default', Policy: JSON.stringify(policy) }),
    );
    await sleep(LAG_MS * 3);

    // Act
    const schedule = await attempt(
      kms,
      new ScheduleKeyDeletionCommand({ KeyId: guard.keyId, PendingWindowInDays: 7 }),
    );

    // Assess: DenyDeletingAliasedKeys holds once kms:ResourceAliases counts
    expect(schedule).toBe('AccessDeniedException');
    expect(s.world.emulator.state.key(REGION, GUARD_ALIAS)?.state).toBe('Enabled');
  });
});
