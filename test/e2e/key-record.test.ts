/**
 * Old data depends on old keys (issue 21 item 1), through dist/enforce.mjs under its deployed role (emulator
 * with IAM): a group moves from key A to key B by each door (ALLOW_KEY_OVERRIDE, rollback/disassociate, a
 * DisassociateKmsKey seen from CloudTrail of a key its owner chose at creation), then A is disabled or scheduled
 * for deletion: KeyAtRisk counts the group and its finding names it. After the group's retention has passed it
 * no longer counts; a deleted group needs nothing.
 */
import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DisassociateKmsKeyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DisableKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { disassociateKey } from '../../functions/core/disassociate.ts';
import { FINDING_MESSAGE } from '../../functions/core/finding.ts';
import { PREV_KEY_TAG_PREFIX } from '../../functions/core/key-record.ts';
import { logsStatement, policyOf, rootStatement, sleep } from '../helpers.ts';
import {
  createEvent,
  existingGuardKey,
  type Handler,
  lambdaContext,
  startWorld,
  type World,
} from './helpers.ts';

/** A world with the guard key, a team's key A (admitting Logs), a container, and the CloudTrail events kept. */
async function scene(env: Record<string, string> = {}) {
  const world = await startWorld({ throttle: false, propagationDelayMs: 0 });
  const events: Record<string, any>[] = [];
  world.emulator.onEvent((e) => events.push(e as Record<string, any>));
  world.asDeployed(env);
  const guardKey = await existingGuardKey(world);
  const teamKey = world.emulator.state.createKeyDirect(world.region, {
    policy: policyOf(rootStatement(world.account), logsStatement(world.region, world.account)),
  });
  const handler = await world.container(env);
  return { world, events, guardKey, teamKey, handler };
}

/** The last CloudTrail event named `eventName` (waits for delivery). */
async function lastEvent(events: Record<string, any>[], eventName: string) {
  for (let i = 0; i < 100; i++) {
    const found = events.filter((e) => e.detail?.eventName === eventName).at(-1);
    if (found) return structuredClone(found);
    await sleep(10);
  }
  throw new Error(`no ${eventName} event was emitted`);
}

const handle = (world: World, handler: Handler, event: unknown) => handler(event, lambdaContext(world));

/** The key-at-risk findings the container wrote. */
function keyAtRiskFindings(world: World): Record<string, any>[] {
  return world.output.lines.flatMap((line) => {
    try {
      const doc = JSON.parse(line);
      return doc.message === FINDING_MESSAGE && doc.finding?.kind === 'key-at-risk' ? [doc.finding] : [];
    } catch {
      return [];
    }
  });
}

/** Disables (or schedules the deletion of) the key and hands its event to the container. */
async function loseKey(s: Awaited<ReturnType<typeof scene>>, keyId: string, how: 'disable' | 'delete') {
  if (how === 'disable') await s.world.kms.send(new DisableKeyCommand({ KeyId: keyId }));
  else await s.world.kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
  const event = await lastEvent(s.events, how === 'disable' ? 'DisableKey' : 'ScheduleKeyDeletion');
  return handle(s.world, s.handler, event);
}

describe('a group moved off key A: losing A raises KeyAtRisk naming the group', () => {
  it.each(['disable', 'delete'] as const)(
    'ALLOW_KEY_OVERRIDE replaced A with the guard key; A: %s',
    async (how) => {
      // Prepare: the group on the team's key, then the guard takes it over
      const s = await scene({ ALLOW_KEY_OVERRIDE: 'true' });
      s.world.emulator.state.putLogGroup(s.world.region, '/team/moved', { kmsKeyId: s.teamKey.arn });
      const moved = await handle(s.world, s.handler, createEvent(s.world, '/team/moved'));
      expect(moved).toMatchObject({ outcome: 'encrypted', keyArn: s.guardKey.arn });
      const tags = s.world.emulator.state.logGroup(s.world.region, '/team/moved')?.tags ?? {};
      expect(Object.keys(tags)).toContain(`${PREV_KEY_TAG_PREFIX}${s.teamKey.keyId}`);

      // Act
      const out = await loseKey(s, s.teamKey.keyId, how);

      // Assess
      expect(out).toMatchObject({ outcome: 'key-at-risk', keyArn: s.teamKey.arn });
      expect(s.world.output.metrics()).toMatchObject({ KeyAtRisk: 1 });
      const [finding] = keyAtRiskFindings(s.world);
      expect(finding).toMatchObject({
        resource: { type: 'kms-key', arn: s.teamKey.arn },
        dependents: ['/team/moved'],
        severity: how === 'delete' ? 'CRITICAL' : 'HIGH',
      });
      if (how === 'delete') expect(finding?.unreadableFrom).toMatch(/^\d{4}-/);
    },
  );

  it('rollback/disassociate took the guard key back from two groups: its deletion counts both', async () => {
    // Prepare: the rollback path (core/disassociate.ts, as `rollback` and `disassociate` run it)
    const s = await scene();
    const clients = { kms: s.world.kms, logs: s.world.logs };
    for (const name of ['/rolled/a', '/rolled/b']) {
      s.world.emulator.state.putLogGroup(s.world.region, name, { kmsKeyId: s.guardKey.arn });
      const arn = `arn:aws:logs:${s.world.region}:${s.world.account}:log-group:${name}`;
      await disassociateKey(clients, name, {
        optOut: { arn, tagKey: 'logs-kms-guard:skip' },
        record: { arn, previousKey: s.guardKey.arn, log: { debug() {}, info() {}, warn() {}, error() {} } },
      });
    }

    // Act
    const out = await loseKey(s, s.guardKey.keyId, 'delete');

    // Assess: both groups, though neither uses the key now (before the record: 0, raised as 1)
    expect(out).toMatchObject({ outcome: 'key-at-risk' });
    expect(s.world.output.metrics()).toMatchObject({ KeyAtRisk: 2 });
    expect(keyAtRiskFindings(s.world)[0]?.dependents).toEqual(['/rolled/a', '/rolled/b']);
  });

  it("a DisassociateKmsKey seen from CloudTrail of the owner's key: re-encrypted, and A's loss still names it", async () => {
    // Prepare: created with its owner's key A (the guard notes A), then the key removed (Terraform-style)
    const s = await scene();
    await s.world.logs.send(new CreateLogGroupCommand({ logGroupName: '/tf/app', kmsKeyId: s.teamKey.arn }));
    expect(await handle(s.world, s.handler, await lastEvent(s.events, 'CreateLogGroup'))).toMatchObject({
      outcome: 'already-encrypted',
    });
    await s.world.logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/tf/app' }));
    const removed = await handle(s.world, s.handler, await lastEvent(s.events, 'DisassociateKmsKey'));
    expect(removed).toMatchObject({ outcome: 're-encrypted', keyArn: s.guardKey.arn });

    // Act
    const out = await loseKey(s, s.teamKey.keyId, 'disable');

    // Assess
    expect(out).toMatchObject({ outcome: 'key-at-risk', keyArn: s.teamKey.arn });
    expect(s.world.output.metrics()).toMatchObject({ KeyAtRisk: 1 });
    expect(keyAtRiskFindings(s.world)[0]?.dependents).toEqual(['/tf/app']);
  });
});

describe('what no longer depends on A', () => {
  it('a group whose retention has removed the data written under A: not counted', async () => {
    // Prepare: moved off A two days ago, one day of retention
    const s = await scene();
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 19);
    s.world.emulator.state.putLogGroup(s.world.region, '/short/retention', {
      kmsKeyId: s.guardKey.arn,
      retentionInDays: 1,
      tags: { [`${PREV_KEY_TAG_PREFIX}${s.teamKey.keyId}`]: `${twoDaysAgo}Z` },
    });
    s.world.emulator.state.putLogGroup(s.world.region, '/long/retention', {
      kmsKeyId: s.guardKey.arn,
      retentionInDays: 7,
      tags: { [`${PREV_KEY_TAG_PREFIX}${s.teamKey.keyId}`]: `${twoDaysAgo}Z` },
    });

    // Act
    const out = await loseKey(s, s.teamKey.keyId, 'disable');

    // Assess
    expect(out).toMatchObject({ outcome: 'key-at-risk' });
    expect(s.world.output.metrics()).toMatchObject({ KeyAtRisk: 1 });
    expect(keyAtRiskFindings(s.world)[0]?.dependents).toEqual(['/long/retention']);
  });

  it('a deleted group needs nothing: no alarm', async () => {
    // Prepare
    const s = await scene({ ALLOW_KEY_OVERRIDE: 'true' });
    s.world.emulator.state.putLogGroup(s.world.region, '/gone/soon', { kmsKeyId: s.teamKey.arn });
    await handle(s.world, s.handler, createEvent(s.world, '/gone/soon'));
    await s.world.logs.send(new DeleteLogGroupCommand({ logGroupName: '/gone/soon' }));

    // Act
    const out = await loseKey(s, s.teamKey.keyId, 'disable');

    // Assess
    expect(out).toMatchObject({ outcome: 'change-ignored' });
    expect(s.world.output.metrics().KeyAtRisk).toBeUndefined();
    expect(keyAtRiskFindings(s.world)).toEqual([]);
  });
});
