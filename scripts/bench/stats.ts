/** Pure helpers of the benchmark: statistics, the table, the arguments. */

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

export interface Figure {
  name: string;
  /** What was measured, e.g. "ms" or "bytes". */
  unit: string;
  ours: Spread;
  /** The floor measured in the same run (undefined when the figure has none). */
  floor?: Spread | undefined;
  /** ours / floor per repetition, when paired; else median over median. */
  ratio?: Spread | undefined;
  goal: string;
  met: boolean;
  note?: string;
}

const fmt = (n: number) =>
  Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : n >= 100 ? n.toFixed(0) : n.toFixed(2);

function cell(s: Spread | undefined, unit: string): string {
  if (!s) return '—';
  const u = unit ? ` ${unit}` : '';
  return s.n > 1 ? `${fmt(s.median)}${u} [${fmt(s.min)}–${fmt(s.max)}]` : `${fmt(s.median)}${u}`;
}

/** The figures as a Markdown table (also readable in a terminal). */
export function table(figures: Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    cell(f.ours, f.unit),
    cell(f.floor, f.unit),
    f.ratio ? `${cell(f.ratio, '')}×` : '—',
    f.goal,
    f.met ? 'yes' : 'NO',
    f.note ?? '',
  ]);
  const head = ['figure', 'ours: median [min–max]', 'floor', 'ratio', 'goal', 'met', 'notes'];
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface BenchArgs {
  reps: number;
  burst: number;
  sweepGroups: number;
  json?: string;
  only?: string[];
  help: boolean;
}

export const USAGE = `npm run bench -- [options]

Measures logs-kms-guard against floors measured in the same run (bare-SDK bundle, quotas, the
propagation delay) and prints a table; ratios, not absolute times, are the figures.

  --reps N           repetitions of the cold start (default 21) and of the propagation run (default 3)
  --burst N          events in the burst (default 1000)
  --sweep-groups N   log groups in the sweep (default 10000; a fifth of them unencrypted)
  --only a,b         run only these: size, cold, calls, burst, sweep, propagation
  --json FILE        also write the figures as JSON to FILE
  --quick            --reps 3 --burst 200 --sweep-groups 2000
  -h, --help         this text`;

/** Parses the command line; throws with a clear message on a bad one. */
export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { reps: 21, burst: 1000, sweepGroups: 10_000, help: false };
  const count = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`${flag} needs a whole number ≥ ${min}, got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') args.help = true;
    else if (a === '--quick') Object.assign(args, { reps: 3, burst: 200, sweepGroups: 2_000 });
    else if (a === '--reps') args.reps = count(a, argv[++i], 1);
    else if (a === '--burst') args.burst = count(a, argv[++i], 10);
    else if (a === '--sweep-groups') args.sweepGroups = count(a, argv[++i], 100);
    else if (a === '--json') {
      const file = argv[++i];
      if (!file || file.startsWith('-')) throw new Error('--json needs a file name');
      args.json = file;
    } else if (a === '--only') {
      const known = ['size', 'cold', 'calls', 'burst', 'sweep', 'propagation'];
      const only = (argv[++i] ?? '').split(',').filter(Boolean);
      const bad = only.filter((o) => !known.includes(o));
      if (only.length === 0 || bad.length > 0) throw new Error(`--only takes some of ${known.join(', ')}`);
      args.only = only;
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  return args;
}
