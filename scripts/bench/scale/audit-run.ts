/**
 * The scale section's CLI run: `logs-kms-guard audit --region … --format csv --out FILE` (dist/cli.mjs, through
 * scripts/bench/scale-child.ts `cli` for the scaled clock and the memory figures) against the seeded region, in
 * a child process with an isolated HOME; its time, its memory, the listing and the calls it made.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, REGION } from '../../../local/world.ts';
import { byOperation, throttledOf } from '../api-calls.ts';
import { root, runChild } from '../rig.ts';
import type { ScaleArgs } from './args.ts';
import type { Region } from './region.ts';

/** What scripts/bench/scale-child.ts `cli` reports on its BENCH line. */
interface AuditOut {
  code: number;
  scaledMs: number;
  realMs: number;
  maxRssMb: number;
  sampledPeakRssMb: number;
  peakHeapMb: number;
}

/** `node dist/cli.mjs audit …` (through scale-child.ts `cli`, for the clock and the memory) against the region. */
export async function auditRun(region: Region, s: ScaleArgs, tmp: string) {
  const { emulator } = region;
  const out = join(tmp, 'scale-audit.csv');
  const home = join(tmp, 'scale-home');
  mkdirSync(home, { recursive: true });
  const from = emulator.calls.length;
  const {
    out: result,
    wallMs,
    code,
  } = await runChild<AuditOut>(
    [
      join(root, 'scripts/bench/scale-child.ts'),
      'cli',
      'audit',
      '--region',
      REGION,
      '--format',
      'csv',
      '--out',
      out,
      '--force',
    ],
    {
      HOME: home,
      AWS_ENDPOINT_URL: emulator.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_CONFIG_FILE: join(home, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
      BENCH_TIME_SCALE: String(s.timeScale),
      BENCH_BUNDLE: join(root, 'dist/cli.mjs'),
    },
    // Exit 1: findings (the region's unencrypted groups), as expected.
    { cwd: tmp, exitCodes: [0, 1], name: 'audit' },
  );
  const calls = emulator.calls.slice(from);
  const csvBytes = statSync(out).size;
  // The listing itself, first page to last, on the emulator's (real) clock, × T: AWS time.
  const pageCalls = calls.filter((c) => c.operation === 'DescribeLogGroups');
  const listingMs = ((pageCalls.at(-1)?.at ?? 0) - (pageCalls[0]?.at ?? 0)) * s.timeScale;
  return {
    ...result,
    wallMs,
    code,
    csvBytes,
    listingMs,
    pagesServed: calls.filter((c) => c.operation === 'DescribeLogGroups' && !c.error).length,
    calls: calls.length,
    throttled: throttledOf(calls),
    ops: byOperation(calls),
  };
}
