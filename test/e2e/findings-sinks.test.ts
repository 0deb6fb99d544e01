/**
 * The findings function's EventBridge and AWS Config sinks end to end (issue 22 items 3 and 4): the deployable
 * bundle dist/findings.mjs, signed as the template's FindingsRole resolved with the stack's parameters (IAM on:
 * every request must be allowed), fed a CloudWatch Logs subscription delivery of the guard's finding lines.
 * NotifyFindings=true puts one event per finding, each valid against docs/events.schema.json; ConfigRule=true
 * has Config evaluate the guard's rule again for a log-group finding; neither: no call. Each grant is needed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GuardFinding } from '../../functions/core/finding.ts';
import { reportFinding } from '../../functions/core/finding.ts';
import { JsonLogger } from '../../functions/core/json-logger.ts';
import type { ConfigRuleEvent } from '../../local/emulator/config.ts';
import type { PutEvent } from '../../local/emulator/eventbridge.ts';
import type { IamPrincipal } from '../../local/emulator/iam.ts';
import { FINDINGS_BUNDLE, lambdaContext } from '../../local/functions.ts';
import { deployedConfigRuleId } from '../../local/roles.ts';
import { subscriptionEvent } from '../../local/subscription.ts';
import { loadContainer } from '../../local/world.ts';
import { validate } from '../core/findings/json-schema.ts';
import { type Handler, startWorld, type World } from './helpers.ts';

const FUNCTION = 'logs-kms-guard-prod-findings';
/** The rule's name as the template names it (`${AWS::StackName}-log-groups-encrypted`). */
const RULE = 'logs-kms-guard-prod-log-groups-encrypted';
const SINK_VARIABLES = ['SECURITY_HUB_FINDINGS', 'NOTIFY_FINDINGS', 'CONFIG_RULE_NAME'];
const root = path.resolve(import.meta.dirname, '..', '..');
const schema = JSON.parse(readFileSync(path.join(root, 'docs', 'events.schema.json'), 'utf8'));

function finding(world: World, kind: GuardFinding['kind'], name: string): GuardFinding {
  const group = kind !== 'key-policy-repaired';
  return {
    kind,
    state: 'ACTIVE',
    severity: 'HIGH',
    account: world.account,
    region: world.region,
    resource: group
      ? { type: 'log-group', arn: `arn:aws:logs:${world.region}:${world.account}:log-group:${name}`, name }
      : {
          type: 'kms-key',
          arn: `arn:aws:kms:${world.region}:${world.account}:key/11111111-2222-3333-4444-555555555555`,
          name,
        },
    title: `${kind}: ${name}`,
    description: `The guard reports ${kind} on ${name}.`,
    fix: `logs-kms-guard enforce --prefix ${name}`,
    observedAt: '2026-12-07T10:00:00.000Z',
  };
}

/** The subscription delivery of the finding lines the guard's own logger writes for `findings`. */
function delivery(world: World, findings: GuardFinding[]) {
  const lines: string[] = [];
  const logger = new JsonLogger({ service: 'logs-kms-guard', write: (line) => lines.push(line) });
  logger.setContext({ function_name: 'logs-kms-guard-prod-enforce' });
  for (const f of findings) reportFinding(logger, f);
  return subscriptionEvent(lines, {
    logGroup: '/aws/lambda/logs-kms-guard-prod-enforce',
    owner: world.account,
  });
}

/** A findings container as deployed with these integration settings (the role resolved with the same). */
async function container(
  world: World,
  env: Record<string, string>,
  mutate?: (p: IamPrincipal) => void,
): Promise<Handler> {
  const deployed = world.asDeployed(
    { SECURITY_HUB_FINDINGS: 'false', NOTIFY_FINDINGS: 'false', ...env },
    { role: 'FindingsRole', ...(mutate ? { mutate } : {}) },
  );
  return (await loadContainer(FINDINGS_BUNDLE, deployed, SINK_VARIABLES)) as Handler;
}

const without = (sid: string) => (principal: IamPrincipal) => {
  for (const p of principal.policies) {
    const doc = p.policy as { Statement: { Sid?: string }[] };
    doc.Statement = doc.Statement.filter((st) => st.Sid !== sid);
  }
};

/** A world with the guard's Config rule (as the template creates it) and what EventBridge and Config saw. */
async function sinkWorld() {
  const world = await startWorld();
  world.emulator.state.createConfigRule(
    world.region,
    RULE,
    `arn:aws:lambda:${world.region}:${world.account}:function:logs-kms-guard-prod-sweep`,
    deployedConfigRuleId('GuardConfigRule'),
  );
  const events: PutEvent[] = [];
  const evaluations: ConfigRuleEvent[] = [];
  world.emulator.onPutEvent((e) => events.push(e));
  world.emulator.onConfigRuleInvocation((e) => evaluations.push(e));
  const calls = (service: string) => world.emulator.calls.filter((c) => c.service === service);
  const handle = (handler: Handler, findings: GuardFinding[]) =>
    handler(delivery(world, findings), lambdaContext(world, FUNCTION, 60_000));
  return { world, events, evaluations, calls, handle };
}

/** The event as EventBridge delivers it to a rule's target. */
const delivered = (e: PutEvent) => ({
  version: '0',
  id: e.id,
  'detail-type': e.detailType,
  source: e.source,
  account: e.account,
  time: e.time,
  region: e.region,
  resources: e.resources,
  detail: e.detail,
});

describe('findings function (dist/findings.mjs): EventBridge and AWS Config sinks', () => {
  it('NotifyFindings=true alone: one event per finding, each valid against docs/events.schema.json', async () => {
    const { world, events, calls, handle } = await sinkWorld();
    const findings = [
      finding(world, 'group-not-encryptable', '/app/denied'),
      finding(world, 'key-policy-repaired', 'alias/logs-kms-guard'),
    ];
    await handle(await container(world, { NOTIFY_FINDINGS: 'true' }), findings);
    expect(events.map((e) => [e.source, e.detailType])).toEqual([
      ['logs-kms-guard', 'Log Group Not Encryptable'],
      ['logs-kms-guard', 'Key Policy Repaired'],
    ]);
    expect(events[0]?.eventBusArn).toBe(`arn:aws:events:${world.region}:${world.account}:event-bus/default`);
    for (const e of events) expect(validate(delivered(e), schema)).toEqual([]);
    expect(calls('securityhub')).toEqual([]);
    expect(calls('config')).toEqual([]);
  }, 60_000);

  it('ConfigRule=true alone: a log-group finding has Config evaluate the rule again; a key finding does not', async () => {
    const { world, events, evaluations, calls, handle } = await sinkWorld();
    const handler = await container(world, { CONFIG_RULE_NAME: RULE });
    await handle(handler, [finding(world, 'key-policy-repaired', 'alias/logs-kms-guard')]);
    expect(calls('config')).toEqual([]);
    await handle(handler, [finding(world, 'group-not-encryptable', '/app/denied')]);
    expect(calls('config').map((c) => [c.operation, c.error])).toEqual([
      ['StartConfigRulesEvaluation', undefined],
    ]);
    expect(evaluations.map((e) => e.configRuleName)).toEqual([RULE]);
    // Within the minute Config refuses another start (LimitExceededException): the delivery still succeeds.
    await expect(
      handle(handler, [finding(world, 'group-fought-over', '/app/fought')]),
    ).resolves.toMatchObject({ failed: 0 });
    // (the SDK retries it as throttling, then the sink lets it go: the running evaluation sees the change)
    const [first, ...refused] = calls('config').map((c) => c.error);
    expect(first).toBeUndefined();
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set(['LimitExceededException']));
    expect(events).toEqual([]);
    expect(calls('securityhub')).toEqual([]);
  }, 60_000);

  it('no integration on: no call to Security Hub, EventBridge or Config', async () => {
    const { world, calls, handle } = await sinkWorld();
    await handle(await container(world, {}), [finding(world, 'group-not-encryptable', '/app/denied')]);
    expect([...calls('securityhub'), ...calls('events'), ...calls('config')]).toEqual([]);
  }, 60_000);

  it.each([
    ['PutFindingEvents', { NOTIFY_FINDINGS: 'true' }, 'events:PutEvents'],
    ['StartRuleEvaluation', { CONFIG_RULE_NAME: RULE }, 'config:StartConfigRulesEvaluation'],
  ])(
    'the %s grant is needed: without it the call is denied and the delivery fails',
    async (sid, env, action) => {
      const { world, handle } = await sinkWorld();
      world.expectDenials();
      const handler = await container(world, env, without(sid));
      await expect(handle(handler, [finding(world, 'group-not-encryptable', '/app/x')])).rejects.toThrow(
        /not delivered/,
      );
      expect(
        world.emulator.authorizations.filter((a) => a.action === action).map((a) => a.decision),
      ).not.toContain('Allowed');
    },
    60_000,
  );
});
