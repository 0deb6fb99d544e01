/**
 * Infrastructure as code that removes keys, end to end (dist/changes.mjs, which gets the DisassociateKmsKey
 * events, dist/enforce.mjs and dist/sweep.mjs under their deployed roles, emulator): a Terraform-like client (its calls recorded with the Terraform AWS provider's
 * user agent, local/emulator/trail-callers.ts) takes the key at every apply; the group ends encrypted after
 * each, IacConflict is counted once, the fix names the real key; and the sweep, finding the group between an
 * apply and a lost event, encrypts it once and then has nothing left to do (no loop, no second alarm).
 */
import { DisassociateKmsKeyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { FINDING_MESSAGE } from '../../functions/core/finding.ts';
import { TRAIL_CALLER_HEADER } from '../../local/emulator/trail-callers.ts';
import { CHANGES_FUNCTION } from '../../local/functions.ts';
import { credentials, sdkClients } from '../../local/world.ts';
import { testIo } from '../cli/helpers.ts';
import { sleep } from '../helpers.ts';
import { existingGuardKey, lambdaContext, startWorld, sweepContext, type World } from './helpers.ts';

const GROUP = '/platform/audit';

/** A CloudWatch Logs client whose calls the emulator records as `tool`'s (its user agent and identity). */
function toolClient(world: World, tool: string) {
  const { logs } = sdkClients(world.emulator, world.region);
  logs.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers[TRAIL_CALLER_HEADER] = tool;
      return next(args);
    },
    { step: 'build', name: 'trailCaller' },
  );
  return logs;
}

/** A world with the guard key, GROUP on it, the changes function's own log group, and every CloudTrail event kept. */
async function fightWorld() {
  const world = await startWorld({ throttle: false, propagationDelayMs: 0 });
  const events: Record<string, any>[] = [];
  world.emulator.onEvent((e) => events.push(e as Record<string, any>));
  const key = await existingGuardKey(world);
  world.emulator.state.putLogGroup(world.region, GROUP, { kmsKeyId: key.arn });
  // The stack creates the changes function's log group: the fight records live there (core/fight-record.ts;
  // the DisassociateKmsKey events go to the changes function, and `audit` reads them there, cli/fights.ts).
  world.emulator.state.putLogGroup(world.region, `/aws/lambda/${CHANGES_FUNCTION}`, { kmsKeyId: key.arn });
  return { world, key, events };
}

/** One `terraform apply` on a group declared without kms_key_id: its DisassociateKmsKey event, once delivered. */
async function apply(world: World, events: Record<string, any>[], tool = 'terraform') {
  const seen = events.length;
  await toolClient(world, tool).send(new DisassociateKmsKeyCommand({ logGroupName: GROUP }));
  for (let i = 0; i < 100; i++) {
    const found = events.slice(seen).find((e) => e.detail?.eventName === 'DisassociateKmsKey');
    if (found) return structuredClone(found);
    await sleep(10);
  }
  throw new Error('no DisassociateKmsKey event was emitted');
}

describe('a Terraform-managed group without kms_key_id, applied again and again', () => {
  it('is encrypted again after every apply; one IacConflict, one line with the fix and the real key ARN', async () => {
    // Prepare
    const { world, key, events } = await fightWorld();
    const keyAfter: (string | undefined)[] = [];
    const outcomes: string[] = [];

    // Act: four applies, each handled by a fresh container (nothing remembered in memory)
    for (let i = 0; i < 4; i++) {
      const event = await apply(world, events);
      expect(event.detail.userAgent).toContain('terraform-provider-aws/');
      expect(world.emulator.state.logGroup(world.region, GROUP)?.kmsKeyId).toBeUndefined();
      // A fresh container of the stack: the event goes to the changes function, as KeyChangesRule routes it.
      const handler = await world.container();
      const out = (await handler(event, lambdaContext(world))) as { outcome: string };
      outcomes.push(out.outcome);
      keyAfter.push(world.emulator.state.logGroup(world.region, GROUP)?.kmsKeyId);
    }

    // Assess
    expect(outcomes).toEqual(Array(4).fill('fight-re-encrypted'));
    expect(keyAfter).toEqual(Array(4).fill(key.arn));
    const metrics = world.output.metrics();
    expect(metrics.IacConflict).toBe(1);
    // One NeedsAttentionAlarm per group fought over, not one per apply.
    expect(metrics.NeedsAttention).toBe(1);
    expect(metrics.IacReEncrypted).toBe(4);
    expect(metrics.ReEncrypted).toBeUndefined();
    const json = world.output.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, any>];
      } catch {
        return [];
      }
    });
    const alarms = json.filter((l) => l.level === 'ERROR' && l.tool === 'terraform');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.message).toContain(GROUP);
    expect(alarms[0]?.fix).toContain(`kms_key_id = "${key.arn}"`);
    expect(alarms[0]?.fix).toContain('lifecycle { ignore_changes = [kms_key_id] }');
    expect(json.filter((l) => l.message === FINDING_MESSAGE)).toHaveLength(1);

    // Act: `audit`, as a user runs it, in each format
    const audit = async (...args: string[]) => {
      const t = testIo({
        clients: defaultClientFactory({ endpoint: world.emulator.endpoint, credentials }),
        env: { AWS_REGION: world.region },
      });
      const code = await run(['audit', ...args], t.io);
      return { code, out: t.stdout(), err: t.stderr() };
    };
    const asJson = await audit('--json');
    const asCsv = await audit('--format', 'csv');
    const asTable = await audit();
    const asHtml = await audit('--format', 'html', '--unencrypted');

    // Assess: the group is listed as fought over by Terraform, with the fix (the real key), and it is a finding
    expect(asJson.code).toBe(1);
    const report = JSON.parse(asJson.out);
    const row = report.groups.find((g: { logGroup: string }) => g.logGroup === GROUP);
    expect(row).toMatchObject({
      keyState: 'guard-key',
      foughtBy: expect.stringMatching(/^terraform since \d{4}-/),
    });
    expect(report.foughtOver).toEqual([
      expect.objectContaining({
        logGroup: GROUP,
        fixes: [expect.stringContaining(`kms_key_id = "${key.arn}"`)],
      }),
    ]);
    expect(asJson.err).toContain(`${GROUP}: Terraform: in the aws_cloudwatch_log_group`);
    expect(asCsv.out.split('\n')[0]).toMatch(/,foughtBy$/);
    expect(asCsv.out).toMatch(new RegExp(`${GROUP},guard-key.*,terraform since`));
    expect(asTable.out.replace(/\s+/g, ' ')).toContain('fought over: terraform since');
    expect(asHtml.out).toContain('Fought over by');
    expect(asHtml.out).toContain('terraform since');
  });
});

describe('the sweep and a fought-over group', () => {
  it('a lost event: the sweep queues the group once, enforce encrypts it without a second alarm, the next run has nothing', async () => {
    // Prepare: one fight handled (alarmed), then an apply whose event is lost
    const { world, key, events } = await fightWorld();
    const { state } = world.emulator;
    const queue = state.createQueue(world.region, 'logs-kms-guard-prod-EnforceQueue');
    state.createFunction(world.region, 'logs-kms-guard-prod-sweep');
    state.putLogGroup(world.region, '/aws/lambda/logs-kms-guard-prod-sweep', { kmsKeyId: key.arn });
    const messages: { body: string }[] = [];
    world.emulator.onMessage((m) => messages.push(m));
    const stack = await world.container();
    await stack(await apply(world, events), lambdaContext(world));
    await apply(world, events);
    const sweep = await world.sweepContainer({ ENFORCE_QUEUE_URL: queue.localUrl });

    // Act: a sweep run, its work items to enforce, a second run
    const first = (await sweep({}, sweepContext(world))) as { counts: Record<string, number> };
    const items = messages.filter((m) => JSON.parse(m.body).detail?.logGroupName === GROUP);
    // The stack loaded after the sweep container: in this one process the last container loaded sets the
    // credentials a bundle's first client reads, and the enforce function (unlike the changes function above)
    // has not run yet; in Lambda each function has its own environment.
    const enforce = await world.container();
    const handled = [];
    for (const m of items) handled.push(await enforce(JSON.parse(m.body), lambdaContext(world)));
    const second = (await sweep({}, sweepContext(world))) as { counts: Record<string, number> };

    // Assess
    expect(first.counts).toMatchObject({ queued: 1 });
    expect(items).toHaveLength(1);
    expect(handled).toMatchObject([{ outcome: 'encrypted' }]);
    expect(state.logGroup(world.region, GROUP)?.kmsKeyId).toBe(key.arn);
    expect(second.counts).toMatchObject({ queued: 0, candidates: 0 });
    expect(world.output.metrics().IacConflict).toBe(1);
    expect(world.output.metrics().NeedsAttention).toBe(1);
  });
});
