/**
 * Reliability suite, on the rig (rig.ts): an administrator schedules the deletion of the guard key through
 * the real SDK; four cases (the event delivered once or twice, with and without RESTORE_GUARD_KEY), the
 * duplicated ones over several rounds and seeds.
 *
 * Promise: when someone schedules the deletion of the guard key that N log groups use, the guard raises the
 * alarm exactly once (KeyAtRisk = N, one error line naming the key, the count and the key's DeletionDate),
 * also when EventBridge delivers the event twice, and changes nothing else; with RESTORE_GUARD_KEY=true it
 * cancels the deletion and enables the key again, every group still on it. Nothing the guard does disables,
 * deletes or narrows a key.
 */
import { DescribeKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { CHANGES_FUNCTION } from '../../local/functions.ts';
import { roleArn } from '../../local/roles.ts';
import { credentials, GUARD_TAGS } from '../../local/world.ts';
import { captureOutput, sleep } from '../helpers.ts';
import { FULL, figures, guardKeyPolicy, seconds, size, startRig } from './rig.ts';

const N = size(200, 1_000);
const TIME_SCALE = 20;
const CONCURRENCY = 2; // the deployed event source mapping's maximumConcurrency
const ALARM_MESSAGE = 'a key that log groups use is disabled or scheduled for deletion';
/** What would disable, delete or narrow a key (or move a group off it). */
const DESTRUCTIVE =
  /^(DisableKey|ScheduleKeyDeletion|PutKeyPolicy|DeleteAlias|UpdateAlias|DisableKeyRotation|DisassociateKmsKey|AssociateKmsKey|DeleteLogGroup|CreateKey|UntagResource)$/;

interface Case {
  label: string;
  duplicates: boolean;
  restore: boolean;
}
const CASES: Case[] = [
  { label: 'delivered once', duplicates: false, restore: false },
  { label: 'delivered twice', duplicates: true, restore: false },
  { label: 'RESTORE_GUARD_KEY, delivered once', duplicates: false, restore: true },
  { label: 'RESTORE_GUARD_KEY, delivered twice', duplicates: true, restore: true },
];

/** One rig: the guard key as the guard writes it, N groups on it; someone schedules its deletion. */
async function scheduleDeletion(c: Case, seed = 11) {
  const started = Date.now();
  const output = captureOutput();
  const rig = await startRig({
    emulator: {
      timeScale: TIME_SCALE,
      propagationDelayMs: 3_000,
      throttle: true,
      seed,
      events: { delayMs: 500, ...(c.duplicates ? { duplicateRate: 1 } : {}) },
    },
    concurrency: CONCURRENCY,
    env: c.restore ? { RESTORE_GUARD_KEY: 'true' } : {},
  });
  try {
    const { emulator, region } = rig;
    const guardRole = roleArn({ account: emulator.account, region }, 'EnforceRole');
    const policy = c.restore
      ? JSON.stringify(
          defaultKeyPolicy({
            partition: 'aws',
            region,
            account: emulator.account,
            guardRoles: [guardRole],
            restoreGuardKey: true,
          }),
        )
      : guardKeyPolicy(emulator, region);
    const key = await rig.world.createGuardKey({ policy, tags: GUARD_TAGS, rotation: true });
    const names = Array.from({ length: N }, (_, i) => `/aws/lambda/service-${String(i).padStart(4, '0')}`);
    for (const name of names) emulator.state.putLogGroup(region, name, { kmsKeyId: key.arn });
    // The changes function's own log group, as the stack creates it (with its own key: not among the N): where
    // its containers claim a change event, so that a copy delivered twice is handled once across containers.
    const other = emulator.state.createKeyDirect(region, { policy: guardKeyPolicy(emulator, region) });
    emulator.state.putLogGroup(region, `/aws/lambda/${CHANGES_FUNCTION}`, { kmsKeyId: other.arn });
    const groupsBefore = JSON.stringify(emulator.state.logGroups(region));
    await rig.pipeline.start();
    const mark = emulator.calls.length;

    // Act: an administrator schedules the deletion through the real SDK (the rig's admin credentials)
    await rig.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 }));
    const copies = c.duplicates ? 2 : 1;
    const deadline = Date.now() + 10_000;
    const scheduledEvents = () => rig.events.filter((e) => e.detail?.eventName === 'ScheduleKeyDeletion');
    while (scheduledEvents().length < copies && Date.now() < deadline) {
      await sleep(10);
    }
    const deletionDate = (await rig.kms.send(new DescribeKeyCommand({ KeyId: key.keyId }))).KeyMetadata
      ?.DeletionDate;
    const drained = await rig.drain(FULL ? 300_000 : 120_000, 500);
    const handledMs = Date.now() - started;
    output.restore();

    const json = output.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    });
    const emf = json.filter((d) =>
      (d._aws?.CloudWatchMetrics?.[0]?.Metrics ?? []).some((m: { Name: string }) => m.Name === 'KeyAtRisk'),
    );
    const calls = emulator.calls.slice(mark);
    return {
      key,
      names,
      guardRole,
      drained,
      handledMs,
      deletionDate,
      events: scheduledEvents(),
      /** EMF documents carrying KeyAtRisk, and their values. */
      keyAtRisk: emf.map((d) => Number(d.KeyAtRisk)),
      metrics: output.metrics(),
      alarms: json.filter((d) => typeof d.message === 'string' && d.message.startsWith(ALARM_MESSAGE)),
      decisions: output.decisions(),
      keyAfter: emulator.state.key(region, key.keyId),
      groupsUnchanged: JSON.stringify(emulator.state.logGroups(region)) === groupsBefore,
      onKey: names.filter((n) => emulator.state.logGroup(region, n)?.kmsKeyId === key.arn).length,
      /** Calls the guard (any credentials but the rig's admin) made. */
      guardCalls: calls.filter((call) => call.accessKeyId !== credentials.accessKeyId),
      lost: rig.lost(),
      dlq: rig.pipeline.dlq.length,
      guardKeys: rig.guardKeys(),
    };
  } finally {
    output.restore();
    await rig.stop();
  }
}

/** Rounds of a duplicated case (each a fresh rig and seed): when the copies meet decides where they land. */
const ROUNDS = size(5, 10);

describe(`key at risk: ScheduleKeyDeletion of the guard key that ${N} log groups use`, () => {
  const results: string[] = [];
  let destructive = 0;
  afterAll(() => {
    figures(
      `key at risk: ${N} groups on the guard key, ScheduleKeyDeletion through queue and ${CONCURRENCY} enforce containers: ` +
        `${results.join('; ')}; ${destructive} guard calls that disable, delete or narrow a key`,
    );
  });

  it.each(CASES)(
    '$label: the alarm exactly once with the count and the date, nothing else changed',
    async (c) => {
      // Prepare, Act: a fresh rig per round (a duplicated event is tried in several rounds, with other seeds)
      const runs: Awaited<ReturnType<typeof scheduleDeletion>>[] = [];
      for (let round = 0; round < (c.duplicates ? ROUNDS : 1); round++) {
        runs.push(await scheduleDeletion(c, 11 + round));
      }
      const summary = (values: number[]) => {
        const counts = new Map<number, number>();
        for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
        return [...counts]
          .map(([v, n]) => (runs.length > 1 ? `${v}x in ${n}/${runs.length}` : `${v}x`))
          .join(', ');
      };
      const first = runs[0] as (typeof runs)[number];
      results.push(
        `${c.label}: ${first.events.length} event(s) each, KeyAtRisk raised ${summary(runs.map((r) => r.keyAtRisk.length))} ` +
          `(values ${[...new Set(runs.flatMap((r) => r.keyAtRisk))].join(', ') || '-'}), alarm lines ` +
          `${summary(runs.map((r) => r.alarms.length))}, unreadable from ${first.alarms[0]?.unreadableFrom ?? '-'} ` +
          `(DeletionDate ${first.deletionDate?.toISOString() ?? '-'}), key ${[...new Set(runs.map((r) => r.keyAfter?.state))].join('/')}, ` +
          `${Math.min(...runs.map((r) => r.onKey))}/${N} groups on it, ${seconds(Math.max(...runs.map((r) => r.handledMs)))} at most`,
      );

      expect(runs).toHaveLength(c.duplicates ? ROUNDS : 1);
      for (const run of runs) {
        const guardDestructive = run.guardCalls.filter((call) => DESTRUCTIVE.test(call.operation));
        destructive += guardDestructive.length;
        // Assess: delivered as the case says (one id, twice when duplicated)
        expect(run.drained).toBe(true);
        expect(run.events).toHaveLength(c.duplicates ? 2 : 1);
        expect(new Set(run.events.map((e) => e.id)).size).toBe(1);
        expect(run.lost).toBe(0);
        expect(run.dlq).toBe(0);
        // The alarm: once, with the number of groups
        expect(run.keyAtRisk).toEqual([N]);
        expect(run.metrics.KeyAtRisk).toBe(N);
        expect(run.alarms).toHaveLength(1);
        const alarm = run.alarms[0] as Record<string, any>;
        expect(alarm).toMatchObject({
          keyArn: run.key.arn,
          keyState: 'PendingDeletion',
          groups: N,
          groupsCountComplete: true,
          guardKey: true,
        });
        // The date: the key's DeletionDate, as KMS answers it
        expect(run.deletionDate).toBeInstanceOf(Date);
        expect(alarm.unreadableFrom).toBe(run.deletionDate?.toISOString());
        // One decision per delivered copy; a duplicate shares the first copy's result or is ignored, never fails
        const expected = c.restore ? 'key-restored' : 'key-at-risk';
        const outcomes = run.decisions.map((d) => d.outcome as string);
        expect(outcomes).toHaveLength(run.events.length);
        expect(outcomes).toContain(expected);
        expect(outcomes.filter((o) => o !== expected && o !== 'change-ignored')).toEqual([]);
        // Nothing else changed: no group touched, no second key, the guard disabled, deleted or narrowed nothing
        expect(run.groupsUnchanged).toBe(true);
        expect(run.onKey).toBe(N);
        expect(run.guardKeys.map((k) => k.arn)).toEqual([run.key.arn]);
        expect(guardDestructive).toEqual([]);
        // (the calls seen are the guard's: its count of the groups on the key is among them)
        expect(run.guardCalls.some((call) => call.operation === 'DescribeLogGroups')).toBe(true);
        const restoring = run.guardCalls.filter((call) =>
          /^(CancelKeyDeletion|EnableKey)$/.test(call.operation),
        );
        if (c.restore) {
          // The deletion cancelled and the key enabled again, by the guard, once
          expect(run.keyAfter?.state).toBe('Enabled');
          expect(run.keyAfter?.deletionDate).toBeUndefined();
          expect(run.metrics.KeyRestored).toBe(1);
          expect(restoring.map((call) => `${call.operation}${call.error ? ` ${call.error}` : ''}`)).toEqual([
            'CancelKeyDeletion',
            'EnableKey',
          ]);
        } else {
          // Left as the administrator set it: the guard undoes nothing by default
          expect(run.keyAfter?.state).toBe('PendingDeletion');
          expect(
            Math.abs((run.keyAfter?.deletionDate ?? 0) - (run.deletionDate?.getTime() ?? 0)),
          ).toBeLessThan(1_000);
          expect(restoring).toEqual([]);
          expect(run.metrics.KeyRestored ?? 0).toBe(0);
        }
      }
    },
    600_000,
  );
});
