/**
 * Reliability suite, on the rig (rig.ts): 150 groups (1,000 with RELIABILITY_FULL=1), some excluded,
 * skip-tagged, on their owner's key or deleted, created through the SDK with 2 enforce containers consuming
 * the queue.
 *
 * Promise: a burst of CreateLogGroup events at the real (time-scaled) quotas, with 5 % transient faults
 * and KMS propagation delay, ends with every in-scope group encrypted with the one guard key, exactly one
 * live key, every message acknowledged and nothing in the DLQ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { GUARD_ALIAS } from '../../local/world.ts';
import { captureOutput } from '../helpers.ts';
import { FULL, figures, inParallel, kmsFaults, seconds, size, startRig } from './rig.ts';

const N = size(150, 1_000);
const TIME_SCALE = 20;
const CONCURRENCY = 2; // the deployed event source mapping's maximumConcurrency
const FAULT_RATE = 0.05;

type Kind = 'in-scope' | 'excluded' | 'skip-tag' | 'own-key' | 'deleted';
const SHAPES = [
  (i: number) => `/aws/lambda/orders-${i}-api`,
  (i: number) => `/ecs/payments-${i}-service`,
  (i: number) => `checkout-prod-ApiAccessLogs-${(1e11 + i * 7919).toString(36).toUpperCase()}`,
  (i: number) => `/aws/codebuild/catalog-${i}-build`,
  (i: number) => `API-Gateway-Execution-Logs_${(1e9 + i * 104729).toString(36)}/prod`,
];
const plan = Array.from({ length: N }, (_, i): { name: string; kind: Kind } => {
  const kind: Kind =
    i % 25 === 3
      ? 'excluded'
      : i % 25 === 7
        ? 'skip-tag'
        : i % 25 === 11
          ? 'own-key'
          : i % 25 === 17
            ? 'deleted'
            : 'in-scope';
  const name =
    kind === 'excluded' ? `/sandbox/scratch-${i}` : (SHAPES[i % SHAPES.length] as (i: number) => string)(i);
  return { name, kind };
});

describe(`burst: ${N} CreateLogGroup events through queue and enforce containers`, () => {
  let rig: Awaited<ReturnType<typeof startRig>>;
  let output: ReturnType<typeof captureOutput>;
  const faults = kmsFaults(FAULT_RATE, 7);
  const started = Date.now();

  beforeAll(async () => {
    output = captureOutput();
    rig = await startRig({
      emulator: {
        timeScale: TIME_SCALE,
        propagationDelayMs: 3_000,
        throttle: true,
        faultRate: FAULT_RATE,
        seed: 42,
        events: { delayMs: 500 },
        intercept: faults.intercept,
      },
      concurrency: CONCURRENCY,
      env: { EXCLUDE_LOG_GROUPS: '/sandbox/', POWERTOOLS_LOG_LEVEL: 'INFO' },
    });
    // The deployed stack's guard key: its deployment's key check (the changes function) made it, under the same
    // faults; the enforce function creates none.
    await rig.world.deployKey({ EXCLUDE_LOG_GROUPS: '/sandbox/', POWERTOOLS_LOG_LEVEL: 'INFO' });
    await rig.pipeline.start();
  }, 60_000);
  afterAll(async () => {
    output?.restore();
    await rig?.stop();
  });

  it('encrypts every in-scope group with the one guard key; nothing lost, DLQ empty', async () => {
    // Prepare: a key a team brought for its own group
    const { emulator, region } = rig;
    const ownKey = emulator.state.createKeyDirect(region, {
      policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region, account: emulator.account })),
    }).arn;

    // Act: workloads create the groups, 8 at a time (the SDK absorbs CreateLogGroup throttling)
    await inParallel(plan, 8, async (g) => {
      await rig.createGroup(g.name, {
        ...(g.kind === 'skip-tag' ? { tags: { 'logs-kms-guard:skip': 'true' } } : { tags: { team: 'x' } }),
        ...(g.kind === 'own-key' ? { kmsKeyId: ownKey } : {}),
      });
      if (g.kind === 'deleted') await rig.deleteGroup(g.name);
    });
    const drained = await rig.drain(FULL ? 600_000 : 120_000, 500);

    // Assess: ground truth from the emulator
    const alias = emulator.state.key(region, GUARD_ALIAS);
    const guardKeys = rig.guardKeys();
    const live = guardKeys.filter((k) => k.state === 'Enabled');
    const wrong: string[] = [];
    for (const g of plan) {
      const actual = emulator.state.logGroup(region, g.name);
      const ok =
        g.kind === 'in-scope'
          ? actual?.kmsKeyId === alias?.arn
          : g.kind === 'own-key'
            ? actual?.kmsKeyId === ownKey
            : g.kind === 'deleted'
              ? actual === undefined
              : actual !== undefined && actual.kmsKeyId === undefined;
      if (!ok) wrong.push(`${g.kind} ${g.name}: ${actual?.kmsKeyId ?? (actual ? 'unencrypted' : 'gone')}`);
    }
    const inScope = plan.filter((g) => g.kind === 'in-scope');
    // The guard's own key changes (its PutKeyPolicy dropping the retire statement) come back too, and are ignored.
    const createEvents = rig.events.filter(
      (e) => e.detail.eventName === 'CreateLogGroup' && !e.detail.errorCode,
    );
    const decisions = output.decisions();
    const encryptedByGuard = new Set(
      decisions.filter((d) => d.outcome === 'encrypted').map((d) => d.logGroupName as string),
    );
    const throttledCalls = emulator.calls.filter((c) => c.error === 'ThrottlingException');
    const throttled = throttledCalls.length;
    const byOperation = new Map<string, number>();
    for (const c of throttledCalls) byOperation.set(c.operation, (byOperation.get(c.operation) ?? 0) + 1);
    const throttledBy = [...byOperation].map(([op, n]) => `${op} ${n}`).join(', ');
    const logsFaults = emulator.calls.filter(
      (c) => c.error === 'ServiceUnavailableException' || c.error === 'OperationAbortedException',
    ).length;
    const encrypted = inScope.filter((g) => emulator.state.logGroup(region, g.name)?.kmsKeyId === alias?.arn);
    figures(
      `burst: ${createEvents.length} events (${inScope.length} in scope), ${encrypted.length} encrypted, ` +
        `${live.length} live key, ${rig.lost()} lost, DLQ ${rig.pipeline.dlq.length}, ${throttled} throttled (${throttledBy || 'none'}), ` +
        `${logsFaults + faults.injected()} faults injected (${logsFaults} Logs, ${faults.injected()} KMS), ` +
        `${rig.pipeline.invocations} invocations, time scale ${TIME_SCALE}, ${seconds(Date.now() - started)}`,
    );

    expect(drained).toBe(true);
    expect(wrong).toEqual([]);
    expect(live).toHaveLength(1);
    expect(live[0]?.arn).toBe(alias?.arn);
    expect(guardKeys.filter((k) => k.arn !== alias?.arn).every((k) => k.state === 'PendingDeletion')).toBe(
      true,
    );
    expect(createEvents.length).toBe(N);
    expect(rig.fates.size).toBe(rig.events.length); // every delivered event reached the queue
    expect(rig.lost()).toBe(0);
    expect(rig.pipeline.dlq).toEqual([]);
    // The guard said "encrypted" for exactly the in-scope groups, and for nothing the emulator disagrees with.
    expect([...encryptedByGuard].sort()).toEqual(inScope.map((g) => g.name).sort());
    // The faults really happened (the promise held under them, not around them).
    expect(logsFaults).toBeGreaterThan(0);
    expect(faults.injected()).toBeGreaterThan(0);
  }, 900_000);
});
