// Bundles each Lambda function and the CLI with esbuild into dist/: one self-contained ESM file each,
// loadable with no node_modules beside it (the AWS SDK is bundled, not taken from the runtime, so the
// deployed code is exactly the code that was tested).
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { build } from 'esbuild';
import { bundleOptions } from './esbuild-options.mjs';

const entries = [
  { in: 'functions/enforce.ts', out: 'enforce' },
  { in: 'functions/sweep.ts', out: 'sweep' },
  { in: 'functions/cli.ts', out: 'cli' },
].filter((e) => existsSync(e.in));

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });

const started = Date.now();
for (const entry of entries) {
  await build(
    bundleOptions({ entry: entry.in, outfile: `dist/${entry.out}.mjs`, shebang: entry.out === 'cli' }),
  );
  const size = statSync(`dist/${entry.out}.mjs`).size;
  console.log(`dist/${entry.out}.mjs  ${(size / 1024).toFixed(1)} KiB`);
}
console.log(`built ${entries.length} bundle(s) in ${Date.now() - started} ms`);
