/**
 * The org section's options (scripts/bench/sections/org.ts): their defaults, their help text and the parser that
 * takes them out of the bench's arguments before the rest is parsed (scripts/bench/args.ts).
 */
import { join, resolve } from 'node:path';
import { sectionRuns, takeOnly, wholeNumber } from '../args.ts';
import { root } from '../rig.ts';

/** The org section's settings. */
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

/** The full run: 20 accounts × 2 regions × 500 groups, 20 % unencrypted, real quotas (T = 1), 3 runs. */
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

/** The org options' lines of `npm run bench -- --help`. */
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
    } else if (a === '--only' && argv[i + 1] !== undefined) only = takeOnly(argv[++i] as string, 'org', rest);
    else {
      if (a === '--quick') {
        if (!set.has('--org-groups')) org.groups = 100;
        if (!set.has('--org-runs')) org.runs = 1;
      }
      rest.push(a);
    }
  }
  if (org.accounts > 99) throw new Error('--org-accounts: at most 99');
  return { argv: rest, org, ...sectionRuns(only, 'org') };
}
