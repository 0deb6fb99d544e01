/** Pure helpers of the benchmark: statistics, floors, the table, the arguments. No I/O, no clocks. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median, min and max of the samples (the median of an even count is the mean of the middle two). */
export function spread(samples: number[]): Spread {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted.at(-1) as number, n: sorted.length };
}

/** ours[i] / floor[i] for paired repetitions (same length, each floor measured next to its own run). */
export function pairedRatios(ours: number[], floor: number[]): number[] {
  if (ours.length !== floor.length) throw new Error(`unpaired samples: ${ours.length} vs ${floor.length}`);
  return ours.map((o, i) => o / (floor[i] as number));
}

/** How many of the items fall under each key, keys in order of first appearance. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** `{ A: 2, B: 1 }` as "A 2, B 1", largest first (ties keep their order). */
export function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

/**
 * The calls before and after the first one that `isBoundary` picks (which is in neither), e.g. a run's
 * deployment and its first event, apart at the CreateLogGroup that starts the event. Throws when none does.
 */
export function splitAt<T>(
  calls: readonly T[],
  isBoundary: (call: T) => boolean,
): { before: T[]; boundary: T; after: T[] } {
  const i = calls.findIndex(isBoundary);
  if (i < 0) throw new Error('no call marks the boundary');
  return { before: calls.slice(0, i), boundary: calls[i] as T, after: calls.slice(i + 1) };
}

/**
 * Floor of the burst on this rig, in ms: `events` AssociateKmsKey calls at `rate` calls per (real) second,
 * where the quota's token bucket starts full with one second's worth (`rate` calls go at once). At real
 * scale that allowance is 5 calls, negligible; time-scaled it is `rate` = 5 × T calls, i.e. one real
 * second, which the plain events / rate floor does not know about.
 */
export function burstRigFloorMs(events: number, rate: number): number {
  return (Math.max(0, events - rate) / rate) * 1000;
}

/**
 * Floor of the sweep, in ms (of the quota's own clock): the slower of listing every page at the
 * DescribeLogGroups quota and associating every unencrypted group at the AssociateKmsKey quota.
 */
export function sweepFloorMs(
  groups: number,
  unencrypted: number,
  quotas: { describe: number; associate: number },
  pageSize = 50,
): number {
  const pages = Math.ceil(groups / pageSize);
  return Math.max(pages / quotas.describe, unencrypted / quotas.associate) * 1000;
}

/**
 * The enforce function's timeout in seconds from serverless.yml (the `timeout:` of the `- enforce:`
 * function); undefined when the file does not say.
 */
export function enforceTimeoutSeconds(serverlessYml: string): number | undefined {
  const start = serverlessYml.search(/^\s*-\s*enforce:\s*$/m);
  if (start < 0) return undefined;
  const rest = serverlessYml.slice(start).split('\n').slice(1);
  for (const line of rest) {
    if (/^\s*-\s*\w+:\s*$/.test(line)) break; // the next function
    const m = /^\s*timeout:\s*(\d+)\s*$/.exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export interface Figure {
  /** Stable identifier for the JSON output. */
  id: string;
  name: string;
  /** What was measured, e.g. "ms" or "B". */
  unit: string;
  ours: Spread;
  /** The floor measured (or derived from the quotas) in the same run; undefined when the figure has none. */
  floor?: Spread | undefined;
  /** ours / floor per repetition. */
  ratio?: Spread | undefined;
  goal: string;
  /** undefined: a reference line, no goal of ours. */
  met: boolean | undefined;
  note?: string;
  /** Raw samples and extra counts, for the JSON output. */
  details?: Record<string, unknown>;
}

const fmt = (n: number) =>
  Math.abs(n) >= 1000
    ? Math.round(n).toLocaleString('en-US')
    : Math.abs(n) >= 100
      ? n.toFixed(0)
      : n.toFixed(2);

/** "median unit [min–max]", or just "median unit" for one sample. */
export function cell(s: Spread | undefined, unit: string): string {
  if (!s) return '—';
  const u = unit ? ` ${unit}` : '';
  return s.n > 1 && s.min !== s.max
    ? `${fmt(s.median)}${u} [${fmt(s.min)}–${fmt(s.max)}]`
    : `${fmt(s.median)}${u}`;
}

/** A count's spread as whole numbers: "29 [28–30]", or "4" when every sample is the same. */
export function countCell(s: Spread): string {
  const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
  return s.min === s.max ? n(s.median) : `${n(s.median)} [${n(s.min)}–${n(s.max)}]`;
}

/** The figures as a Markdown table (also readable in a terminal). */
export function table(figures: Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    cell(f.ours, f.unit),
    cell(f.floor, f.unit),
    f.ratio ? `${cell(f.ratio, '')}×` : '—',
    f.goal,
    f.met === undefined ? '—' : f.met ? 'yes' : 'NO',
    f.note ?? '',
  ]);
  const head = ['figure', 'ours: median [min–max]', 'floor', 'ratio', 'goal', 'met?', 'notes'];
  const line = (r: string[]) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export const SECTIONS = [
  'size',
  'cold',
  'calls',
  'burst',
  'sweep',
  'propagation',
  'deployed',
  'shared',
] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchArgs {
  /** Paired cold-start repetitions (ours and the baseline, interleaved). */
  reps: number;
  /** Repetitions of the burst and of the sweep (and its reference loop). */
  runs: number;
  /** Repetitions of the propagation run (2 s each: cheap, and its lateness is spread by the jitter). */
  propagationRuns: number;
  /** Repetitions of the deployed-key run (a custom resource Create, then the first event in a new container). */
  deployRuns: number;
  burst: number;
  sweepGroups: number;
  /** Also time the sequential retry-on-throttle loop next to the sweep. */
  reference: boolean;
  json?: string;
  only?: Section[];
  help: boolean;
}

export const USAGE = `npm run bench -- [options]

Measures logs-kms-guard against floors measured in the same run (a bare-SDK bundle, the AWS quotas,
the propagation delay) and prints a table; the ratios, not the absolute times, are the figures.
Everything runs offline against the bundled emulator; quotas and delays are time-scaled.

  --reps N           cold-start rounds: ours and the baselines interleaved (default 41)
  --runs N           repetitions of the burst and of the sweep (default 5)
  --prop-runs N      repetitions of the propagation run (default 11)
  --deploy-runs N    repetitions of the deployed-key run (default 11)
  --burst N          events in the burst (default 1000; also the shared-quota section's burst)
  --sweep-groups N   log groups in the sweep (default 10000; a fifth of them unencrypted; also the
                     shared-quota section's CLI backfill, all unencrypted)
  --no-reference     skip the sequential retry-on-throttle loop timed next to the sweep
  --only a,b         run only these: ${SECTIONS.join(', ')} (burst includes peak memory)
  --json FILE        also write the figures (with every sample) as JSON to FILE
  --quick            --reps 5 --runs 1 --prop-runs 3 --deploy-runs 3 --burst 200 --sweep-groups 2000
                     (about 30 s)
  -h, --help         this text`;

export const DEFAULT_ARGS: BenchArgs = {
  reps: 41,
  runs: 5,
  propagationRuns: 11,
  deployRuns: 11,
  burst: 1000,
  sweepGroups: 10_000,
  reference: true,
  help: false,
};

/** A whole-number option's value, at least `min`; throws with a message naming the option. */
export function wholeNumber(flag: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < min)
    throw new Error(`${flag} needs a whole number ≥ ${min}, got ${value ?? 'nothing'}`);
  return n;
}

/** Parses the command line; throws with a message naming the option on a bad one. */
export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { ...DEFAULT_ARGS };
  const count = wholeNumber;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') args.help = true;
    else if (a === '--quick')
      Object.assign(args, {
        reps: 5,
        runs: 1,
        propagationRuns: 3,
        deployRuns: 3,
        burst: 200,
        sweepGroups: 2_000,
      });
    else if (a === '--reps') args.reps = count(a, argv[++i], 1);
    else if (a === '--runs') args.runs = count(a, argv[++i], 1);
    else if (a === '--prop-runs') args.propagationRuns = count(a, argv[++i], 1);
    else if (a === '--deploy-runs') args.deployRuns = count(a, argv[++i], 1);
    else if (a === '--burst') args.burst = count(a, argv[++i], 10);
    else if (a === '--sweep-groups') args.sweepGroups = count(a, argv[++i], 100);
    else if (a === '--no-reference') args.reference = false;
    else if (a === '--json') {
      const file = argv[++i];
      if (!file || file.startsWith('-')) throw new Error('--json needs a file name');
      args.json = file;
    } else if (a === '--only') {
      const only = (argv[++i] ?? '').split(',').filter(Boolean);
      const bad = only.filter((o) => !(SECTIONS as readonly string[]).includes(o));
      if (only.length === 0 || bad.length > 0)
        throw new Error(
          `--only takes some of ${SECTIONS.join(', ')}${bad.length ? `, not ${bad.join(', ')}` : ''}`,
        );
      args.only = only as Section[];
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  return args;
}
