/**
 * The `org` section of `npm run bench`: `logs-kms-guard enforce --org` over an organization of A accounts (the
 * management account, audited with the caller's own credentials, and A − 1 members reached through AssumeRole)
 * × R regions, G log groups in each account-region, one in `every` unencrypted and the rest on an existing key
 * of the account whose policy admits CloudWatch Logs; real quotas, time-scaled by T.
 *
 * Two processes, so that the CLI and the emulator do not share one core:
 *  - the organization emulator: `node local/emulator/main.ts --org FILE --time-scale T --stats` (its `--stats`
 *    line, on SIGUSR2, gives the calls each account's emulator received: the throttled share);
 *  - the CLI as shipped: `node dist/cli.mjs enforce --org --regions … --yes --json`, through
 *    scripts/bench/org-child.ts, which scales that process's Date.now and setTimeout by T before the bundle is
 *    imported (the CLI's pacing runs on systemClock, which cannot be injected in a child), with AWS_ENDPOINT_URL,
 *    static fake credentials and an isolated HOME.
 * The bench itself (a third process) seeds the organization through the API before the run and checks every
 * group through the API after it.
 *
 * Floor of an account-region: its work at the quotas, max(AssociateKmsKey (U − 5) / 5, ListTagsForResource
 * (U − 5) / 5 (the CLI reads the opt-out tag before each association), DescribeLogGroups (pages − 10) / 10) s,
 * each less the one second of burst AWS's bucket holds (the emulator's, at T = 1, too; the CLI's own buckets hold
 * two calls, so it cannot use all of it), plus D, the guard key's
 * propagation delay, when it is not 0 (no association can succeed before CloudWatch Logs sees the new key).
 * The figure's floor is the slowest pair's.
 * The options, the seeding, the runs and the check are in scripts/bench/org/; this room turns runs into figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GUARD_ALIAS } from '../../../local/world.ts';
import { ORG_USAGE, type OrgArgs, orgArgs } from '../org/args.ts';
import { orgRun, type Run } from '../org/run.ts';
import { root } from '../rig.ts';
import { PAGE } from '../settings.ts';
import { type Figure, formatCounts, spread, table } from '../stats.ts';

/** The org section's figures: enforce --org against the slowest pair's floor, and the throttled share. */
export async function orgFigures(
  o: OrgArgs,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<Figure[]> {
  const T = o.timeScale;
  const tmp = mkdtempSync(join(tmpdir(), 'logs-kms-guard-bench-org-'));
  const runs: Run[] = [];
  try {
    for (let n = 0; n < o.runs; n++) runs.push(await orgRun(o, tmp, n, log));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const pairsN = o.accounts * o.regions.length;
  const unencrypted = Math.ceil(o.groups / o.every);
  const floorMs = Math.max(...runs.map((r) => r.floorMs));
  const ratios = runs.map((r) => r.oursMs / r.floorMs);
  const shares = runs.map((r) => r.throttled / r.calls);
  const allEncrypted = runs.every(
    (r) => r.exitCode === 0 && r.checks.length === pairsN && r.checks.every((c) => c.ok),
  );
  const sum = (f: (r: Run) => number) => runs.map(f).reduce((a, b) => a + b, 0);
  const med = (f: (r: Run) => number, digits = 1) => spread(runs.map(f)).median.toFixed(digits);
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const f0 = runs[0]?.floors;
  const realRun = (r: Run) => r.child.runScaledMs / T / 1000;
  const parallel = o.parallel === undefined ? 'the CLI default --parallel' : `--parallel ${o.parallel}`;
  const setup =
    `${o.accounts} accounts (management with its own credentials, ${o.accounts - 1} members by AssumeRole) × ${o.regions.join(', ')}, ` +
    `${o.groups} groups each, ${unencrypted} unencrypted, the rest on a key of the account that admits CloudWatch Logs; ` +
    `real quotas ×${T}; ${parallel}`;
  const why =
    `the emulator in its own process (local/emulator/main.ts --org --stats), the CLI bundle (${o.bundle.startsWith(root) ? o.bundle.slice(root.length + 1) : o.bundle}) ` +
    `in another, its Date.now and setTimeout scaled ×${T} before the import (scripts/bench/org-child.ts: the CLI paces on systemClock, ` +
    `so scaling the process's clock is how its pacing, backoff and SDK timers run on AWS time in a child), so the two do not share a core; ` +
    `CPU over the run: CLI ${med((r) => (100 * r.cliCpuS) / realRun(r), 0)} %, ` +
    `emulator ${runs.every((r) => r.emulatorCpuS !== undefined) ? med((r) => (100 * (r.emulatorCpuS ?? 0)) / realRun(r), 0) : '?'} % of one core (medians); ` +
    (T === 1
      ? "T = 1: the emulator's buckets hold one second of quota, as AWS's (at T = 2 they hold two, a margin AWS does not give, and the CLI's CPU, " +
        'bursty while 40 pairs start at once, counts twice: 1.11–1.12× there)'
      : `T = ${T}: the emulator's buckets hold ${T} seconds of quota (AWS's one), and the CLI's CPU time counts ${T} times`);
  const propagation =
    o.propagationMs === 0
      ? 'propagation delay 0: the guard key each account-region creates in the run is visible to CloudWatch Logs at once (not in the floor)'
      : `propagation delay ${o.propagationMs / 1000} s (AWS time): the guard key each account-region creates is invisible to CloudWatch Logs that long, added to the floor`;
  return [
    {
      id: 'org-enforce',
      name: `org: enforce --org, ${o.accounts} accounts × ${o.regions.length} regions × ${o.groups} groups, ${(100 / o.every).toFixed(0)} % unencrypted (×${T})`,
      unit: 'ms',
      ours: spread(runs.map((r) => r.oursMs)),
      floor: spread([floorMs]),
      ratio: spread(ratios),
      goal: '≤ 1.15× the slowest pair’s quota floor, throttled < 1 %, every group encrypted',
      met: spread(ratios).median <= 1.15 && Math.max(...shares) < 0.01 && allEncrypted,
      note:
        `AWS ms; ${runs.length} run(s); ${setup}. Ours: the CLI process's start to its first request at real speed ` +
        `(${med((r) => r.child.startupRealMs, 0)} ms: Node and the bundle's import${T > 1 ? `, which ×${T} would count ${T} times` : ''}) + first request to exit on the scaled clock ` +
        `(${med((r) => r.child.runScaledMs / 1000, 2)} s); fully scaled, import included: ${med((r) => r.child.totalScaledMs / 1000, 2)} s. ` +
        `Floor of the slowest account-region: max(AssociateKmsKey (${unencrypted} − 5) / 5, ListTagsForResource (${unencrypted} − 5) / 5, ` +
        `DescribeLogGroups (${Math.ceil(o.groups / PAGE)} pages − 10) / 10) = ${s(f0?.associate ?? 0)} / ${s(f0?.tags ?? 0)} / ${s(f0?.describe ?? 0)}` +
        `${o.propagationMs ? ` + ${s(o.propagationMs)} propagation` : ''}, each less the one second of burst AWS's bucket holds (5 calls; the CLI's own buckets hold 2, so it ` +
        `cannot use all of it); ${propagation}. ` +
        `Account-region spans on the emulator (first to last call): median ${s(spread(runs.flatMap((r) => r.pairSpanMs)).median)}, ` +
        `max ${s(Math.max(...runs.flatMap((r) => r.pairSpanMs)))}. Throttled ${sum((r) => r.throttled)} of ${sum((r) => r.calls)} calls to the accounts' emulators ` +
        `(at most ${(100 * Math.max(...shares)).toFixed(2)} % in one run${Object.keys(runs[0]?.throttledOps ?? {}).length ? `: ${formatCounts(runs[0]?.throttledOps ?? {})}` : ''}). ` +
        `Verified through the API after each run: ${runs.map((r) => r.checks.filter((c) => c.ok).length).join('/')} of ${pairsN} account-regions with the guard key behind ` +
        `${GUARD_ALIAS}, ${unencrypted} groups on it, the others still on their own key, none unencrypted; CLI exit ${runs.map((r) => r.exitCode).join('/')}, ` +
        `encrypted ${runs.map((r) => r.report.totals?.encrypted ?? '?').join('/')}, failed ${runs.map((r) => r.report.totals?.failed ?? '?').join('/')}. ` +
        `Why this rig: ${why}; real time per run ${med((r) => r.wallRealMs / 1000)} s. Calls (run 1): ${formatCounts(runs[0]?.ops ?? {})}; STS/Organizations: ${formatCounts(runs[0]?.org ?? {})}`,
      details: {
        runs: runs.map(({ checks, ...r }) => ({ ...r, badChecks: checks.filter((c) => !c.ok) })),
        floorMs,
        timeScale: T,
        throttledShare: shares,
        args: o,
      },
    },
    {
      id: 'org-throttled',
      name: 'org: throttled share of the calls to the accounts (enforce --org)',
      unit: '%',
      ours: spread(shares.map((x) => 100 * x)),
      goal: '< 1 %',
      met: Math.max(...shares) < 0.01,
      note:
        `ThrottlingException answers / every KMS and CloudWatch Logs call the ${pairsN} account-regions received during the run ` +
        `(the emulator's own count, local/emulator/main.ts --stats); errors other than throttles: ${formatCounts(runs[0]?.errors ?? {}) || 'none'}`,
      details: { throttled: runs.map((r) => r.throttled), calls: runs.map((r) => r.calls) },
    },
  ];
}

// Alone: `node scripts/bench/sections/org.ts [--org-… options]` prints the figures as JSON on stdout (a table on
// stderr).
if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  const { argv, org } = orgArgs(process.argv.slice(2));
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(ORG_USAGE.trim());
    process.exit(0);
  }
  const unknown = argv.filter((a) => a !== '--quick');
  if (unknown.length) {
    console.error(`org bench: unknown option(s) ${unknown.join(' ')}\n${ORG_USAGE}`);
    process.exit(2);
  }
  const figures = await orgFigures(org);
  process.stderr.write(`${table(figures)}\n`);
  console.log(JSON.stringify(figures, null, 2));
}
