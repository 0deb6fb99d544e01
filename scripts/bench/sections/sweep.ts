/**
 * The `sweep` section of `npm run bench`: the sweep core over a region of many log groups, its rates set to
 * the AWS quotas, against the floor those quotas make; and, as a reference line, the plain sequential
 * retry-on-throttle loop (scripts/bench/sequential.ts) on the same region. Both on a clock scaled as the
 * emulator's quotas (local/clock.ts).
 */
import { CLIENT_SETTINGS } from '../../../functions/core/clients.ts';
import type { Clock } from '../../../functions/core/clock.ts';
import { loadConfig } from '../../../functions/core/config.ts';
import { clearKeyCache } from '../../../functions/core/key.ts';
import { silentLog } from '../../../functions/core/log.ts';
import { sweepBuckets } from '../../../functions/core/sweep/quotas.ts';
import { sweep } from '../../../functions/core/sweep/sweep.ts';
import { scaledClock } from '../../../local/clock.ts';
import { startEmulator } from '../../../local/emulator/server.ts';
import { ACCOUNT, REGION, sdkClients } from '../../../local/world.ts';
import { byOperation, callsSince, throttledOf } from '../api-calls.ts';
import type { BenchArgs } from '../args.ts';
import { drainQuotas, guardKey } from '../rig.ts';
import { sequentialRetryLoop } from '../sequential.ts';
import { PAGE, QUOTA, SWEEP_SCALE } from '../settings.ts';
import { type Figure, formatCounts, spread, sumOf, sweepFloorMs } from '../stats.ts';

/** One timed pass over the region: scaled ms, the calls it made, and the groups on the guard key after it. */
interface SweepPass {
  elapsed: number;
  calls: number;
  throttled: number;
  encrypted: number;
  ops: Record<string, number>;
}

/** A region of `groups` log groups, every fifth unencrypted, the rest with someone else's key. */
async function sweepRegion(groups: number) {
  const emulator = await startEmulator({ port: 0, timeScale: SWEEP_SCALE, propagationDelayMs: 0 });
  const key = await guardKey(emulator);
  const other = emulator.state.createKeyDirect(REGION, {}).arn;
  for (let i = 0; i < groups; i++) {
    const name = `/app/group-${String(i).padStart(6, '0')}`;
    if (i % 5 === 0) emulator.state.putLogGroup(REGION, name);
    else emulator.state.putLogGroup(REGION, name, { kmsKeyId: other });
  }
  const unencrypted = Math.ceil(groups / 5);
  await drainQuotas(emulator, SWEEP_SCALE);
  return { emulator, key, unencrypted };
}

/**
 * Times `pass` on a fresh region on a clock scaled as the emulator's quotas, and counts what it did. The
 * clock is made after the region is seeded and drained, so its start is the pass's.
 */
async function timedPass(
  groups: number,
  pass: (region: Awaited<ReturnType<typeof sweepRegion>>, clock: Clock) => Promise<void>,
): Promise<SweepPass> {
  const region = await sweepRegion(groups);
  const { emulator, key } = region;
  try {
    const clock = scaledClock(SWEEP_SCALE);
    const from = emulator.calls.length;
    const started = clock.now();
    await pass(region, clock);
    const elapsed = clock.now() - started;
    const calls = callsSince(emulator, from);
    const encrypted = emulator.state.logGroups(REGION).filter((g) => g.kmsKeyId === key.arn).length;
    return {
      elapsed,
      calls: calls.length,
      throttled: throttledOf(calls),
      encrypted,
      ops: byOperation(calls),
    };
  } finally {
    await emulator.stop();
  }
}

/** The guard's sweep over a fresh region, its rates at the quotas themselves. */
function sweepPass(groups: number): Promise<SweepPass> {
  // The guard's key as a new container has it: not cached.
  clearKeyCache();
  return timedPass(groups, async ({ emulator, key }, clock) => {
    // The sweep core as test/core/sweep/run.emulator.test.ts drives it, with its rates set to the quotas themselves.
    const result = await sweep({
      mode: 'enforce',
      clients: sdkClients(emulator, REGION, CLIENT_SETTINGS),
      config: loadConfig({}),
      region: REGION,
      account: ACCOUNT,
      log: silentLog,
      clock,
      buckets: sweepBuckets(
        { describe: QUOTA.describe, associate: QUOTA.associate, tags: QUOTA.tags },
        clock,
      ),
      guardKeyArn: key.arn,
    });
    if (!result.done) throw new Error(`sweep stopped: ${result.stopped} ${result.error?.message ?? ''}`);
  });
}

/** The sequential retry-on-throttle loop over a fresh region: the reference line. */
function referencePass(groups: number): Promise<SweepPass> {
  return timedPass(groups, async ({ emulator, key }, clock) => {
    await sequentialRetryLoop(sdkClients(emulator, REGION, { maxAttempts: 1 }).logs, key.arn, clock);
  });
}

/** One sweep figure: the passes' scaled times against the floor, their throttled share and what they encrypted. */
function sweepFigure(
  rows: SweepPass[],
  floorMs: number,
  unencrypted: number,
  figure: {
    id: string;
    name: string;
    goal: string;
    met: (ratio: number, throttledShare: number, ok: boolean) => boolean | undefined;
    extra: string;
  },
): Figure {
  const ratios = rows.map((r) => r.elapsed / floorMs);
  const shares = rows.map((r) => r.throttled / r.calls);
  const ok = rows.every((r) => r.encrypted === unencrypted);
  return {
    id: figure.id,
    name: figure.name,
    unit: 'ms',
    ours: spread(rows.map((r) => r.elapsed)),
    floor: spread([floorMs]),
    ratio: spread(ratios),
    goal: figure.goal,
    met: figure.met(spread(ratios).median, Math.max(...shares), ok),
    note:
      `scaled ms; throttled ${sumOf(rows, (r) => r.throttled)} of ${sumOf(rows, (r) => r.calls)} calls over ${rows.length} run(s), ` +
      `at most ${(100 * Math.max(...shares)).toFixed(2)} % in one; ` +
      `${figure.extra}encrypted ${rows.map((r) => r.encrypted).join('/')} of ${unencrypted}`,
    details: { runs: rows, floorMs, timeScale: SWEEP_SCALE, throttledShare: shares },
  };
}

/** 5. The sweep at the quotas, and the sequential retry-on-throttle loop as a reference line. */
export async function sweepFigures(args: BenchArgs, log: (line: string) => void): Promise<Figure[]> {
  const T = SWEEP_SCALE;
  const groups = args.sweepGroups;
  const unencrypted = Math.ceil(groups / 5);
  const floorMs = sweepFloorMs(groups, unencrypted, QUOTA);
  const ours: SweepPass[] = [];
  const reference: SweepPass[] = [];
  for (let run = 0; run < args.runs; run++) {
    const pass = await sweepPass(groups);
    ours.push(pass);
    log(
      `  sweep run ${run + 1}/${args.runs}: ${(pass.elapsed / 1000).toFixed(1)} scaled s, ${pass.encrypted} encrypted`,
    );
    if (args.reference) {
      const loop = await referencePass(groups);
      reference.push(loop);
      log(`  sequential loop run ${run + 1}/${args.runs}: ${(loop.elapsed / 1000).toFixed(1)} scaled s`);
    }
  }
  const pages = Math.ceil(groups / PAGE);
  const figures = [
    sweepFigure(ours, floorMs, unencrypted, {
      id: 'sweep',
      name: `sweep: ${groups} groups, ${unencrypted} unencrypted, rates = quotas (×${T})`,
      goal: '≤ 1.03×, throttled ≤ 1 %',
      met: (ratio, share, ok) => ratio <= 1.03 && share <= 0.01 && ok,
      extra: `floor max(${pages} pages / ${QUOTA.describe}, ${unencrypted} / ${QUOTA.associate}) per s (their tag reads at ${QUOTA.tags} per s too); calls ${formatCounts(ours[0]?.ops ?? {})}; `,
    }),
  ];
  if (reference.length > 0) {
    figures.push(
      sweepFigure(reference, floorMs, unencrypted, {
        id: 'sweep-reference-sequential',
        name: 'reference: sequential retry-on-throttle loop, same region',
        goal: 'none (issue: ≈ 1.04×, ~25 % throttled)',
        met: () => undefined,
        extra:
          'DescribeLogGroups then AssociateKmsKey one by one, no pacing, backoff 100 ms × 2ⁿ ≤ 2 s on throttle, no tag reads; ',
      }),
    );
  }
  return figures;
}
