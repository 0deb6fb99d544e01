/**
 * Pure helpers of the benchmark: statistics over samples, the floors derived from the quotas, the figures'
 * table. No I/O, no clocks, so test/scripts/bench/stats.test.ts checks them without running anything.
 */

/** Median, min and max of some samples, and how many. */
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

/** One line of the report: what was measured, against which floor and goal, and whether it was met. */
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

/** The sum of `f` over the rows (the runs' throttled calls, their DLQ messages...). */
export function sumOf<T>(rows: readonly T[], f: (row: T) => number): number {
  return rows.map(f).reduce((a, b) => a + b, 0);
}
