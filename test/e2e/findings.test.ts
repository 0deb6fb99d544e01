/**
 * The findings function end to end: the deployable bundle dist/findings.mjs, signed as the template's FindingsRole
 * (IAM on: every request must be allowed), fed with CloudWatch Logs subscription deliveries made of the finding
 * lines the guard's logger writes (core/finding.ts reportFinding through core/json-logger.ts), against the
 * emulator's Security Hub. A finding is imported once and updated in place on every later delivery, from any
 * container; a resolution closes it; more than 100 go in several calls; documents sent validate as ASFF; a
 * delivery Security Hub refuses fails the invocation (Lambda retries it, then the DLQ).
 */
import { describe, expect, it } from 'vitest';
import type { FindingKind, GuardFinding } from '../../functions/core/finding.ts';
import { FINDING_MESSAGE, reportFinding } from '../../functions/core/finding.ts';
import { JsonLogger } from '../../functions/core/json-logger.ts';
import { FINDINGS_BUNDLE, lambdaContext } from '../../local/functions.ts';
import { subscriptionEvent } from '../../local/subscription.ts';
import { loadContainer } from '../../local/world.ts';
import { validateAsff } from '../core/findings/format-validators.ts';
import {
  createEvent,
  lambdaContext as enforceContext,
  existingGuardKey,
  type Handler,
  sqsBatch,
  startWorld,
  type World,
} from './helpers.ts';

const FUNCTION = 'logs-kms-guard-prod-findings';

/** The finding lines the guard's own logger writes for these findings (what the subscription filter matches). */
function findingLines(findings: GuardFinding[]): string[] {
  const lines: string[] = [];
  const logger = new JsonLogger({ service: 'logs-kms-guard', write: (line) => lines.push(line) });
  logger.setContext({ function_name: 'logs-kms-guard-prod-enforce' });
  for (const f of findings) reportFinding(logger, f);
  return lines;
}

function finding(
  world: World,
  kind: FindingKind,
  name: string,
  state: GuardFinding['state'],
  at: string,
): GuardFinding {
  const arn =
    kind === 'key-policy-repaired'
      ? `arn:aws:kms:${world.region}:${world.account}:key/11111111-2222-3333-4444-555555555555`
      : `arn:aws:logs:${world.region}:${world.account}:log-group:${name}`;
  return {
    kind,
    state,
    severity: 'HIGH',
    account: world.account,
    region: world.region,
    resource: { type: kind === 'key-policy-repaired' ? 'kms-key' : 'log-group', arn, name },
    title: `${kind}: ${name}`,
    description: `The guard reports ${kind} on ${name}.`,
    ...(state === 'ACTIVE' ? { fix: `logs-kms-guard enforce --prefix ${name}` } : {}),
    observedAt: at,
  };
}

/** A findings container (a fresh import of the bundle) as deployed with SecurityHubFindings=true. */
async function findingsContainer(world: World): Promise<Handler> {
  const env = world.asDeployed({ SECURITY_HUB_FINDINGS: 'true' }, { role: 'FindingsRole' });
  return (await loadContainer(FINDINGS_BUNDLE, env, ['SECURITY_HUB_FINDINGS'])) as Handler;
}

async function deliver(world: World, handler: Handler, findings: GuardFinding[]) {
  const event = subscriptionEvent(findingLines(findings), {
    logGroup: '/aws/lambda/logs-kms-guard-prod-enforce',
    owner: world.account,
  });
  return handler(event, lambdaContext(world, FUNCTION, 60_000));
}

describe('findings function (dist/findings.mjs) into Security Hub', () => {
  it('imports, updates in place across runs and containers, and resolves: never a duplicate', async () => {
    const sent: unknown[] = [];
    const world = await startWorld({
      intercept: (r) => {
        if (r.service === 'securityhub' && r.operation === 'BatchImportFindings')
          sent.push(...(r.input.Findings as unknown[]));
        return undefined;
      },
    });
    const stored = () => world.emulator.state.securityHubFindings(world.region);
    const first = [
      finding(world, 'group-not-encryptable', '/app/denied', 'ACTIVE', '2026-12-07T10:00:00.000Z'),
      finding(world, 'group-not-encryptable', '/app/unsafe-key', 'ACTIVE', '2026-12-07T10:00:01.000Z'),
      finding(world, 'key-policy-repaired', 'alias/logs-kms-guard', 'ACTIVE', '2026-12-07T10:00:02.000Z'),
    ];
    // Run 1
    const out = await deliver(world, await findingsContainer(world), first);
    expect(out).toMatchObject({ findings: 3, failed: 0, rejectedLines: 0 });
    expect(stored()).toHaveLength(3);
    // Run 2: the same problems seen again, later, by another container
    const again = first.map((f) => ({ ...f, observedAt: '2026-12-08T10:00:00.000Z' }));
    await deliver(world, await findingsContainer(world), again);
    expect(stored()).toHaveLength(3);
    expect(stored().map((s) => s.imports)).toEqual([2, 2, 2]);
    // Run 3: one group fixed
    const fixed = finding(
      world,
      'group-not-encryptable',
      '/app/denied',
      'RESOLVED',
      '2026-12-09T10:00:00.000Z',
    );
    await deliver(world, await findingsContainer(world), [fixed]);
    expect(stored()).toHaveLength(3);
    const resolved = stored().find((s) => String(s.finding.Id).endsWith(':log-group:/app/denied'))?.finding;
    expect(resolved).toMatchObject({
      RecordState: 'ARCHIVED',
      Compliance: { Status: 'PASSED' },
      Severity: { Label: 'INFORMATIONAL' },
    });
    expect(stored().filter((s) => s.finding.RecordState === 'ACTIVE')).toHaveLength(2);
    // What was sent: valid ASFF, the resolution carrying Workflow RESOLVED
    expect(sent).toHaveLength(7);
    for (const doc of sent) expect(validateAsff(doc)).toEqual([]);
    expect(sent.at(-1)).toMatchObject({ Workflow: { Status: 'RESOLVED' }, RecordState: 'ARCHIVED' });
  }, 60_000);

  it('a finding first seen already resolved is stored RESOLVED; an ACTIVE then RESOLVED in one delivery ends resolved', async () => {
    const world = await startWorld();
    const handler = await findingsContainer(world);
    const open = finding(world, 'group-not-encryptable', '/app/flip', 'ACTIVE', '2026-12-07T10:00:00.000Z');
    const closed = { ...open, state: 'RESOLVED' as const, observedAt: '2026-12-07T10:05:00.000Z' };
    await deliver(world, handler, [open, closed]);
    const [only] = world.emulator.state.securityHubFindings(world.region);
    expect(only?.finding).toMatchObject({ Workflow: { Status: 'RESOLVED' }, RecordState: 'ARCHIVED' });
  }, 60_000);

  it('sends 250 findings in calls of at most 100', async () => {
    const world = await startWorld();
    const handler = await findingsContainer(world);
    const many = Array.from({ length: 250 }, (_, i) =>
      finding(world, 'group-not-encryptable', `/bulk/${i}`, 'ACTIVE', '2026-12-07T10:00:00.000Z'),
    );
    await deliver(world, handler, many);
    expect(world.emulator.calls.filter((c) => c.operation === 'BatchImportFindings')).toHaveLength(3);
    expect(world.emulator.state.securityHubFindings(world.region)).toHaveLength(250);
  }, 60_000);

  it('fails the invocation when Security Hub refuses the delivery (Lambda retries it, then the DLQ): nothing dropped silently', async () => {
    const world = await startWorld();
    world.emulator.state.setSecurityHubEnabled(world.region, false);
    const handler = await findingsContainer(world);
    await expect(
      deliver(world, handler, [
        finding(world, 'group-not-encryptable', '/app/x', 'ACTIVE', '2026-12-07T10:00:00.000Z'),
      ]),
    ).rejects.toThrow(/not delivered/);
    expect(world.output.lines.some((l) => l.includes('findings not delivered'))).toBe(true);
  }, 60_000);

  it("the enforce bundle's own finding lines: a group refused on an unsafe key becomes a finding, resolved when a redelivery encrypts it", async () => {
    const world = await startWorld({ throttle: false });
    const key = await existingGuardKey(world);
    world.emulator.state.putLogGroup(world.region, '/aws/lambda/first');
    world.emulator.state.putLogGroup(world.region, '/aws/lambda/second');
    const enforce = await world.container();
    await enforce(sqsBatch(world, [createEvent(world, '/aws/lambda/first')]), enforceContext(world));
    world.emulator.state.setKeyState(world.region, key.keyId, 'Disabled');
    const refused = sqsBatch(world, [createEvent(world, '/aws/lambda/second')]);
    await enforce(refused, enforceContext(world));
    const findingLines = () => world.output.lines.filter((l) => l.includes(`"message":"${FINDING_MESSAGE}"`));
    const [active] = findingLines();
    expect(JSON.parse(active ?? '{}').finding).toMatchObject({
      kind: 'group-not-encryptable',
      state: 'ACTIVE',
    });
    const hub = await findingsContainer(world);
    const delivery = (lines: string[]) =>
      subscriptionEvent(lines, { logGroup: '/aws/lambda/logs-kms-guard-prod-enforce', owner: world.account });
    await hub(delivery(findingLines()), lambdaContext(world, FUNCTION, 60_000));
    const stored = () => world.emulator.state.securityHubFindings(world.region);
    expect(stored()).toHaveLength(1);
    expect(stored()[0]?.finding).toMatchObject({
      RecordState: 'ACTIVE',
      Compliance: { Status: 'FAILED' },
      Resources: [{ Type: 'AwsLogsLogGroup' }],
    });
    // The key is enabled again; SQS delivers the same record a second time and the guard encrypts the group.
    world.emulator.state.setKeyState(world.region, key.keyId, 'Enabled');
    const second = refused.Records[0] as { attributes: Record<string, string> };
    second.attributes.ApproximateReceiveCount = '2';
    const before = findingLines().length;
    await enforce(refused, enforceContext(world));
    const resolvedLines = findingLines().slice(before);
    expect(resolvedLines.map((l) => JSON.parse(l).finding.state)).toEqual(['RESOLVED']);
    await hub(delivery(resolvedLines), lambdaContext(world, FUNCTION, 60_000));
    expect(stored()).toHaveLength(1);
    expect(stored()[0]?.finding).toMatchObject({ RecordState: 'ARCHIVED', Compliance: { Status: 'PASSED' } });
  }, 60_000);

  it('the ImportOwnFindings grant is needed: without it every import is denied and the delivery fails', async () => {
    const world = await startWorld();
    world.expectDenials();
    const env = world.asDeployed(
      { SECURITY_HUB_FINDINGS: 'true' },
      {
        role: 'FindingsRole',
        mutate: (principal) => {
          for (const p of principal.policies) {
            const doc = p.policy as { Statement: { Sid?: string }[] };
            doc.Statement = doc.Statement.filter((st) => st.Sid !== 'ImportOwnFindings');
          }
        },
      },
    );
    const handler = (await loadContainer(FINDINGS_BUNDLE, env, ['SECURITY_HUB_FINDINGS'])) as Handler;
    await expect(
      deliver(world, handler, [
        finding(world, 'group-not-encryptable', '/app/y', 'ACTIVE', '2026-12-07T10:00:00.000Z'),
      ]),
    ).rejects.toThrow(/not delivered/);
    expect(
      world.emulator.authorizations
        .filter((a) => a.action === 'securityhub:BatchImportFindings')
        .map((a) => a.decision),
    ).not.toContain('Allowed');
    expect(world.emulator.state.securityHubFindings(world.region)).toEqual([]);
  }, 60_000);
});
