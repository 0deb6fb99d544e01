/**
 * The `burst` section of `npm run bench`: a burst of CreateLogGroup events through the local queue and its
 * enforce containers (scripts/bench/burst-child.ts, a child process running dist/enforce.mjs), against the
 * AssociateKmsKey quota time-scaled; and that process's peak memory against the Lambda's. The shared-quota
 * section runs the same child (scripts/bench/sections/shared.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '../../../local/emulator/emulator.ts';
import { startEmulator } from '../../../local/emulator/server.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';
import { callsSince, throttledOf } from '../api-calls.ts';
import type { BenchArgs } from '../args.ts';
import { createEvent, guardKey, handlerEnv, runChild } from '../rig.ts';
import { BURST_CONCURRENCY, BURST_SCALE, LAMBDA_MEMORY_MB, QUOTA } from '../settings.ts';
import { burstRigFloorMs, type Figure, spread, sumOf } from '../stats.ts';

/** What scripts/bench/burst-child.ts reports. */
export interface BurstOut {
  /** From the first poll to the queue's end. */
  elapsedMs: number;
  /** The first poll and the queue's end, epoch ms (the neighbour section's window). */
  startedAt: number;
  finishedAt: number;
  /** The same, with the containers' bundle imports before it. */
  withLoadMs: number;
  loadMs: number;
  drained: boolean;
  failures: number;
  dlq: number;
  invocations: number;
  startRssMb: number;
  sampledPeakRssMb: number;
  vmHwmMb: number;
  peakHeapUsedMb: number;
}

/** One burst run, what the child saw and what the emulator counted. */
type BurstRun = BurstOut & { encrypted: number; calls: number; throttled: number };

/**
 * The burst child's input, written to `file` in `tmp`: `count` new groups `/aws/lambda/<prefix>-NNNNN` put in
 * the emulator, their events, and the containers' environment with the quota `rate` split between the pollers
 * (the sum of their buckets is the account's 5 TPS × T). Returns the file's path.
 */
export function burstInput(
  emulator: Emulator,
  where: { tmp: string; file: string; prefix: string },
  count: number,
  rate: number,
): string {
  const events = [];
  for (let i = 0; i < count; i++) {
    const name = `/aws/lambda/${where.prefix}-${String(i).padStart(5, '0')}`;
    emulator.state.putLogGroup(REGION, name);
    events.push(createEvent(name));
  }
  const input = join(where.tmp, where.file);
  writeFileSync(
    input,
    JSON.stringify({
      region: REGION,
      account: ACCOUNT,
      concurrency: BURST_CONCURRENCY,
      env: {
        ...handlerEnv(emulator),
        ASSOCIATE_RATE: String(rate / BURST_CONCURRENCY),
        POWERTOOLS_LOG_LEVEL: 'WARN',
      },
      events,
    }),
  );
  return input;
}

/** One burst on a fresh emulator: `args.burst` new groups, their events queued at once, the child draining them. */
async function burstRun(args: BenchArgs, tmp: string, rate: number): Promise<BurstRun> {
  const emulator = await startEmulator({ port: 0, timeScale: BURST_SCALE, propagationDelayMs: 0 });
  try {
    // The key exists and CloudWatch Logs sees it: the burst is the steady state, not the first event.
    const key = await guardKey(emulator);
    const input = burstInput(emulator, { tmp, file: 'burst-input.json', prefix: 'burst' }, args.burst, rate);
    const from = emulator.calls.length;
    const { out } = await runChild<BurstOut>(['scripts/bench/burst-child.ts', input], {});
    const calls = callsSince(emulator, from);
    const encrypted = emulator.state.logGroups(REGION).filter((g) => g.kmsKeyId === key.arn).length;
    return { ...out, encrypted, calls: calls.length, throttled: throttledOf(calls) };
  } finally {
    await emulator.stop();
  }
}

/** 4. Burst through the local queue in a child process, and 7. that process's peak memory. */
export async function burstFigures(
  args: BenchArgs,
  tmp: string,
  log: (line: string) => void,
): Promise<Figure[]> {
  const T = BURST_SCALE;
  const rate = QUOTA.associate * T;
  const runs: BurstRun[] = [];
  for (let run = 0; run < args.runs; run++) {
    const out = await burstRun(args, tmp, rate);
    runs.push(out);
    log(
      `  burst run ${run + 1}/${args.runs}: ${(out.elapsedMs / 1000).toFixed(2)} s, ${out.encrypted} encrypted`,
    );
  }
  const rigFloor = burstRigFloorMs(args.burst, rate);
  const issueFloor = (args.burst / rate) * 1000;
  const elapsed = runs.map((r) => r.elapsedMs);
  const ratios = elapsed.map((e) => e / rigFloor);
  const ok = runs.every((r) => r.encrypted === args.burst && r.dlq === 0 && r.failures === 0 && r.drained);
  const sum = (f: (r: BurstRun) => number) => sumOf(runs, f);
  const hwm = spread(runs.map((r) => r.vmHwmMb));
  return [
    {
      id: 'burst',
      name: `burst: ${args.burst} queued events at the AssociateKmsKey quota (×${T})`,
      unit: 'ms',
      ours: spread(elapsed),
      floor: spread([rigFloor]),
      ratio: spread(ratios),
      goal: '≤ 1.10×, no failure',
      met: spread(ratios).median <= 1.1 && ok,
      note:
        `${args.runs} run(s), timed from the first poll (the containers' imports take ${spread(runs.map((r) => r.loadMs)).median.toFixed(0)} ms before it; ` +
        `with them ${spread(runs.map((r) => r.withLoadMs / rigFloor)).median.toFixed(2)}×); ` +
        `floor (N − ${rate}) / ${rate} per s, as the quota's bucket (and the guard's, ASSOCIATE_RATE ${rate / BURST_CONCURRENCY} × ${BURST_CONCURRENCY}) ` +
        `starts with one real second of calls, where AWS's holds 5 (vs N / quota = ${issueFloor.toLocaleString('en-US')} ms: ` +
        `${spread(elapsed.map((e) => e / issueFloor)).median.toFixed(2)}×). ` +
        `Throttled ${sum((r) => r.throttled)} of ${sum((r) => r.calls)} calls, failed record attempts ${sum((r) => r.failures)}, ` +
        `DLQ ${sum((r) => r.dlq)}, encrypted ${runs.map((r) => r.encrypted).join('/')}`,
      details: {
        runs,
        rigFloorMs: rigFloor,
        issueFloorMs: issueFloor,
        timeScale: T,
        concurrency: BURST_CONCURRENCY,
      },
    },
    {
      id: 'peak-memory',
      name: 'peak memory of the handler process (burst)',
      unit: 'MB',
      ours: hwm,
      goal: `fits ${LAMBDA_MEMORY_MB} MB with headroom`,
      met: hwm.max <= LAMBDA_MEMORY_MB * 0.75,
      note:
        `VmHWM of the process running the queue and ${BURST_CONCURRENCY} containers (a Lambda runs one): ` +
        `${Math.round(LAMBDA_MEMORY_MB - hwm.max)} MB headroom at the worst run; ` +
        `peak heap used ${spread(runs.map((r) => r.peakHeapUsedMb)).median.toFixed(0)} MB, RSS at start ${spread(runs.map((r) => r.startRssMb)).median.toFixed(0)} MB`,
      details: { vmHwmMb: runs.map((r) => r.vmHwmMb), sampledPeakRssMb: runs.map((r) => r.sampledPeakRssMb) },
    },
  ];
}
