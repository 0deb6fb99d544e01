/**
 * Ctrl-C against a hanging endpoint (review of issue 20, finding 1): the read-only calls in flight are aborted
 * by the run's signal, so the run stops promptly with exit 130 and says it was interrupted, instead of waiting
 * for the SDK's timeouts × retries and then reporting a failure; while a call hangs the progress says so; and
 * `doctor` gives a check up after a bound instead of minutes of silence. The endpoint is a local TCP server
 * that accepts connections and never answers; the CLI runs in-process with the real SDK clients.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../functions/cli/program.ts';
import { startHangingEndpoint, testIo } from './helpers.ts';

let hanging: Awaited<ReturnType<typeof startHangingEndpoint>>;
let endpoint = '';

beforeAll(async () => {
  hanging = await startHangingEndpoint();
  endpoint = hanging.endpoint;
});

afterAll(async () => {
  await hanging.stop();
  vi.unstubAllEnvs();
});

/** The environment of a run against the hanging endpoint, with dummy credentials (no profile read). */
function hangingEnv(): Record<string, string> {
  const env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_REGION: 'us-east-1',
  };
  // The SDK reads its endpoint and credentials from process.env.
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  return env;
}

describe('Ctrl-C against a hanging endpoint', () => {
  it('audit stops within seconds with exit 130, interrupted and not failed', async () => {
    // Prepare: Ctrl-C 1 s into a run whose every call hangs (SDK request timeout 20 s, 4 attempts).
    const controller = new AbortController();
    const t = testIo({ signal: controller.signal, env: hangingEnv() });
    setTimeout(() => controller.abort(), 1_000);

    // Act
    const started = Date.now();
    const code = await run(['audit', '--region', 'us-east-1'], t.io);

    // Assess: a prompt stop (far below one 20 s request timeout), reported as interrupted.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).toBe(130);
    expect(t.stderr()).toMatch(/interrupted/);
    expect(t.stderr()).not.toMatch(/ETIMEDOUT|cannot reach AWS|failed/);
    // Nothing was listed: the same command runs it again, so no resume command.
    expect(t.stderr()).not.toMatch(/resume-token/);
  }, 30_000);

  it('while a call hangs before anything is listed, the progress says what it waits on every 5 s', async () => {
    // Prepare: no Ctrl-C until 11 s (two 5 s intervals of a call in flight); stderr is a CI log.
    const controller = new AbortController();
    const t = testIo({ signal: controller.signal, env: hangingEnv() });
    setTimeout(() => controller.abort(), 11_000);

    // Act
    const code = await run(['audit', '--region', 'us-east-1'], t.io);

    // Assess: at least one "waiting" line, each naming the region, the call and how long it has waited.
    expect(code).toBe(130);
    const waits = t.stderr().match(/^us-east-1: waiting for AWS \(\w+, \d+ s\)…$/gm) ?? [];
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits.length).toBeLessThanOrEqual(3);
  }, 40_000);

  it('enforce --dry-run also stops within seconds with exit 130', async () => {
    const controller = new AbortController();
    const t = testIo({ signal: controller.signal, env: hangingEnv() });
    setTimeout(() => controller.abort(), 1_000);
    const started = Date.now();
    const code = await run(['enforce', '--dry-run', '--region', 'us-east-1'], t.io);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).toBe(130);
    expect(t.stderr()).toMatch(/interrupted/);
    expect(t.stderr()).not.toMatch(/ETIMEDOUT|cannot reach AWS/);
  }, 30_000);
});

describe('doctor against a hanging endpoint', () => {
  it('gives the first check up after its bound, says AWS did not answer, and ends well within a minute', async () => {
    // Prepare: no Ctrl-C; the bound of a check (25 s) is far below the SDK's 4 attempts × 20 s.
    const t = testIo({ env: hangingEnv() });

    // Act
    const started = Date.now();
    const code = await run(['doctor', '--region', 'us-east-1'], t.io);

    // Assess
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(code).toBe(1);
    expect(t.stdout()).toMatch(/^fail {2}us-east-1 {2}aws: no answer from AWS within 25 s \(\w+\)/m);
    expect(t.stdout()).toMatch(/AWS_ENDPOINT_URL/);
  }, 90_000);

  it('Ctrl-C stops doctor within seconds with exit 130 and says it was interrupted', async () => {
    const controller = new AbortController();
    const t = testIo({ signal: controller.signal, env: hangingEnv() });
    setTimeout(() => controller.abort(), 1_000);
    const started = Date.now();
    const code = await run(['doctor', '--region', 'us-east-1'], t.io);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).toBe(130);
    expect(t.stderr()).toMatch(/^interrupted: 0 check\(s\) done/m);
  }, 30_000);
});
