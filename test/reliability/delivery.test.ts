/**
 * Reliability suite, on the rig (rig.ts): 120 groups (1,000 with RELIABILITY_FULL=1), some deleted or
 * excluded, their events lost, duplicated, reordered or held back by a faulty bus, then one sweep run
 * (functions/core/sweep/run.ts).
 *
 * Promise: duplicated, reordered and late events and events for deleted groups change nothing but the
 * work done; events the bus loses are recovered by one sweep run, which fixes exactly the groups they
 * missed. Everything flows as deployed: emulator → (faulty bus) → queue → enforce containers, and the
 * sweep enqueues its work items on the same queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/core/config.ts';
import { runSweepInvocation } from '../../functions/core/sweep/run.ts';
import { loadSweepSettings } from '../../functions/core/sweep/settings.ts';
import { scaledClock } from '../../local/clock.ts';
import { SWEEP_FUNCTION } from '../../local/functions.ts';
import { GUARD_ALIAS } from '../../local/world.ts';
import { captureOutput, memoryLog, sleep } from '../helpers.ts';
import { FULL, figures, inParallel, seconds, seeded, size, startRig } from './rig.ts';

const N = size(120, 1_000);
const TIME_SCALE = 20;
const LOSS = 0.1;
const DUPLICATES = 0.2;
const LATE = 0.15;
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/logs-kms-guard-events';

type Kind = 'in-scope' | 'deleted' | 'excluded';
const plan = Array.from({ length: N }, (_, i): { name: string; kind: Kind } => {
  const kind: Kind = i % 12 === 5 ? 'deleted' : i % 25 === 9 ? 'excluded' : 'in-scope';
  return { name: kind === 'excluded' ? `/sandbox/d-${i}` : `/aws/lambda/delivery-${i}`, kind };
});

describe(`delivery faults: ${N} groups, ${LOSS * 100} % of events lost, ${DUPLICATES * 100} % duplicated, reordered, ${LATE * 100} % late`, () => {
  let rig: Awaited<ReturnType<typeof startRig>>;
  let output: ReturnType<typeof captureOutput>;
  beforeAll(async () => {
    output = captureOutput();
    rig = await startRig({
      emulator: {
        timeScale: TIME_SCALE,
        propagationDelayMs: 3_000,
        seed: 11,
        events: { delayMs: 500, duplicateRate: DUPLICATES, lossRate: LOSS },
      },
      concurrency: 2,
      autoFeed: false,
      env: { EXCLUDE_LOG_GROUPS: '/sandbox/' },
    });
    // The deployed stack's guard key: its deployment's key check (the changes function) made it; the enforce
    // function creates none.
    await rig.world.deployKey({ EXCLUDE_LOG_GROUPS: '/sandbox/' });
    await rig.pipeline.start();
  }, 60_000);
  afterAll(async () => {
    output?.restore();
    await rig?.stop();
  });

  it('handles what arrives, in any order and any number of times; one sweep run fixes exactly what was lost', async () => {
    // Prepare: the bus's deliveries are shuffled in small windows, and some are held back until the end.
    const started = Date.now();
    const { emulator, region } = rig;
    const random = seeded(5);
    let window: Record<string, any>[] = [];
    const late: Record<string, any>[] = [];
    const fedOrder: string[] = [];
    const flush = () => {
      const batch = window.sort(() => random() - 0.5);
      window = [];
      for (const e of batch) {
        if (random() < LATE) late.push(e);
        else {
          fedOrder.push(e.detail.requestParameters.logGroupName);
          rig.send(e);
        }
      }
    };
    // What the template's rules send to the queue.
    const unsubscribe = rig.world.onDelivered((e) => {
      window.push(e as Record<string, any>);
    });
    const ticker = setInterval(flush, 40);

    // Act 1: workloads create (and some delete) groups; the faulty bus delivers what it delivers
    await inParallel(plan, 6, async (g) => {
      await rig.createGroup(g.name);
      if (g.kind === 'deleted') await rig.deleteGroup(g.name);
    });
    await sleep(300); // the bus's last deliveries (25 ms + duplicates)
    clearInterval(ticker);
    unsubscribe();
    flush();
    const drainedMain = await rig.drain(FULL ? 300_000 : 60_000);
    for (const e of late) {
      fedOrder.push(e.detail.requestParameters.logGroupName);
      rig.send(e);
    }
    const drainedLate = await rig.drain(FULL ? 300_000 : 60_000);

    // Assess 1: every group whose event arrived is done; the rest are exactly the lost ones
    // A create the emulator throttled has its own (failed-call) event: only a success event carries the work.
    const delivered = new Set(
      rig.events
        .filter((e) => !e.detail.errorCode)
        .map((e) => e.detail.requestParameters.logGroupName as string),
    );
    const existing = plan.filter((g) => g.kind !== 'deleted');
    const inScope = existing.filter((g) => g.kind === 'in-scope');
    const lost = inScope.filter((g) => !delivered.has(g.name)).map((g) => g.name);
    const lostAll = plan.filter((g) => !delivered.has(g.name)).length;
    const alias = emulator.state.key(region, GUARD_ALIAS);
    const unencryptedBeforeSweep = inScope
      .filter((g) => emulator.state.logGroup(region, g.name)?.kmsKeyId !== alias?.arn)
      .map((g) => g.name);
    const deliveries = rig.events.length;
    const duplicates = deliveries - new Set(rig.events.map((e) => e.id)).size;
    const createOrder = plan.map((g) => g.name);
    const inversions = fedOrder.filter(
      (name, i) => i > 0 && createOrder.indexOf(name) < createOrder.indexOf(fedOrder[i - 1] as string),
    ).length;
    const goneDecisions = output.decisions().filter((d) => d.outcome === 'group-gone').length;
    const alreadyDecisions = output.decisions().filter((d) => d.outcome === 'already-encrypted').length;

    // Act 2: one scheduled sweep run, enqueueing work items on the same queue
    const queued: string[] = [];
    const sweepLog = memoryLog();
    let invocations = 0;
    const result = await runSweepInvocation(
      {},
      {
        config: loadConfig({ EXCLUDE_LOG_GROUPS: '/sandbox/' }),
        settings: loadSweepSettings({ ENFORCE_QUEUE_URL: QUEUE_URL }),
        clients: rig.world.clients(region, { maxAttempts: 5 }),
        sqs: {
          send: async (cmd: any) => {
            // The run's guard key check (one SendMessage) goes to the queue as well; it names no group.
            if (!cmd.input.Entries) {
              rig.send(cmd.input.MessageBody);
              return { MessageId: 'key-check' };
            }
            for (const entry of cmd.input.Entries) {
              queued.push(JSON.parse(entry.MessageBody).detail.logGroupName);
              rig.send(entry.MessageBody);
            }
            return { Successful: cmd.input.Entries.map((e: any) => ({ Id: e.Id })), Failed: [] };
          },
        } as never,
        lambda: {
          send: async () => {
            invocations++;
          },
        } as never,
        log: sweepLog,
        region,
        account: emulator.account,
        functionArn: `arn:aws:lambda:${region}:${emulator.account}:function:${SWEEP_FUNCTION}`,
        remainingMs: 300_000,
        clock: scaledClock(TIME_SCALE),
      },
    );
    invocations++;
    const drainedSweep = await rig.drain(FULL ? 300_000 : 60_000);

    // Assess 2: ground truth after the run
    const unencryptedAfter = existing.filter((g) => {
      const kmsKeyId = emulator.state.logGroup(region, g.name)?.kmsKeyId;
      return g.kind === 'in-scope' ? kmsKeyId !== alias?.arn : kmsKeyId !== undefined;
    });
    figures(
      `delivery: ${N} groups, ${deliveries} deliveries (${duplicates} duplicates, ${late.length} late, ` +
        `${inversions} out of order), the create events of ${lostAll} groups lost (${lost.length} in scope), ` +
        `${goneDecisions} events for deleted groups handled; ` +
        `after the queue: ${unencryptedBeforeSweep.length} in-scope groups unencrypted (= the lost); ` +
        `sweep (1 run, ${invocations} invocation): ${queued.length} queued, ${unencryptedAfter.length} left unencrypted, ` +
        `DLQ ${rig.pipeline.dlq.length}, ${rig.lost()} messages lost, ${seconds(Date.now() - started)}`,
    );

    expect(drainedMain && drainedLate && drainedSweep).toBe(true);
    expect(result.done).toBe(true);
    // The faults really happened.
    expect(lost.length).toBeGreaterThan(0);
    expect(duplicates).toBeGreaterThan(0);
    expect(late.length).toBeGreaterThan(0);
    expect(inversions).toBeGreaterThan(0);
    expect(goneDecisions).toBeGreaterThan(0);
    expect(alreadyDecisions).toBeGreaterThan(0); // duplicates and late copies found the work done
    // Every delivered event did its work; only the lost ones are left.
    expect(unencryptedBeforeSweep.sort()).toEqual([...lost].sort());
    // One sweep run queued exactly those (never an excluded, encrypted or deleted group) and they are done.
    expect([...queued].sort()).toEqual([...lost].sort());
    expect(result.counts.queued).toBe(lost.length);
    expect(unencryptedAfter.map((g) => g.name)).toEqual([]);
    expect(rig.pipeline.dlq).toEqual([]);
    expect(rig.lost()).toBe(0);
    expect(rig.guardKeys().filter((k) => k.state === 'Enabled')).toHaveLength(1);
  }, 900_000);
});
