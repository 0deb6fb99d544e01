// Bundles each Lambda function and the CLI with esbuild into dist/: one self-contained ESM file each,
// loadable with no node_modules beside it (the AWS SDK is bundled, not taken from the runtime, so the
// deployed code is exactly the code that was tested).
//
// The Lambda bundles target node22 (their runtime is nodejs22.x) and carry a source map (zipped with them by
// scripts/package.mjs). The CLI is what users install from the package, on Node 20 or 22: it targets node20
// and has no source map (1 MB without sources to map to, larger than the bundle; its errors are messages).
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { build } from 'esbuild';
import { bundleOptions } from './esbuild-options.mjs';

const lambda = { target: 'node22', sourcemap: true };
const cli = { target: 'node20', sourcemap: false, shebang: true, silenceSdkNodeWarning: true };
const entries = [
  { in: 'functions/enforce.ts', out: 'enforce', options: lambda },
  { in: 'functions/sweep.ts', out: 'sweep', options: lambda },
  { in: 'functions/cli.ts', out: 'cli', options: cli },
].filter((e) => existsSync(e.in));

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });

const started = Date.now();
for (const entry of entries) {
  await build(bundleOptions({ entry: entry.in, outfile: `dist/${entry.out}.mjs`, ...entry.options }));
  const size = statSync(`dist/${entry.out}.mjs`).size;
  console.log(`dist/${entry.out}.mjs  ${(size / 1024).toFixed(1)} KiB  (${entry.options.target})`);
}
console.log(`built ${entries.length} bundle(s) in ${Date.now() - started} ms`);
