/**
 * The `shared` section of `npm run bench`: a CLI `enforce` backfill (in-process, on a scaled clock) and a
 * burst handled by the enforce function (scripts/bench/burst-child.ts) at once, in one account and region,
 * both drawing from the one AssociateKmsKey quota: each has to slow down when throttled and speed back up
 * after, and together they should still finish near the quota's floor.
 */
import { defaultClientFactory } from '../../../functions/cli/aws.ts';
import { run as runCli } from '../../../functions/cli/program.ts';
import { clearKeyCache } from '../../../functions/core/key.ts';
import { scaledClock } from '../../../local/clock.ts';
import type { Emulator } from '../../../local/emulator/emulator.ts';
import { startEmulator } from '../../../local/emulator/server.ts';
import { credentials, REGION } from '../../../local/world.ts';
import { byOperation, callsSince, throttledOf } from '../api-calls.ts';
import type { BenchArgs } from '../args.ts';
import { guardKey, runChild } from '../rig.ts';
import { PAGE, QUOTA, SHARED_SCALE } from '../settings.ts';
import { burstRigFloorMs, type Figure, formatCounts, spread, sumOf } from '../stats.ts';
import { type BurstOut, burstInput } from './burst.ts';

/** One shared-quota run: both callers' outcome and the calls the emulator counted. */
interface SharedRun {
  elapsed: number;
  encrypted: number;
  calls: number;
  throttled: number;
  associateCalls: number;
  associateThrottled: number;
  cliCode: number;
  cliEncrypted: number;
  burstMs: number;
  failures: number;
  dlq: number;
  ops: Record<string, number>;
}

/** The backfill's groups (all unencrypted) and the burst's, apart by prefix so each is one caller's work; returns the burst's input file. */
function seedSharedRegion(emulator: Emulator, args: BenchArgs, tmp: string, rate: number): string {
  for (let i = 0; i < args.sweepGroups; i++)
    emulator.state.putLogGroup(REGION, `/app/group-${String(i).padStart(6, '0')}`);
  return burstInput(emulator, { tmp, file: 'shared-input.json', prefix: 'shared' }, args.burst, rate);
}

/** One run on a fresh emulator: the CLI backfill and the burst child started together, timed to the later end. */
async function sharedRun(args: BenchArgs, tmp: string, rate: number): Promise<SharedRun> {
  const T = SHARED_SCALE;
  const emulator = await startEmulator({ port: 0, timeScale: T, propagationDelayMs: 0 });
  try {
    const key = await guardKey(emulator);
    const input = seedSharedRegion(emulator, args, tmp, rate);
    clearKeyCache();
    const clock = scaledClock(T);
    const out: string[] = [];
    const from = emulator.calls.length;
    const started = clock.now();
    // The CLI in-process, its clock as fast as the emulator's quotas (as test/cli/program.emulator.test.ts runs it).
    const cli = runCli(
      ['enforce', '--yes', '--json', '--region', REGION, '--prefix', '/app/', '--rate', '5'],
      {
        stdout: { write: (t: string) => out.push(t), isTTY: false },
        stderr: { write: () => true, isTTY: false },
        stdinIsTTY: false,
        env: { AWS_REGION: REGION },
        clients: defaultClientFactory({ endpoint: emulator.endpoint, credentials }),
        clock,
      },
    ).then((code) => ({ code, at: clock.now() }));
    const child = runChild<BurstOut>(['scripts/bench/burst-child.ts', input], {}).then((c) => ({
      ...c,
      at: clock.now(),
    }));
    const [c, b] = await Promise.all([cli, child]);
    const elapsed = Math.max(c.at, b.at) - started;
    const calls = callsSince(emulator, from);
    const assoc = calls.filter((x) => x.operation === 'AssociateKmsKey');
    const encrypted = emulator.state.logGroups(REGION).filter((g) => g.kmsKeyId === key.arn).length;
    const report = JSON.parse(out.join('')) as { totals: { encrypted: number } };
    return {
      elapsed,
      encrypted,
      calls: calls.length,
      throttled: throttledOf(calls),
      associateCalls: assoc.length,
      associateThrottled: throttledOf(assoc),
      cliCode: c.code,
      cliEncrypted: report.totals.encrypted,
      burstMs: b.out.elapsedMs * T,
      failures: b.out.failures,
      dlq: b.out.dlq,
      ops: byOperation(calls),
    };
  } finally {
    await emulator.stop();
  }
}

/**
 * 8. Shared quota: a CLI `enforce` backfill and a burst handled by the enforce function, at once, in one
 * account and region, both drawing from the one AssociateKmsKey quota (5 TPS). Each paces itself at the
 * quota (the CLI with --rate 5; the two containers at 5 / 2 each, as the burst section), so together they ask
 * for twice what AWS grants: each must slow down when throttled and speed back up after.
 */
export async function sharedFigures(
  args: BenchArgs,
  tmp: string,
  log: (line: string) => void,
): Promise<Figure[]> {
  const T = SHARED_SCALE;
  const groups = args.sweepGroups;
  const events = args.burst;
  const associations = groups + events;
  const rate = QUOTA.associate * T;
  const runs: SharedRun[] = [];
  for (let r = 0; r < args.runs; r++) {
    const run = await sharedRun(args, tmp, rate);
    runs.push(run);
    log(
      `  shared quota run ${r + 1}/${args.runs}: ${(run.elapsed / 1000).toFixed(0)} scaled s, ${run.encrypted} of ${associations} encrypted, ` +
        `throttled ${run.throttled} of ${run.calls} calls`,
    );
  }
  // The floor: every association at the quota, the slowest of the three quotas the work needs. The
  // emulator's bucket starts full with one real second of the scaled rate (5 × T calls, as in the burst
  // section), which AWS's does not hold: those come free, so the floor is (N − 5 T) / 5 s.
  const floors = {
    associate: burstRigFloorMs(associations, rate) * T,
    tags: burstRigFloorMs(groups, QUOTA.tags * T) * T,
    describe: ((Math.ceil(groups / PAGE) + events) / QUOTA.describe) * 1000,
  };
  const floorMs = Math.max(floors.associate, floors.tags, floors.describe);
  const plainFloorMs = (associations / QUOTA.associate) * 1000;
  const ratios = runs.map((x) => x.elapsed / floorMs);
  const shares = runs.map((x) => x.throttled / x.calls);
  const allEncrypted = runs.every(
    (x) => x.encrypted === associations && x.cliCode === 0 && x.failures === 0 && x.dlq === 0,
  );
  const s = (n: number) => (n / 1000).toLocaleString('en-US', { maximumFractionDigits: 0 });
  return [
    {
      id: 'shared-quota',
      name: `shared quota: CLI enforce over ${groups} groups + a burst of ${events} events, one account (×${T})`,
      unit: 'ms',
      ours: spread(runs.map((x) => x.elapsed)),
      floor: spread([floorMs]),
      ratio: spread(ratios),
      goal: '≤ 1.10×, throttled < 1 %, every group encrypted',
      met: spread(ratios).median <= 1.1 && Math.max(...shares) < 0.01 && allEncrypted,
      note:
        `scaled ms; ${runs.length} run(s); encrypted ${runs.map((x) => x.encrypted).join('/')} of ${associations} ` +
        `(CLI ${runs.map((x) => x.cliEncrypted).join('/')}, exit ${runs.map((x) => x.cliCode).join('/')}; burst failed record attempts ` +
        `${sumOf(runs, (x) => x.failures)}, DLQ ${sumOf(runs, (x) => x.dlq)}); throttled ${sumOf(runs, (x) => x.throttled)} of ` +
        `${sumOf(runs, (x) => x.calls)} calls, at most ${(100 * Math.max(...shares)).toFixed(2)} % in one ` +
        `(AssociateKmsKey ${sumOf(runs, (x) => x.associateThrottled)} of ${sumOf(runs, (x) => x.associateCalls)}); ` +
        `floor = max(AssociateKmsKey (${associations} − ${rate}) / 5, ListTagsForResource (${groups} − ${QUOTA.tags * T}) / 5, ` +
        `DescribeLogGroups (${Math.ceil(groups / PAGE)} pages + ${events} events) / 10) = ${s(floors.associate)} / ${s(floors.tags)} / ${s(floors.describe)} s; ` +
        `vs ${associations} / 5 = ${s(plainFloorMs)} s: ${spread(runs.map((x) => x.elapsed / plainFloorMs)).median.toFixed(3)}×; ` +
        `burst drained in ${spread(runs.map((x) => x.burstMs)).median.toFixed(0)} scaled ms; calls ${formatCounts(runs[0]?.ops ?? {})}`,
      details: { runs, floorMs, floors, plainFloorMs, timeScale: T, throttledShare: shares },
    },
  ];
}
