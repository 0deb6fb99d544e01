/**
 * dist/enforce.mjs, the exact file that gets deployed: self-contained (run in a fresh process, in a folder
 * with no node_modules beside it, it loads and handles an event) and shipped with a source map.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
let dir: string;

describe('dist/enforce.mjs (the deployable bundle)', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/enforce.mjs'))) {
      execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
    }
    dir = mkdtempSync(join(tmpdir(), 'lkg-bundle-'));
    copyFileSync(join(root, 'dist/enforce.mjs'), join(dir, 'enforce.mjs'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is self-contained: loads with no node_modules and handles an event', () => {
    // Prepare
    const event = readFileSync(join(root, 'test/events/create-log-group-failed-already-exists.json'), 'utf8');
    const script = `
      const { handler } = await import('./enforce.mjs');
      const ctx = { invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', getRemainingTimeInMillis: () => 30000 };
      const result = await handler(${event}, ctx);
      process.stderr.write('RESULT ' + JSON.stringify(result) + '\\n');`;
    // Act
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' },
    });
    // Assess
    expect(run.status, run.stderr).toBe(0);
    const line = run.stderr.split('\n').find((l) => l.startsWith('RESULT '));
    expect(JSON.parse(line?.slice(7) ?? '{}')).toMatchObject({ outcome: 'ignored-failed-call' });
    expect(run.stdout).toContain('"IgnoredFailedCall":1');
  });

  it('ships a source map', () => {
    expect(existsSync(join(root, 'dist/enforce.mjs.map'))).toBe(true);
    expect(readFileSync(join(root, 'dist/enforce.mjs'), 'utf8')).toContain(
      'sourceMappingURL=enforce.mjs.map',
    );
  });
});
