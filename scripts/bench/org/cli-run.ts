/**
 * The org section's CLI run: `node dist/cli.mjs enforce --org --regions … --yes --json` through
 * scripts/bench/org-child.ts (its clock scaled by T before the bundle is imported), against the organization
 * emulator, with static fake credentials and an isolated HOME; its report, its stderr tail and its BENCH line.
 */
import { join, resolve } from 'node:path';
import { root, runChild } from '../rig.ts';
import type { OrgArgs } from './args.ts';
import { CALLER } from './settings.ts';

/** What scripts/bench/org-child.ts reports on its BENCH line. */
export interface ChildOut {
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

/** Runs the CLI (through org-child.ts) and returns its stdout, stderr tail and BENCH line. */
export async function runCli(endpoint: string, o: OrgArgs, home: string) {
  const argv = ['enforce', '--org', '--regions', o.regions.join(','), '--yes', '--json'];
  if (o.parallel !== undefined) argv.push('--parallel', String(o.parallel));
  // BENCH_ORG_CPU_PROF=DIR: a V8 CPU profile of the CLI process in DIR (for finding where its time goes).
  const profile = process.env.BENCH_ORG_CPU_PROF;
  const run = await runChild<ChildOut>(
    [join(root, 'scripts/bench/org-child.ts'), ...argv],
    {
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
    {
      cwd: home,
      nodeArgs: profile ? ['--cpu-prof', '--cpu-prof-dir', resolve(profile)] : [],
      keepStdout: true,
      exitCodes: 'any',
      name: 'the CLI',
    },
  );
  return { ...run, wallRealMs: run.wallMs };
}
