/**
 * The `neighbour` section of `npm run bench`: the AssociateKmsKey quota (5 TPS, not adjustable) shared with
 * other automation that calls it at a fixed 2 TPS and never adapts (scripts/bench/neighbour/caller.ts). Two
 * cases, each on a fresh emulator at its real quota (time scale 1: AWS's bucket holds 5 calls, as AWS's does):
 * the CLI's `enforce` over NEIGHBOUR.groups groups (in-process, as a user runs it), and the enforce function
 * draining a burst of as many CreateLogGroup events (scripts/bench/burst-child.ts, the built bundle, its two
 * pollers). Reported: each side's throttled share, and the time against the floor N / (5 − 2) s, what is left
 * of the quota once the neighbour has taken its share.
 */
import { defaultClientFactory } from '../../../functions/cli/aws.ts';
import { run as runCli } from '../../../functions/cli/program.ts';
import { systemClock } from '../../../functions/core/clock.ts';
import { clearKeyCache } from '../../../functions/core/key.ts';
import type { Emulator } from '../../../local/emulator/emulator.ts';
import { startEmulator } from '../../../local/emulator/server.ts';
import { credentials, REGION } from '../../../local/world.ts';
import { callsSince, throttledOf } from '../api-calls.ts';
import type { BenchArgs } from '../args.ts';
import { type NeighbourCall, neighbourShare, startNeighbour } from '../neighbour/caller.ts';
import { guardKey, runChild } from '../rig.ts';
import { NEIGHBOUR, QUOTA } from '../settings.ts';
import { type Figure, spread, sumOf } from '../stats.ts';
import { type BurstOut, burstInput } from './burst.ts';

/** One case's run: our time, our AssociateKmsKey calls and the neighbour's over our run, and the outcome. */
interface NeighbourRun {
  elapsedMs: number;
  /** Our AssociateKmsKey calls (the emulator's count less the neighbour's) and how many were throttled. */
  ours: { calls: number; throttled: number };
  /** All our calls, every operation. */
  oursAll: { calls: number; throttled: number };
  /** The neighbour's calls sent while ours ran. */
  neighbour: { calls: number; throttled: number };
  encrypted: number;
  ok: boolean;
}

/** The neighbour's own group, outside both cases' prefixes. */
const NEIGHBOUR_GROUP = '/neighbour/app';
/** The neighbour runs alone this long first, so ours meets it in its steady state. */
const LEAD_MS = 1_000;

/** A fresh emulator at the real quotas, the guard key and the neighbour's group in it; `body` runs beside the neighbour. */
async function withNeighbour(
  seed: (emulator: Emulator) => void,
  body: (emulator: Emulator, keyArn: string) => Promise<{ from: number; to: number; ok: boolean }>,
  isOurs: (groupName: string) => boolean,
): Promise<NeighbourRun> {
  const emulator = await startEmulator({ port: 0, timeScale: 1, propagationDelayMs: 0 });
  try {
    const key = await guardKey(emulator);
    emulator.state.putLogGroup(REGION, NEIGHBOUR_GROUP);
    seed(emulator);
    clearKeyCache();
    const mark = emulator.calls.length;
    const neighbour = startNeighbour(
      {
        endpoint: emulator.endpoint,
        region: REGION,
        credentials,
        logGroupName: NEIGHBOUR_GROUP,
        keyArn: key.arn,
      },
      NEIGHBOUR.tps,
    );
    await systemClock.sleep(LEAD_MS);
    let window: { from: number; to: number; ok: boolean };
    let sent: NeighbourCall[];
    try {
      window = await body(emulator, key.arn);
    } finally {
      sent = await neighbour.stop();
    }
    const calls = callsSince(emulator, mark);
    const assoc = calls.filter((c) => c.operation === 'AssociateKmsKey');
    const theirs = { calls: sent.length, throttled: sent.filter((c) => c.throttled).length };
    const encrypted = emulator.state
      .logGroups(REGION)
      .filter((g) => isOurs(g.name) && g.kmsKeyId === key.arn).length;
    return {
      elapsedMs: window.to - window.from,
      ours: { calls: assoc.length - theirs.calls, throttled: throttledOf(assoc) - theirs.throttled },
      oursAll: { calls: calls.length - theirs.calls, throttled: throttledOf(calls) - theirs.throttled },
      neighbour: neighbourShare(sent, window.from, window.to),
      encrypted,
      ok: window.ok,
    };
  } finally {
    await emulator.stop();
  }
}

/** The CLI's `enforce --rate 5` over `groups` unencrypted groups under /app/, in-process on the real clock. */
function cliRun(groups: number): Promise<NeighbourRun> {
  return withNeighbour(
    (emulator) => {
      for (let i = 0; i < groups; i++)
        emulator.state.putLogGroup(REGION, `/app/group-${String(i).padStart(6, '0')}`);
    },
    async (emulator) => {
      const from = Date.now();
      const code = await runCli(
        ['enforce', '--yes', '--json', '--region', REGION, '--prefix', '/app/', '--rate', '5'],
        {
          stdout: { write: () => true, isTTY: false },
          stderr: { write: () => true, isTTY: false },
          stdinIsTTY: false,
          env: { AWS_REGION: REGION },
          clients: defaultClientFactory({ endpoint: emulator.endpoint, credentials }),
          clock: systemClock,
        },
      );
      return { from, to: Date.now(), ok: code === 0 };
    },
    (name) => name.startsWith('/app/'),
  );
}

/** The enforce function (two pollers at 5 / 2 TPS each) draining `events` CreateLogGroup events. */
function functionRun(events: number, tmp: string): Promise<NeighbourRun> {
  let input = '';
  return withNeighbour(
    (emulator) => {
      input = burstInput(
        emulator,
        { tmp, file: 'neighbour-input.json', prefix: 'neighbour' },
        events,
        QUOTA.associate,
      );
    },
    async () => {
      const { out } = await runChild<BurstOut>(['scripts/bench/burst-child.ts', input], {});
      return {
        from: out.startedAt,
        to: out.finishedAt,
        ok: out.drained && out.failures === 0 && out.dlq === 0,
      };
    },
    (name) => name.startsWith('/aws/lambda/neighbour-'),
  );
}

const pct = (x: { calls: number; throttled: number }) => (x.calls ? (100 * x.throttled) / x.calls : 0);

/** One figure: a case's runs against the floor N / (quota − neighbour) and the throttled-share goals. */
function figure(id: string, name: string, runs: NeighbourRun[], n: number): Figure {
  const spare = QUOTA.associate - NEIGHBOUR.tps;
  const floorMs = (n / spare) * 1000;
  // AWS's bucket starts full (5 calls) and the neighbour leaves it so: those come free, so the strict floor is lower.
  const strictMs = (Math.max(0, n - QUOTA.associate) / spare) * 1000;
  const ratios = runs.map((r) => r.elapsedMs / floorMs);
  const oursPct = runs.map((r) => pct(r.ours));
  const theirsPct = runs.map((r) => pct(r.neighbour));
  const allDone = runs.every((r) => r.ok && r.encrypted === n);
  const list = (xs: number[], d = 1) => xs.map((x) => x.toFixed(d)).join(' / ');
  return {
    id,
    name,
    unit: 'ms',
    ours: spread(runs.map((r) => r.elapsedMs)),
    floor: spread([floorMs]),
    ratio: spread(ratios),
    goal: `≤ ${NEIGHBOUR.goal.ratio}×, ours throttled < ${NEIGHBOUR.goal.ours} %, neighbour's < ${NEIGHBOUR.goal.neighbour} %`,
    met:
      Math.max(...ratios) <= NEIGHBOUR.goal.ratio &&
      Math.max(...oursPct) < NEIGHBOUR.goal.ours &&
      Math.max(...theirsPct) < NEIGHBOUR.goal.neighbour &&
      allDone,
    note:
      `${runs.length} run(s), time scale 1; AssociateKmsKey throttled: ours ${list(oursPct)} % ` +
      `(${sumOf(runs, (r) => r.ours.throttled)} of ${sumOf(runs, (r) => r.ours.calls)}), neighbour ${list(theirsPct)} % ` +
      `(${sumOf(runs, (r) => r.neighbour.throttled)} of ${sumOf(runs, (r) => r.neighbour.calls)} while ours ran); ` +
      `all our calls ${list(runs.map((r) => pct(r.oursAll)))} % throttled; ratio per run ${list(ratios, 3)}; ` +
      `floor ${n} / (${QUOTA.associate} − ${NEIGHBOUR.tps}) s (vs (${n} − ${QUOTA.associate}) / ${spare}: ` +
      `${spread(runs.map((r) => r.elapsedMs / strictMs)).median.toFixed(3)}×); ` +
      `encrypted ${runs.map((r) => r.encrypted).join('/')} of ${n}${allDone ? '' : ', NOT ALL DONE'}`,
    details: { runs, floorMs, strictFloorMs: strictMs, neighbourTps: NEIGHBOUR.tps },
  };
}

/**
 * 9. A quota shared with a caller that does not adapt: the CLI's enforce and the enforce function, each beside
 * a neighbour calling AssociateKmsKey at a fixed 2 TPS, at the real quota.
 */
export async function neighbourFigures(
  args: BenchArgs,
  tmp: string,
  log: (line: string) => void,
): Promise<Figure[]> {
  const n = NEIGHBOUR.groups;
  const cli: NeighbourRun[] = [];
  const fn: NeighbourRun[] = [];
  const line = (what: string, r: NeighbourRun) =>
    `  neighbour ${what}: ${(r.elapsedMs / 1000).toFixed(1)} s (floor ${(n / (QUOTA.associate - NEIGHBOUR.tps)).toFixed(1)} s), ` +
    `throttled ours ${pct(r.ours).toFixed(1)} %, neighbour ${pct(r.neighbour).toFixed(1)} %, encrypted ${r.encrypted}`;
  for (let i = 0; i < args.neighbourRuns; i++) {
    const c = await cliRun(n);
    cli.push(c);
    log(line(`CLI run ${i + 1}/${args.neighbourRuns}`, c));
    const f = await functionRun(n, tmp);
    fn.push(f);
    log(line(`function run ${i + 1}/${args.neighbourRuns}`, f));
  }
  return [
    figure(
      'neighbour-cli',
      `shared with a non-adapting ${NEIGHBOUR.tps} TPS neighbour: CLI enforce over ${n} groups`,
      cli,
      n,
    ),
    figure(
      'neighbour-function',
      `shared with a non-adapting ${NEIGHBOUR.tps} TPS neighbour: enforce function, burst of ${n}`,
      fn,
      n,
    ),
  ];
}
