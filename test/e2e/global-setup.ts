/**
 * Builds dist/ once, before any test file runs, when it is missing (test/e2e imports dist/enforce.mjs;
 * `npm test` builds first, so this matters only for a bare `npx vitest run`). Once, not per file: the build
 * empties dist/ first, which would break files already running from it. A bundle older than its sources is
 * not rebuilt (other processes may be reading it) but named, so a stale result is not mistaken for a fresh one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageTemplateFile } from '../../local/roles.ts';

const root = join(import.meta.dirname, '..', '..');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  const bundle = join(root, 'dist', 'enforce.mjs');
  if (!existsSync(bundle)) {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
  } else if (statSync(bundle).mtimeMs < newestSource(join(root, 'functions'))) {
    console.warn(
      '[test/e2e] dist/enforce.mjs is older than functions/: run `npm run build` to test the current code',
    );
  }
  packageOnce();
}

/**
 * Packages the template once for the whole run (osls, offline): the emulator authorizes each bundle with the
 * roles it defines (local/roles.ts reads LOGS_KMS_GUARD_TEMPLATE, which the test workers inherit). After the
 * build check, so the zips are of the current bundles.
 */
function packageOnce(): void {
  if (process.env.LOGS_KMS_GUARD_TEMPLATE && existsSync(process.env.LOGS_KMS_GUARD_TEMPLATE)) return;
  process.env.LOGS_KMS_GUARD_TEMPLATE = packageTemplateFile();
}
