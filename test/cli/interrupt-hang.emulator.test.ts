/**
 * Ctrl-C to the built dist/cli.mjs (`npm run build` first) as a process, against an endpoint that accepts
 * connections and never answers (review of issue 20, findings 1 and 4): the first Ctrl-C stops it in moments
 * with exit 130 and "interrupted" (read-only calls in flight are aborted, and no socket keeps the process
 * alive); a second Ctrl-C during `audit --json` leaves stdout empty or a valid document that says it was cut
 * short, never half a document.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHangingEndpoint } from './helpers.ts';

const root = join(import.meta.dirname, '../..');
let hanging: Awaited<ReturnType<typeof startHangingEndpoint>>;
let endpoint = '';

beforeAll(async () => {
  hanging = await startHangingEndpoint();
  endpoint = hanging.endpoint;
});

afterAll(async () => {
  await hanging.stop();
});

/** Starts `audit ...args` against the hanging endpoint; Ctrl-C `times` times from 2 s on; its exit and output. */
async function interrupted(args: string[], times: number) {
  const child = spawn(join(root, 'node_modules/.bin/node'), [join(root, 'dist/cli.mjs'), 'audit', ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'us-east-1',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise((r) => setTimeout(r, 2_000));
  const at = Date.now();
  for (let i = 0; i < times; i++) {
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 100));
  }
  const code = await exited;
  return { code, stdout, stderr, seconds: (Date.now() - at) / 1000 };
}

describe('dist/cli.mjs interrupted against a hanging endpoint (a process)', () => {
  it('one Ctrl-C: exits 130 within 10 s (the SDK timeout is 20 s), interrupted, not failed', async () => {
    const r = await interrupted(['--region', 'us-east-1'], 1);
    expect(r.seconds).toBeLessThan(10);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(r.stderr).not.toMatch(/ETIMEDOUT|cannot reach AWS/);
  }, 40_000);

  it('two Ctrl-C with --json: stdout is empty or a whole document marked interrupted', async () => {
    const r = await interrupted(['--region', 'us-east-1', '--json'], 2);
    expect(r.code).toBe(130);
    expect(r.seconds).toBeLessThan(10);
    if (r.stdout.trim() !== '') {
      const doc = JSON.parse(r.stdout);
      expect(doc.interrupted).toBe(true);
    }
  }, 40_000);
});
