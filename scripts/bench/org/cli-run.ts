/**
 * The org section's CLI run: `node dist/cli.mjs enforce --org --regions … --yes --json` through
 * scripts/bench/org-child.ts (its clock scaled by T before the bundle is imported), against the organization
 * emulator, with static fake credentials and an isolated HOME; its report, its stderr tail and its BENCH line.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NODE, root } from '../rig.ts';
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
