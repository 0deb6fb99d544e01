/**
 * The benchmark's command line: its sections, its options with their defaults, and the parser that turns argv
 * into them (the scale and org sections take their own options out first: scripts/bench/scale/args.ts,
 * scripts/bench/org/args.ts). Apart from the measuring, so test/scripts/bench/args.test.ts checks it without running it.
 */
import { describeRule, parseNumber } from '../../functions/core/parse.ts';

/** The sections `--only` can choose, in the order they run (scale and org are taken out first). */
export const SECTIONS = [
  'size',
  'cold',
  'calls',
  'burst',
  'sweep',
  'propagation',
  'deployed',
  'shared',
  'neighbour',
  'cost',
] as const;
/** One of SECTIONS. */
export type Section = (typeof SECTIONS)[number];

/** The bench's own settings from the command line. */
export interface BenchArgs {
  /** Paired cold-start repetitions (ours and the baseline, interleaved). */
  reps: number;
  /** Repetitions of the burst and of the sweep (and its reference loop). */
  runs: number;
  /** Repetitions of the propagation run (2 s each: cheap, and its lateness is spread by the jitter). */
  propagationRuns: number;
  /** Repetitions of the deployed-key run (a custom resource Create, then the first event in a new container). */
  deployRuns: number;
  /** Repetitions of the neighbour section's two cases (about 110 s each at the real quota). */
  neighbourRuns: number;
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
  --neighbour-runs N repetitions of the non-adapting-neighbour cases (default 2; about 110 s each)
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
  neighbourRuns: 2,
  burst: 1000,
  sweepGroups: 10_000,
  reference: true,
  help: false,
};

/**
 * A whole-number option's value, at least `min`, by the one number rule of functions/core/parse.ts; throws
 * with a message naming the option, also when the value is missing.
 */
export function wholeNumber(flag: string, value: string | undefined, min: number): number {
  const rule = { integer: true, min };
  const n = parseNumber(value, flag, rule);
  if (n === undefined) throw new RangeError(`${flag} must be ${describeRule(rule)}, got nothing`);
  return n;
}

/**
 * A section with options of its own (org, scale) reads `--only` first: its own name comes out, the rest goes on
 * to `rest` for parseArgs. Returns the whole list.
 */
export function takeOnly(value: string, section: string, rest: string[]): string[] {
  const only = value.split(',').filter(Boolean);
  const others = only.filter((s) => s !== section);
  if (others.length > 0) rest.push('--only', others.join(','));
  return only;
}

/** Whether `section` runs, and whether any other section does, by the `--only` list (none: all run). */
export function sectionRuns(only: string[] | undefined, section: string): { run: boolean; others: boolean } {
  return { run: !only || only.includes(section), others: !only || only.some((s) => s !== section) };
}

/** Parses the command line; throws with a message naming the option on a bad one. */
export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { ...DEFAULT_ARGS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') args.help = true;
    else if (a === '--quick')
      Object.assign(args, {
        reps: 5,
        runs: 1,
        propagationRuns: 3,
        deployRuns: 3,
        neighbourRuns: 1,
        burst: 200,
        sweepGroups: 2_000,
      });
    else if (a === '--reps') args.reps = wholeNumber(a, argv[++i], 1);
    else if (a === '--runs') args.runs = wholeNumber(a, argv[++i], 1);
    else if (a === '--prop-runs') args.propagationRuns = wholeNumber(a, argv[++i], 1);
    else if (a === '--deploy-runs') args.deployRuns = wholeNumber(a, argv[++i], 1);
    else if (a === '--neighbour-runs') args.neighbourRuns = wholeNumber(a, argv[++i], 1);
    else if (a === '--burst') args.burst = wholeNumber(a, argv[++i], 10);
    else if (a === '--sweep-groups') args.sweepGroups = wholeNumber(a, argv[++i], 100);
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
