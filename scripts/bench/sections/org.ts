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
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { wholeNumber } from './args.ts';
import { NODE, root } from './rig.ts';
import { countBy, type Figure, formatCounts, spread, table } from './stats.ts';

/** The quotas the floor is made of (AWS's published TPS; the emulator's table, local/emulator/quota.ts). */
const QUOTA = { associate: 5, tags: 5, describe: 10 };
const PAGE = 50;
const MANAGEMENT = '210000000000';
const ROLE = 'OrganizationAccountAccessRole';
const ALIAS = 'alias/logs-kms-guard';
const CALLER = { accessKeyId: 'bench-management', secretAccessKey: 'bench' };

export interface OrgArgs {
  /** Accounts, the management account included. */
  accounts: number;
  regions: string[];
  /** Log groups per account-region. */
  groups: number;
  /** One group in `every` is unencrypted. */
  every: number;
  timeScale: number;
  runs: number;
  /** The guard key's propagation delay in AWS ms (0: CloudWatch Logs sees a new key at once). */
  propagationMs: number;
  /** `--parallel` for the CLI; undefined: its default. */
  parallel?: number;
  /** The CLI bundle. */
  bundle: string;
}

export const ORG_DEFAULTS: OrgArgs = {
  accounts: 20,
  regions: ['us-east-1', 'eu-west-1'],
  groups: 500,
  every: 5,
  timeScale: 1,
  runs: 3,
  propagationMs: 0,
  bundle: join(root, 'dist/cli.mjs'),
};

export const ORG_USAGE = `
Org section (enforce --org across an organization; --only org runs just it):
  --org-accounts N        accounts, the management account included (default 20)
  --org-regions a,b       regions (default us-east-1,eu-west-1)
  --org-groups N          log groups per account-region (default 500; --quick: 100)
  --org-every N           one group in N unencrypted (default 5: 20 %)
  --org-time-scale T      time scale of quotas and of the CLI's clock (default 1: at T > 1 the emulator's
                          buckets hold T seconds of quota, not one, and the CLI's CPU time counts T times)
  --org-runs N            runs, each on a freshly seeded organization (default 3; --quick: 1)
  --org-propagation-ms D  the guard key's propagation delay, AWS ms, added to the floor (default 0)
  --org-parallel N        pass --parallel N to the CLI (default: the CLI's own default)
  --org-bundle FILE       the CLI bundle (default dist/cli.mjs)`;

/**
 * Takes the org section's options out of the bench's arguments (and `org` out of `--only`), so the rest goes on
 * unchanged. `run`: whether the section runs; `others`: whether any other section does.
 */
export function orgArgs(argv: string[]): { argv: string[]; org: OrgArgs; run: boolean; others: boolean } {
  const org: OrgArgs = { ...ORG_DEFAULTS, regions: [...ORG_DEFAULTS.regions] };
  const rest: string[] = [];
  let only: string[] | undefined;
  const set = new Set<string>();
  const count = (flag: string, value: string | undefined, min: number) => {
    set.add(flag);
    return wholeNumber(flag, value, min);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--org-accounts') org.accounts = count(a, argv[++i], 1);
    else if (a === '--org-groups') org.groups = count(a, argv[++i], 1);
    else if (a === '--org-every') org.every = count(a, argv[++i], 1);
    else if (a === '--org-time-scale') org.timeScale = count(a, argv[++i], 1);
    else if (a === '--org-runs') org.runs = count(a, argv[++i], 1);
    else if (a === '--org-propagation-ms') org.propagationMs = count(a, argv[++i], 0);
    else if (a === '--org-parallel') org.parallel = count(a, argv[++i], 1);
    else if (a === '--org-regions') {
      const regions = (argv[++i] ?? '').split(',').filter(Boolean);
      if (regions.length === 0) throw new Error('--org-regions needs a comma-separated list of regions');
      org.regions = regions;
    } else if (a === '--org-bundle') {
      const file = argv[++i];
      if (!file) throw new Error('--org-bundle needs a file');
      org.bundle = resolve(file);
    } else if (a === '--only' && argv[i + 1] !== undefined) {
      only = (argv[++i] as string).split(',').filter(Boolean);
      const others = only.filter((s) => s !== 'org');
      if (others.length > 0) rest.push('--only', others.join(','));
    } else {
      if (a === '--quick') {
        if (!set.has('--org-groups')) org.groups = 100;
        if (!set.has('--org-runs')) org.runs = 1;
      }
      rest.push(a);
    }
  }
  if (org.accounts > 99) throw new Error('--org-accounts: at most 99');
  return {
    argv: rest,
    org,
    run: !only || only.includes('org'),
    others: !only || only.some((s) => s !== 'org'),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const accountId = (i: number) => (i === 0 ? MANAGEMENT : `2100000000${String(i).padStart(2, '0')}`);
const groupName = (i: number) => `/app/group-${String(i).padStart(6, '0')}`;

/** Calls `f` again while the emulator throttles it (seeding and checking only: the bench is no subject). */
async function patient<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      if ((err as Error).name !== 'ThrottlingException' || attempt > 1000) throw err;
      await sleep(5 + Math.random() * 20);
    }
  }
}

/** Runs `worker` on every item, `limit` at once. */
async function lanes<T>(items: T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await worker(items[next++] as T);
    }),
  );
}

/** What one `stats:` line of the emulator says (local/emulator/main.ts --stats). */
interface Tally {
  n: number;
  throttled: number;
  errors: Record<string, number>;
  first: number;
  last: number;
}
interface Stats {
  at: number;
  accounts: Record<string, Record<string, Record<string, Tally>>>;
  org: Record<string, Tally>;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The organization emulator in its own process. */
interface OrgProcess {
  endpoint: string;
  pid: number | undefined;
  /** The calls since the previous stats (SIGUSR2, answered with one line on its stdout). */
  stats(): Promise<Stats>;
  stop(): Promise<void>;
}

async function startOrgProcess(file: string, o: OrgArgs): Promise<OrgProcess> {
  const child: ChildProcess = spawn(
    NODE,
    [join(root, 'local/emulator/main.ts'), '--org', file, '--time-scale', String(o.timeScale), '--stats'],
    { cwd: root, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const waiting: ((s: Stats) => void)[] = [];
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const endpoint = await new Promise<string>((resolveEndpoint, reject) => {
    child.once('exit', (code) => reject(new Error(`org emulator exited ${code}: ${err}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('endpoint: ')) resolveEndpoint(line.slice('endpoint: '.length));
      else if (line.startsWith('stats: ')) waiting.shift()?.(JSON.parse(line.slice(7)) as Stats);
    });
  });
  return {
    endpoint,
    pid: child.pid,
    stats: () =>
      new Promise<Stats>((r) => {
        waiting.push(r);
        child.kill('SIGUSR2');
      }),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface PairSeed {
  account: string;
  region: string;
  ownedKey: string;
  unencrypted: number;
  pages: number;
}

/** Clients of each account (the management account's own credentials, the members' through AssumeRole). */
async function accountClients(endpoint: string, ids: string[]) {
  const sts = new STSClient({ region: 'us-east-1', endpoint, credentials: CALLER, maxAttempts: 1 });
  const out = new Map<string, (region: string) => { logs: CloudWatchLogsClient; kms: KMSClient }>();
  await Promise.all(
    ids.map(async (id) => {
      let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = CALLER;
      if (id !== MANAGEMENT) {
        const r = await sts.send(
          new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${id}:role/${ROLE}`, RoleSessionName: 'bench' }),
        );
        const c = r.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole ${id}: no credentials`);
        credentials = {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        };
      }
      const cache = new Map<string, { logs: CloudWatchLogsClient; kms: KMSClient }>();
      out.set(id, (region) => {
        let c = cache.get(region);
        if (!c) {
          const config = { region, endpoint, credentials, maxAttempts: 1 };
          c = { logs: new CloudWatchLogsClient(config), kms: new KMSClient(config) };
          cache.set(region, c);
        }
        return c;
      });
    }),
  );
  return out;
}

/** Every account-region: a key whose policy admits CloudWatch Logs, and G groups, one in `every` without a key. */
async function seed(clientsOf: Awaited<ReturnType<typeof accountClients>>, o: OrgArgs): Promise<PairSeed[]> {
  const pairs: PairSeed[] = [];
  const jobs: { account: string; region: string }[] = [];
  for (const account of clientsOf.keys()) for (const region of o.regions) jobs.push({ account, region });
  await lanes(jobs, jobs.length, async ({ account, region }) => {
    const { logs, kms } = (
      clientsOf.get(account) as (r: string) => { logs: CloudWatchLogsClient; kms: KMSClient }
    )(region);
    const key = await patient(() =>
      kms.send(
        new CreateKeyCommand({
          Description: 'bench: the key the encrypted groups already use',
          Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region, account })),
        }),
      ),
    );
    const ownedKey = key.KeyMetadata?.Arn as string;
    // CloudWatch Logs sees a new key only after the propagation delay (scaled), for the seeding's groups too.
    if (o.propagationMs > 0) await sleep(o.propagationMs / o.timeScale + 50);
    let unencrypted = 0;
    const indexes = Array.from({ length: o.groups }, (_, i) => i);
    for (const i of indexes) if (i % o.every === 0) unencrypted++;
    await lanes(indexes, 8, async (i) => {
      await patient(() =>
        logs.send(
          new CreateLogGroupCommand({
            logGroupName: groupName(i),
            ...(i % o.every === 0 ? {} : { kmsKeyId: ownedKey }),
          }),
        ),
      );
    });
    pairs.push({ account, region, ownedKey, unencrypted, pages: Math.ceil(o.groups / PAGE) });
  });
  return pairs;
}

interface PairCheck {
  account: string;
  region: string;
  guardKey?: string;
  listed: number;
  guard: number;
  owned: number;
  none: number;
  other: number;
  ok: boolean;
}

/** Through the API: the guard key behind its alias, and every group on it or on the key it already had. */
async function verify(
  clientsOf: Awaited<ReturnType<typeof accountClients>>,
  pairs: PairSeed[],
): Promise<PairCheck[]> {
  const checks: PairCheck[] = [];
  await lanes(pairs, pairs.length, async (p) => {
    const { logs, kms } = (
      clientsOf.get(p.account) as (r: string) => { logs: CloudWatchLogsClient; kms: KMSClient }
    )(p.region);
    let guardKey: string | undefined;
    try {
      guardKey = (await patient(() => kms.send(new DescribeKeyCommand({ KeyId: ALIAS })))).KeyMetadata?.Arn;
    } catch (err) {
      if ((err as Error).name !== 'NotFoundException') throw err;
    }
    const groups: LogGroup[] = [];
    let nextToken: string | undefined;
    do {
      const page = await patient(() =>
        logs.send(new DescribeLogGroupsCommand({ limit: PAGE, ...(nextToken ? { nextToken } : {}) })),
      );
      groups.push(...(page.logGroups ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const by = countBy(groups, (g) =>
      !g.kmsKeyId
        ? 'none'
        : g.kmsKeyId === guardKey
          ? 'guard'
          : g.kmsKeyId === p.ownedKey
            ? 'owned'
            : 'other',
    );
    const c = {
      account: p.account,
      region: p.region,
      ...(guardKey ? { guardKey } : {}),
      listed: groups.length,
      guard: by.guard ?? 0,
      owned: by.owned ?? 0,
      none: by.none ?? 0,
      other: by.other ?? 0,
    };
    checks.push({
      ...c,
      ok:
        guardKey !== undefined &&
        c.none === 0 &&
        c.other === 0 &&
        c.guard === p.unencrypted &&
        c.guard + c.owned === c.listed,
    });
  });
  return checks;
}

interface ChildOut {
  code: number;
  requests: number;
  startupRealMs: number;
  importRealMs: number;
  runScaledMs: number;
  totalScaledMs: number;
  lastRequestScaledMs: number;
  lastResponseScaledMs: number;
  realMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  maxRssMb: number;
}

interface Run {
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

/** Runs the CLI (through org-child.ts) and returns its stdout, stderr tail and BENCH line. */
async function runCli(endpoint: string, o: OrgArgs, home: string) {
  const argv = ['enforce', '--org', '--regions', o.regions.join(','), '--yes', '--json'];
  if (o.parallel !== undefined) argv.push('--parallel', String(o.parallel));
  const started = performance.now();
  // BENCH_ORG_CPU_PROF=DIR: a V8 CPU profile of the CLI process in DIR (for finding where its time goes).
  const profile = process.env.BENCH_ORG_CPU_PROF;
  const nodeArgs = profile ? ['--cpu-prof', '--cpu-prof-dir', resolve(profile)] : [];
  const child = spawn(NODE, [...nodeArgs, join(root, 'scripts/bench/org-child.ts'), ...argv], {
    cwd: home,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      NO_COLOR: '1',
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: o.regions[0] as string,
      AWS_ACCESS_KEY_ID: CALLER.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CALLER.secretAccessKey,
      AWS_CONFIG_FILE: join(home, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
      BENCH_TIME_SCALE: String(o.timeScale),
      BENCH_BUNDLE: o.bundle,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-200_000);
  });
  const code = await new Promise<number>((r, reject) => {
    child.on('error', reject);
    child.on('close', (c) => r(c ?? -1));
  });
  const wallRealMs = performance.now() - started;
  const line = stderr.split('\n').find((l) => l.startsWith('BENCH '));
  if (!line) throw new Error(`the CLI exited ${code} without its BENCH line: ${stderr.slice(-3000)}`);
  return {
    code,
    wallRealMs,
    stdout,
    stderrTail: stderr.replace(line, '').slice(-3000),
    out: JSON.parse(line.slice(6)) as ChildOut,
  };
}

/** One run: a fresh organization, seeded; the CLI; the counts; the check. */
async function orgRun(o: OrgArgs, tmp: string, n: number, log: (line: string) => void): Promise<Run> {
  const T = o.timeScale;
  const ids = Array.from({ length: o.accounts }, (_, i) => accountId(i));
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
  const emulator = await startOrgProcess(file, o);
  try {
    const clientsOf = await accountClients(emulator.endpoint, ids);
    const seedStart = performance.now();
    const pairs = await seed(clientsOf, o);
    const seedMs = performance.now() - seedStart;
    // Every bucket full again (one real second holds a whole bucket), and the seeding's calls out of the count.
    await sleep(1100);
    await emulator.stats();
    const home = join(tmp, `home-${n}`);
    mkdirSync(home, { recursive: true });
    const cpu0 = cpuSecondsOf(emulator.pid);
    const cli = await runCli(emulator.endpoint, o, home);
    const cpu1 = cpuSecondsOf(emulator.pid);
    const stats = await emulator.stats();
    const checks = await verify(clientsOf, pairs);

    // The floor of each pair, AWS ms; the slowest pair's is the run's.
    const D = o.propagationMs;
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
    const floorMs = floorOf(slowest);

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
    const timelines: { pair: string; spanMs: number; ops: Record<string, [number, number]> }[] = [];
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
          for (const [e, k] of Object.entries(t.errors))
            errors[`${op} ${e}`] = (errors[`${op} ${e}`] ?? 0) + k;
          first = Math.min(first, t.first);
          last = Math.max(last, t.last);
        }
        pairSpanMs.push((last - first) * T);
        (timelines.at(-1) as (typeof timelines)[number]).spanMs = (last - first) * T;
      }
    }
    timelines.sort((a, b) => b.spanMs - a.spanMs);
    const org = Object.fromEntries(Object.entries(stats.org).map(([op, t]) => [op, t.n]));
    const report = JSON.parse(cli.stdout || '{}') as Run['report'];
    const oursMs = cli.out.startupRealMs + cli.out.runScaledMs;
    const run: Run = {
      oursMs,
      child: cli.out,
      wallRealMs: cli.wallRealMs,
      floorMs,
      floors: slowest,
      calls,
      throttled,
      ops,
      throttledOps,
      errors,
      org,
      pairSpanMs,
      slowestPairs: timelines.slice(0, 3),
      orgTimeline: Object.fromEntries(
        Object.entries(stats.org).map(([op, t]) => [op, [(t.first - start) * T, (t.last - start) * T]]),
      ),
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
        `throttled ${throttled} of ${calls}; CPU: CLI ${run.cliCpuS.toFixed(1)} s, emulator ${run.emulatorCpuS?.toFixed(1) ?? '?'} s; ` +
        `${checks.length - bad.length} of ${checks.length} pairs verified` +
        `${bad.length ? ` (not: ${bad.map((c) => `${c.account}/${c.region}`).join(', ')})` : ''}`,
    );
    return run;
  } finally {
    await emulator.stop();
  }
}

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
        `${ALIAS}, ${unencrypted} groups on it, the others still on their own key, none unencrypted; CLI exit ${runs.map((r) => r.exitCode).join('/')}, ` +
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

// Alone: `node scripts/bench/org.ts [--org-… options]` prints the figures as JSON on stdout (a table on stderr).
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
