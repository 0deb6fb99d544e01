/**
 * The scale section's options (scripts/bench/sections/scale.ts): their defaults, their help text and the parser
 * that takes them out of the bench's arguments before the rest is parsed (scripts/bench/args.ts).
 */
import { sectionRuns, takeOnly, wholeNumber } from '../args.ts';

/** The scale section's settings. */
export interface ScaleArgs {
  groups: number;
  /** One group in `every` is unencrypted. */
  every: number;
  timeScale: number;
  /** Also the run with a failing invocation. */
  failure: boolean;
  /** Also the CLI audit. */
  audit: boolean;
}

/** The full run: the account maximum of log groups, 0.5 % unencrypted, ×40. */
export const SCALE_DEFAULTS: ScaleArgs = {
  groups: 1_000_000,
  every: 200,
  timeScale: 40,
  failure: true,
  audit: true,
};

/** The scale options' lines of `npm run bench -- --help`. */
export const SCALE_USAGE = `
Scale section (one region of many log groups; --only scale runs just it):
  --scale-groups N       log groups in the region (default 1000000; --quick: 20000)
  --scale-every N        one group in N unencrypted (default 200: 0.5 %)
  --scale-time-scale T   time scale of quotas and clocks (default 40: the 1M floor is 2,000 s / 40 = 50 s; pages are
                         sequential, so a page's real round trip × T is its AWS latency: ≤ 2.5 ms real here)
  --scale-no-failure     skip the run with a failing invocation
  --scale-no-audit       skip the CLI audit`;

/**
 * Takes the scale section's options out of the bench's arguments (and `scale` out of `--only`), so the rest
 * goes to parseArgs unchanged. `run`: whether the section runs; `others`: whether any other section does.
 */
export function scaleArgs(argv: string[]): {
  argv: string[];
  scale: ScaleArgs;
  run: boolean;
  others: boolean;
} {
  const scale = { ...SCALE_DEFAULTS };
  const rest: string[] = [];
  let only: string[] | undefined;
  let groupsSet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--scale-groups') {
      scale.groups = wholeNumber(a, argv[++i], 100);
      groupsSet = true;
    } else if (a === '--scale-every') scale.every = wholeNumber(a, argv[++i], 1);
    else if (a === '--scale-time-scale') scale.timeScale = wholeNumber(a, argv[++i], 1);
    else if (a === '--scale-no-failure') scale.failure = false;
    else if (a === '--scale-no-audit') scale.audit = false;
    else if (a === '--only' && argv[i + 1] !== undefined) only = takeOnly(argv[++i] as string, 'scale', rest);
    else {
      if (a === '--quick' && !groupsSet) scale.groups = 20_000;
      rest.push(a);
    }
  }
  return { argv: rest, scale, ...sectionRuns(only, 'scale') };
}
