/**
 * The output details of issue 20, item 6, through the built bin (dist/cli.mjs as a child process, as a user
 * runs it) against the account emulator: the CSV formula prefix, the `--out` file's mode and its refusal to
 * overwrite, the table's width, and doctor's message for a service the endpoint does not serve.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { credentials, REGION, startWorld, type World } from '../../local/world.ts';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'lkg-dist-details-'));
let world: World;

/** Runs dist/cli.mjs without blocking this process (the emulator answers from here). */
function cli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(root, 'dist/cli.mjs'), ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        AWS_REGION: REGION,
        AWS_ENDPOINT_URL: world.emulator.endpoint,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_CONFIG_FILE: join(dir, 'none'),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/cli.mjs')))
    spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
  world = await startWorld();
  await world.createGuardKey({
    policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: world.account })),
  });
  world.emulator.state.putLogGroup(REGION, '-dash-first');
  world.emulator.state.putLogGroup(REGION, `/aws/lambda/${'x'.repeat(120)}-end`);
}, 120_000);
afterAll(async () => {
  await world?.stop();
});

describe('dist/cli.mjs: output details', () => {
  it('audit --format csv --out: 0600, the formula prefix, refused the second time unless --force', async () => {
    const out = join(dir, 'groups.csv');
    const first = await cli(['audit', '--format', 'csv', '--out', out, '-q']);
    expect(first.code).toBe(1);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toContain(`,"'-dash-first",`);
    const again = await cli(['audit', '--format', 'csv', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      `error: --out ${out}: the file exists; pass --force to overwrite it, or name another file\n`,
    );
    expect((await cli(['audit', '--format', 'csv', '--out', out, '--force', '-q'])).code).toBe(1);
  }, 60_000);

  it('the table piped: 100 columns, the long name cut in the middle', async () => {
    const r = await cli(['audit', '-q']);
    for (const line of r.stdout.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    expect(r.stdout).toMatch(/\/aws\/lambda\/x+…x+-end/);
  }, 60_000);

  it('doctor names what the endpoint does not serve, never the SDK parse error', async () => {
    const r = await cli(['doctor']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('the service did not answer sts:GetCallerIdentity at');
    expect(r.stdout).toContain('does not serve cloudtrail:DescribeTrails');
    expect(r.stdout).not.toMatch(/XML parse error|\$response/);
    expect(r.stdout).toMatch(/^info {2}us-east-1 {2}query results:/m);
  }, 60_000);
});
