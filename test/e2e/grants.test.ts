/**
 * Every grant of the enforce role is needed, and the deny guard rails hold (issue 11, promise (c)): each
 * statement of the EnforceRole the packaged template defines is removed in turn, and the end-to-end
 * scenarios are run under the role without it; at least one of them must fail. The role is shared by the
 * enforce and the changes function: the local pipeline routes each message to the function the template
 * routes it to (local/stack.ts), so a statement only the changes function uses (key creation on a key check,
 * a group that lost its key) is proven through the changes bundle. The deny statements are
 * removed in turn too, and the request each exists for must then go through. A grant the guard does not
 * need, or a guard rail that guards nothing, fails here.
 */

import { DisassociateKmsKeyCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateAliasCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyCheckItem } from '../../functions/core/change-event.ts';
import { defaultKeyPolicy, retireStatement } from '../../functions/core/policy.ts';
import type { IamPrincipal } from '../../local/emulator/iam.ts';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { type CfnTemplate, deployRole, packagedTemplate, rolesFromTemplate } from '../../local/roles.ts';
import { ACCOUNT, GUARD_ALIAS, REGION } from '../../local/world.ts';
import { policyOf, rootStatement, sleep } from '../helpers.ts';
import { createEvent, existingGuardKey, startWorld, type World } from './helpers.ts';

type Statement = { Sid?: string; Effect: string };
const ctx = { partition: 'aws' as const, region: REGION, account: ACCOUNT };

let template: CfnTemplate;
beforeAll(() => {
  template = packagedTemplate();
});

/** The role's statements as deployed with a configured key and policy updates allowed (the widest form). */
function enforceStatements(): Statement[] {
  const parameters = {
    KmsKeyArn: `arn:aws:kms:${REGION}:${ctx.account}:key/0`,
    AllowKeyPolicyUpdate: 'true',
  };
  const role = rolesFromTemplate(template, { account: ctx.account, region: REGION, parameters }).EnforceRole;
  const policy = role?.policies[0]?.policy as { Statement: Statement[] } | undefined;
  if (!policy) throw new Error('the packaged template has no EnforceRole policy');
  return policy.Statement;
}

const without = (sid: string) => (principal: IamPrincipal) => {
  for (const p of principal.policies) {
    const doc = p.policy as { Statement: Statement[] };
    doc.Statement = doc.Statement.filter((s) => s.Sid !== sid);
  }
};

/** A started local queue with one enforce container under the (mutated) role, or why it could not start. */
async function pipelineUnder(
  world: World,
  settings: Record<string, string>,
  mutate?: (p: IamPrincipal) => void,
): Promise<LocalPipeline | string> {
  // Every setting explicit: LocalPipeline writes process.env, and one scenario must not inherit another's key.
  const pipeline = world.pipeline({
    concurrency: 1,
    visibilityTimeoutMs: 200,
    maxReceiveCount: 2,
    timeoutMs: 5_000,
    env: { KMS_KEY_ARN: '', ALLOW_KEY_POLICY_UPDATE: 'false', ...settings },
    ...(mutate ? { mutate } : {}),
  });
  try {
    await pipeline.start();
    return pipeline;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Runs the stack's functions through the local queue under the (mutated) role; what went wrong, or undefined.
 * `keyCheck`: first a guard key check (KeyCheckScheduleRule's item, to the changes function), which creates the
 * missing guard key as the deployment does; the create events go to the enforce function once it is done.
 */
async function runScenario(
  world: World,
  settings: Record<string, string>,
  groups: string[],
  mutate?: (p: IamPrincipal) => void,
  keyCheck = false,
): Promise<string | undefined> {
  const pipeline = await pipelineUnder(world, settings, mutate);
  if (typeof pipeline === 'string') return pipeline;
  try {
    if (keyCheck) {
      pipeline.send(keyCheckItem({ region: world.region, account: world.account, id: 'grants-key-check' }));
      if (!(await pipeline.drain(15_000))) return 'the key check did not drain';
      if (pipeline.dlq.length > 0) return 'the key check failed (in the DLQ)';
      if (!world.emulator.state.key(world.region, GUARD_ALIAS)) return 'the key check created no guard key';
    }
    for (const name of groups) {
      world.emulator.state.putLogGroup(world.region, name);
      pipeline.send(createEvent(world, name));
    }
    if (!(await pipeline.drain(15_000))) return 'the queue did not drain';
    if (pipeline.dlq.length > 0) return `${pipeline.dlq.length} record(s) in the DLQ`;
    const left = groups.filter((g) => !world.emulator.state.logGroup(world.region, g)?.kmsKeyId);
    if (left.length > 0) return `${left.length} group(s) left unencrypted`;
    const denied = world.emulator.authorizations.filter(
      (a) => a.decision !== 'Allowed' && a.accessKeyId.startsWith('enforce-role'),
    );
    if (denied.length > 0) return `refused: ${denied[0]?.action}`;
    return undefined;
  } finally {
    await pipeline.stop();
  }
}

/**
 * The scenarios: a fresh region (the changes function's key check creates the guard key, then the enforce
 * function uses it), and a configured key the guard must repair.
 */
async function scenarios(mutate?: (p: IamPrincipal) => void): Promise<string[]> {
  const failures: string[] = [];
  const fresh = await startWorld({ throttle: false, propagationDelayMs: 0 });
  fresh.expectDenials();
  const a = await runScenario(fresh, {}, ['/fresh/a', '/fresh/b'], mutate, true);
  if (a) failures.push(`fresh region: ${a}`);
  const configured = await startWorld({ throttle: false, propagationDelayMs: 0 });
  configured.expectDenials();
  const key = configured.emulator.state.createKeyDirect(REGION, {
    policy: policyOf(rootStatement(ctx.account)),
  });
  const b = await runScenario(
    configured,
    { KMS_KEY_ARN: key.arn, ALLOW_KEY_POLICY_UPDATE: 'true' },
    ['/configured/a', '/configured/b'],
    mutate,
  );
  if (b) failures.push(`configured key: ${b}`);
  const c = await reEncryptScenario(mutate);
  if (c) failures.push(`a group that lost its key: ${c}`);
  const d = await overrideScenario(mutate);
  if (d) failures.push(`ALLOW_KEY_OVERRIDE: ${d}`);
  return failures;
}

/** A group on the guard key loses it (DisassociateKmsKey); its CloudTrail event must bring the key back. */
async function reEncryptScenario(mutate?: (p: IamPrincipal) => void): Promise<string | undefined> {
  const world = await startWorld({ throttle: false, propagationDelayMs: 0 });
  world.expectDenials();
  const events: unknown[] = [];
  world.emulator.onEvent((e) => events.push(e));
  const key = await existingGuardKey(world);
  world.emulator.state.putLogGroup(REGION, '/lost/key', { kmsKeyId: key.arn });
  await world.logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/lost/key' }));
  const pipeline = await pipelineUnder(world, {}, mutate);
  if (typeof pipeline === 'string') return pipeline;
  try {
    for (let i = 0; i < 50 && events.length === 0; i++) await sleep(10);
    for (const e of events) pipeline.send(e);
    if (!(await pipeline.drain(15_000))) return 'the queue did not drain';
    if (world.emulator.state.logGroup(REGION, '/lost/key')?.kmsKeyId !== key.arn) {
      const seen = world.output.decisions().map((d) => `${d.outcome}: ${d.reason}`);
      return `not encrypted again (${events.length} event(s); ${seen.join('; ')})`;
    }
    return undefined;
  } finally {
    await pipeline.stop();
  }
}

/** ALLOW_KEY_OVERRIDE: a group on a team's key is taken over, the team's key recorded on it (issue 21 item 1). */
async function overrideScenario(mutate?: (p: IamPrincipal) => void): Promise<string | undefined> {
  const world = await startWorld({ throttle: false, propagationDelayMs: 0 });
  world.expectDenials();
  const key = await existingGuardKey(world);
  const team = world.emulator.state.createKeyDirect(REGION, {
    policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
  });
  world.emulator.state.putLogGroup(REGION, '/team/taken', { kmsKeyId: team.arn });
  const pipeline = await pipelineUnder(world, { ALLOW_KEY_OVERRIDE: 'true' }, mutate);
  if (typeof pipeline === 'string') return pipeline;
  try {
    pipeline.send(createEvent(world, '/team/taken'));
    if (!(await pipeline.drain(15_000))) return 'the queue did not drain';
    const group = world.emulator.state.logGroup(REGION, '/team/taken');
    if (group?.kmsKeyId !== key.arn) return 'not taken over';
    if (!Object.keys(group.tags).some((k) => k.endsWith(team.keyId))) return 'no key-dependency record';
    return undefined;
  } finally {
    await pipeline.stop();
  }
}

describe('every EnforceRole grant is needed', () => {
  it('control: the scenarios pass under the role as packaged', async () => {
    expect(await scenarios()).toEqual([]);
  });

  const sids = [
    'OwnLogs',
    'ConsumeQueue',
    'DescribeLogGroups',
    'AssociateKmsKey',
    'KmsReadKeys',
    'KmsCreateGuardKey',
  ];
  sids.push(
    'KmsCreateGuardAlias',
    'KmsUseConfiguredKeyThroughLogs',
    'KmsUpdateConfiguredKeyPolicy',
    'ReadGroupTags',
    'KeyRecordTags',
  );

  it('the list below covers every Allow statement of the role', () => {
    const allows = enforceStatements()
      .filter((s) => s.Effect === 'Allow')
      .map((s) => s.Sid);
    expect(allows.sort()).toEqual([...sids].sort());
  });

  for (const sid of sids) {
    it(`without ${sid}, a scenario fails`, async () => {
      // Act
      const failures = await scenarios(without(sid));

      // Assess
      expect(failures.length, `removing ${sid} broke nothing`).toBeGreaterThan(0);
    }, 60_000);
  }
});

describe('every EnforceRole deny is load-bearing', () => {
  it('the deny statements are exactly these', () => {
    const denies = enforceStatements()
      .filter((s) => s.Effect === 'Deny')
      .map((s) => s.Sid);
    expect(denies.sort()).toEqual(['DenyDeletingAliasedKeys', 'DenyPolicyLockoutBypass']);
  });

  /** A guard key as the guard made it, behind its alias, plus a client signing as the (mutated) role. */
  async function guardKeyAndRole(mutate?: (p: IamPrincipal) => void) {
    const world = await startWorld({
      throttle: false,
      iam: { authorizationLagMs: 100 },
    });
    world.expectDenials();
    const env = deployRole(world.emulator, { role: 'EnforceRole', region: REGION, env: {}, mutate });
    const guardRoles = [env.GUARD_ROLE_ARN as string];
    const policy = defaultKeyPolicy({ ...ctx, guardRoles });
    // The retire statement left in place (the winner's PutKeyPolicy failed): only the Deny stops deletion.
    policy.Statement.push(retireStatement({ ...ctx, guardRoles }) as never);
    const key = world.emulator.state.createKeyDirect(REGION, { policy: JSON.stringify(policy) });
    await world.kms.send(new CreateAliasCommand({ AliasName: GUARD_ALIAS, TargetKeyId: key.keyId }));
    await world.kms.send(
      new TagResourceCommand({
        KeyId: key.keyId,
        Tags: [{ TagKey: 'ManagedBy', TagValue: 'logs-kms-guard' }],
      }),
    );
    await sleep(300); // the alias now counts for kms:ResourceAliases
    const { kms } = world.clients(REGION, {
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID as string, secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    return { world, key, kms, policy };
  }

  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'OK',
      (err: Error) => err.name,
    );

  it.each([
    ['DenyDeletingAliasedKeys', 'ScheduleKeyDeletion of the guard key'],
    ['DenyPolicyLockoutBypass', 'PutKeyPolicy with BypassPolicyLockoutSafetyCheck'],
  ])('%s: refused with it, allowed without it (%s)', async (sid) => {
    const attack = async (mutate?: (p: IamPrincipal) => void) => {
      const { kms, key, policy } = await guardKeyAndRole(mutate);
      return sid === 'DenyDeletingAliasedKeys'
        ? outcome(kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 })))
        : outcome(
            kms.send(
              new PutKeyPolicyCommand({
                KeyId: key.keyId,
                PolicyName: 'default',
                Policy: JSON.stringify(policy),
                BypassPolicyLockoutSafetyCheck: true,
              }),
            ),
          );
    };
    expect(await attack()).toBe('AccessDeniedException');
    expect(await attack(without(sid))).toBe('OK');
  });
});

describe('the attack matrix has teeth: the old template grants are caught', () => {
  it('with the old tag and retire grants back in IAM, chain 1 deletes a foreign key', async () => {
    // Prepare: the EnforceRole plus the two statements of the reviewed-out template.
    const world = await startWorld({
      throttle: false,
      iam: { authorizationLagMs: 100 },
    });
    world.expectDenials();
    const keys = `arn:aws:kms:${REGION}:${ctx.account}:key/*`;
    const old = (p: IamPrincipal) => {
      const doc = p.policies[0]?.policy as { Statement: unknown[] } | undefined;
      if (!doc) throw new Error('the EnforceRole has no policy');
      doc.Statement.push(
        {
          Sid: 'KmsTagAtCreation',
          Effect: 'Allow',
          Action: 'kms:TagResource',
          Resource: keys,
          Condition: {
            StringEquals: {
              'aws:RequestTag/ManagedBy': 'logs-kms-guard',
              'aws:RequestTag/logs-kms-guard:role': 'candidate',
            },
            'ForAllValues:StringEquals': { 'aws:TagKeys': ['ManagedBy', 'logs-kms-guard:role'] },
          },
        },
        {
          Sid: 'KmsRetireUnusedCandidateKeys',
          Effect: 'Allow',
          Action: 'kms:ScheduleKeyDeletion',
          Resource: keys,
          Condition: {
            StringEquals: {
              'aws:ResourceTag/ManagedBy': 'logs-kms-guard',
              'aws:ResourceTag/logs-kms-guard:role': 'candidate',
            },
            NumericGreaterThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': '7' },
          },
        },
      );
    };
    const env = deployRole(world.emulator, { role: 'EnforceRole', region: REGION, env: {}, mutate: old });
    const foreign = world.emulator.state.createKeyDirect(REGION, {
      policy: policyOf(rootStatement(ctx.account)),
    });
    const { kms } = world.clients(REGION, {
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID as string, secretAccessKey: 'x' },
      maxAttempts: 1,
    });

    // Act: the chain, step by step
    await kms.send(
      new TagResourceCommand({
        KeyId: foreign.keyId,
        Tags: [
          { TagKey: 'ManagedBy', TagValue: 'logs-kms-guard' },
          { TagKey: 'logs-kms-guard:role', TagValue: 'candidate' },
        ],
      }),
    );
    await sleep(300);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: foreign.keyId, PendingWindowInDays: 7 }));

    // Assess: the old grants let the role destroy a key it never created; today's template does not (above).
    expect(world.emulator.state.key(REGION, foreign.keyId)?.state).toBe('PendingDeletion');
  });
});
