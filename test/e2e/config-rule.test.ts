/**
 * The sweep bundle (dist/sweep.mjs) as the evaluator of the guard's AWS Config rule (ConfigRule=true), end to
 * end through the real SDK against the emulator's Config (local/emulator/config.ts), under the SweepRole the
 * packaged template gives a stack deployed with ConfigRule=true: Config's invocation (with its result token) in,
 * each log group's compliance out with PutEvaluations, then only the changes on the next invocations.
 */
import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import type { IamPrincipal } from '../../local/emulator/iam.ts';
import { packagedTemplate, rolesFromTemplate } from '../../local/roles.ts';
import { callsOf, startWorld, sweepContext, type World } from './helpers.ts';

const STACK = 'logs-kms-guard-prod';
const RULE = `${STACK}-log-groups-encrypted`;

/** The SweepRole's policies as a stack deployed with `parameters` has them (resolved from the packaged template). */
function sweepPolicies(world: World, parameters: Record<string, string>): IamPrincipal['policies'] {
  const roles = rolesFromTemplate(packagedTemplate(), {
    account: world.account,
    region: world.region,
    parameters,
  });
  return roles.SweepRole?.policies ?? [];
}

/** The groups of every kind the rule tells apart, and the rule with the sweep as its function. */
async function configWorld() {
  const world = await startWorld();
  const { state } = world.emulator;
  const fn = state.createFunction(world.region, `${STACK}-sweep`);
  state.createConfigRule(world.region, RULE, fn.arn);
  const other = state.createKeyDirect(world.region, {});
  state.putLogGroup(world.region, '/app/plain', {});
  state.putLogGroup(world.region, '/app/encrypted', { kmsKeyId: other.arn });
  state.putLogGroup(world.region, 'aws/spans', {});
  state.putLogGroup(world.region, '/app/x-excluded', {});
  state.putLogGroup(world.region, '/app/skipped', { tags: { 'logs-kms-guard:skip': 'true' } });
  const withRule = sweepPolicies(world, { ConfigRule: 'true' });
  const handler = await world.sweepContainer(
    { EXCLUDE_LOG_GROUPS: '*-excluded' },
    { mutate: (p) => p.policies.splice(0, p.policies.length, ...withRule) },
  );
  const evaluate = () => handler(state.configRuleInvocation(world.region, RULE), sweepContext(world));
  const evaluations = () =>
    Object.fromEntries(
      state.configEvaluations(world.region, RULE).map((e) => [e.resourceId, e.complianceType]),
    );
  return { world, handler, evaluate, evaluations, other };
}

describe('the sweep as the Config rule evaluator', () => {
  it('reports every log group: encrypted COMPLIANT, unencrypted in scope NON_COMPLIANT, aws/ and left-alone NOT_APPLICABLE', async () => {
    // Prepare
    const { world, evaluate, evaluations } = await configWorld();

    // Act
    const result = await evaluate();

    // Assess
    expect(evaluations()).toEqual({
      '/app/plain': 'NON_COMPLIANT',
      '/app/encrypted': 'COMPLIANT',
      'aws/spans': 'NOT_APPLICABLE',
      '/app/x-excluded': 'NOT_APPLICABLE',
      '/app/skipped': 'NOT_APPLICABLE',
    });
    expect(result).toMatchObject({ configRule: RULE, groups: 5, put: 5, differential: true });
    const annotations = world.emulator.state.configEvaluations(world.region, RULE).map((e) => e.annotation);
    expect(annotations).toContain('Reserved for AWS (aws/...): no key can encrypt it.');
    expect(callsOf(world.emulator, 'PutEvaluations', 'config').every((c) => !c.error)).toBe(true);
    // Nothing was enqueued or encrypted: an evaluation is read-only.
    expect(callsOf(world.emulator, 'AssociateKmsKey')).toEqual([]);
  });

  it('puts only what changed on the next invocations (Config bills each evaluation), and closes groups that are gone', async () => {
    // Prepare
    const { world, evaluate, evaluations, other } = await configWorld();
    await evaluate();

    // Act: nothing changed; then a group encrypted, one deleted
    const unchanged = await evaluate();
    world.emulator.state.putLogGroup(world.region, '/app/plain', { kmsKeyId: other.arn });
    await world.logs.send(new DeleteLogGroupCommand({ logGroupName: '/app/encrypted' }));
    const changed = await evaluate();

    // Assess
    expect(unchanged).toMatchObject({ put: 0, differential: true });
    expect(changed).toMatchObject({ put: 2, byType: { COMPLIANT: 1, NOT_APPLICABLE: 1 } });
    expect(evaluations()).toMatchObject({ '/app/plain': 'COMPLIANT', '/app/encrypted': 'NOT_APPLICABLE' });
    // One (empty) PutEvaluations even when nothing changed: Config learns the invocation completed.
    expect(callsOf(world.emulator, 'PutEvaluations', 'config')).toHaveLength(3);
  });

  it('batches 100 evaluations a request', async () => {
    // Prepare
    const { world, evaluate, other } = await configWorld();
    // Encrypted: no tag read each (an unencrypted group's opt-out tag is read, under its quota).
    for (let i = 0; i < 230; i++)
      world.emulator.state.putLogGroup(world.region, `/bulk/${i}`, { kmsKeyId: other.arn });

    // Act
    const result = await evaluate();

    // Assess
    expect(result).toMatchObject({ groups: 235, put: 235 });
    expect(callsOf(world.emulator, 'PutEvaluations', 'config')).toHaveLength(3);
  });

  it('without ConfigRule=true the role cannot put evaluations: the grant is needed', async () => {
    // Prepare
    const world = await startWorld();
    world.expectDenials();
    const { state } = world.emulator;
    const fn = state.createFunction(world.region, `${STACK}-sweep`);
    state.createConfigRule(world.region, RULE, fn.arn);
    state.putLogGroup(world.region, '/app/plain', {});
    const handler = await world.sweepContainer();

    // Act
    const err = await handler(state.configRuleInvocation(world.region, RULE), sweepContext(world)).catch(
      (e: Error) => e,
    );

    // Assess
    expect((err as Error).name).toBe('AccessDeniedException');
    expect(
      world.emulator.authorizations.filter((a) => a.decision !== 'Allowed').map((a) => a.action),
    ).toEqual(['config:GetComplianceDetailsByConfigRule', 'config:PutEvaluations']);
  });
});
