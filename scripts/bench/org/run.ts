/**
 * One run of the org section: a fresh organization emulator (scripts/bench/org/emulator-process.ts), seeded;
 * the CLI's enforce --org over it; the calls the accounts received, tallied from the emulator's stats; the
 * floor of each account-region at the quotas; and the check through the API afterwards.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { QUOTA } from '../settings.ts';
import { type AccountClients, accountClients, accountId } from './accounts.ts';
import type { OrgArgs } from './args.ts';
import { type ChildOut, runCli } from './cli-run.ts';
import { cpuSecondsOf, type Stats, startOrgProcess } from './emulator-process.ts';
import { type PairSeed, seed } from './seed.ts';
import { MANAGEMENT } from './settings.ts';
import { type PairCheck, verify } from './verify.ts';

/** One org run: ours against its floor, the calls the accounts received, the CLI's report and the check. */
export interface Run {
  /** Ours: the CLI's startup (real ms, as on a real machine) + its run on AWS time (first request to exit). */
  oursMs: number;
  child: ChildOut;
  /** Spawn to exit as the bench sees it, real ms. */
  wallRealMs: number;
  floorMs: number;
  floors: { associate: number; tags: number; describe: number; propagation: number };
  calls: number;
  throttled: number;
  ops: Record<string, number>;
  throttledOps: Record<string, number>;
  errors: Record<string, number>;
  org: Record<string, number>;
  /** Per account-region: first to last call on the emulator, AWS ms. */
  pairSpanMs: number[];
  /** The slowest account-regions: each operation's first and last call, AWS ms from the run's first call. */
  slowestPairs: { pair: string; spanMs: number; ops: Record<string, [number, number]> }[];
  orgTimeline: Record<string, [number, number]>;
  emulatorCpuS?: number;
  cliCpuS: number;
  report: {
    totals: { encrypted: number; failed: number; listed: number; candidates: number };
    pairs: { status: string }[];
  };
  checks: PairCheck[];
  seedMs: number;
  exitCode: number;
  stderrTail: string;
}

/** The organization file of run `n` for local/emulator/main.ts --org: the accounts, real quotas, no faults. */
function writeOrgFile(o: OrgArgs, tmp: string, n: number, ids: string[]): string {
  const file = join(tmp, `org-${n}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      management: MANAGEMENT,
      accounts: ids.filter((id) => id !== MANAGEMENT).map((id, i) => ({ id, name: `member-${i + 1}` })),
      throttle: true,
      propagationDelayMs: o.propagationMs,
      faultRate: 0,
      // The CLI never calls CreateLogGroup: its quota is lifted so that the bench can seed through the API.
      quotas: { CreateLogGroup: 1_000_000 },
    }),
  );
  return file;
}

/** The floor of each pair, AWS ms; the slowest pair's is the run's. */
function slowestFloor(pairs: PairSeed[], D: number): { floorMs: number; floors: Run['floors'] } {
  const pairFloors = pairs.map((p) => ({
    associate: (Math.max(0, p.unencrypted - QUOTA.associate) / QUOTA.associate) * 1000,
    tags: (Math.max(0, p.unencrypted - QUOTA.tags) / QUOTA.tags) * 1000,
    describe: (Math.max(0, p.pages - QUOTA.describe) / QUOTA.describe) * 1000,
    propagation: D,
  }));
  const floorOf = (f: (typeof pairFloors)[number]) =>
    (f.propagation > 0 && f.associate + f.tags > 0 ? f.propagation : 0) +
    Math.max(f.associate, f.tags, f.describe);
  const slowest = pairFloors.reduce((a, b) => (floorOf(b) > floorOf(a) ? b : a));
  return { floorMs: floorOf(slowest), floors: slowest };
}

/** The emulator's stats of the run summed up: calls, throttles and errors, each pair's span and timeline, AWS ms. */
function tallyStats(stats: Stats, T: number) {
  let calls = 0;
  let throttled = 0;
  const ops: Record<string, number> = {};
  const throttledOps: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const pairSpanMs: number[] = [];
  const start = Math.min(
    ...Object.values(stats.org).map((t) => t.first),
    ...Object.values(stats.accounts).flatMap((regions) =>
      Object.values(regions).flatMap((byOp) => Object.values(byOp).map((t) => t.first)),
    ),
  );
  const timelines: Run['slowestPairs'] = [];
  for (const [account, regions] of Object.entries(stats.accounts)) {
    for (const [region, byOp] of Object.entries(regions)) {
      timelines.push({
        pair: `${account}/${region}`,
        spanMs: 0,
        ops: Object.fromEntries(
          Object.entries(byOp).map(([op, t]) => [op, [(t.first - start) * T, (t.last - start) * T]]),
        ),
      });
      let first = Number.POSITIVE_INFINITY;
      let last = 0;
      for (const [op, t] of Object.entries(byOp)) {
        calls += t.n;
        throttled += t.throttled;
        ops[op] = (ops[op] ?? 0) + t.n;
        if (t.throttled) throttledOps[op] = (throttledOps[op] ?? 0) + t.throttled;
        for (const [e, k] of Object.entries(t.errors)) errors[`${op} ${e}`] = (errors[`${op} ${e}`] ?? 0) + k;
        first = Math.min(first, t.first);
        last = Math.max(last, t.last);
      }
      pairSpanMs.push((last - first) * T);
      (timelines.at(-1) as (typeof timelines)[number]).spanMs = (last - first) * T;
    }
  }
  timelines.sort((a, b) => b.spanMs - a.spanMs);
  return {
    calls,
    throttled,
    ops,
    throttledOps,
    errors,
    org: Object.fromEntries(Object.entries(stats.org).map(([op, t]) => [op, t.n])),
    pairSpanMs,
    slowestPairs: timelines.slice(0, 3),
    orgTimeline: Object.fromEntries(
      Object.entries(stats.org).map(([op, t]) => [op, [(t.first - start) * T, (t.last - start) * T]]),
    ) as Run['orgTimeline'],
  };
}

/** Seeds the organization, then lets every bucket fill again and the seeding's calls out of the count. */
async function seedOrganization(
  clientsOf: AccountClients,
  o: OrgArgs,
  emulator: { stats(): Promise<Stats> },
) {
  const seedStart = performance.now();
  const pairs = await seed(clientsOf, o);
  const seedMs = performance.now() - seedStart;
  // Every bucket full again (one real second holds a whole bucket), and the seeding's calls out of the count.
  await sleep(1100);
  await emulator.stats();
  return { pairs, seedMs };
}

/** One run: a fresh organization, seeded; the CLI; the counts; the check. */
export async function orgRun(o: OrgArgs, tmp: string, n: number, log: (line: string) => void): Promise<Run> {
  const T = o.timeScale;
  const ids = Array.from({ length: o.accounts }, (_, i) => accountId(i));
  const emulator = await startOrgProcess(writeOrgFile(o, tmp, n, ids), o);
  try {
    const clientsOf = await accountClients(emulator.endpoint, ids);
    const { pairs, seedMs } = await seedOrganization(clientsOf, o, emulator);
    const home = join(tmp, `home-${n}`);
    mkdirSync(home, { recursive: true });
    const cpu0 = cpuSecondsOf(emulator.pid);
    const cli = await runCli(emulator.endpoint, o, home);
    const cpu1 = cpuSecondsOf(emulator.pid);
    const stats = await emulator.stats();
    const checks = await verify(clientsOf, pairs);
    const { floorMs, floors } = slowestFloor(pairs, o.propagationMs);
    const tally = tallyStats(stats, T);
    const report = JSON.parse(cli.stdout || '{}') as Run['report'];
    const oursMs = cli.out.startupRealMs + cli.out.runScaledMs;
    const run: Run = {
      oursMs,
      child: cli.out,
      wallRealMs: cli.wallRealMs,
      floorMs,
      floors,
      calls: tally.calls,
      throttled: tally.throttled,
      ops: tally.ops,
      throttledOps: tally.throttledOps,
      errors: tally.errors,
      org: tally.org,
      pairSpanMs: tally.pairSpanMs,
      slowestPairs: tally.slowestPairs,
      orgTimeline: tally.orgTimeline,
      ...(cpu0 !== undefined && cpu1 !== undefined ? { emulatorCpuS: cpu1 - cpu0 } : {}),
      cliCpuS: (cli.out.cpuUserMs + cli.out.cpuSystemMs) / 1000,
      report,
      checks,
      seedMs,
      exitCode: cli.code,
      stderrTail: cli.code === 0 ? '' : cli.stderrTail,
    };
    const bad = checks.filter((c) => !c.ok);
    log(
      `  org run ${n + 1}/${o.runs}: ${(oursMs / 1000).toFixed(2)} s AWS time (floor ${(floorMs / 1000).toFixed(2)} s, ` +
        `${(oursMs / floorMs).toFixed(3)}×), exit ${cli.code}, ${(cli.wallRealMs / 1000).toFixed(1)} s real; ` +
        `throttled ${tally.throttled} of ${tally.calls}; CPU: CLI ${run.cliCpuS.toFixed(1)} s, emulator ${run.emulatorCpuS?.toFixed(1) ?? '?'} s; ` +
        `${checks.length - bad.length} of ${checks.length} pairs verified` +
        `${bad.length ? ` (not: ${bad.map((c) => `${c.account}/${c.region}`).join(', ')})` : ''}`,
    );
    return run;
  } finally {
    await emulator.stop();
  }
}
