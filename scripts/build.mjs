// Bundles each Lambda function and the CLI with esbuild into dist/: one self-contained ESM file each,
// loadable with no node_modules beside it (the AWS SDK is bundled, not taken from the runtime, so the
// deployed code is exactly the code that was tested).
//
// The Lambda bundles target node22 (their runtime is nodejs22.x) and carry a source map (zipped with them by
// scripts/package.mjs). The CLI is what users install from the package, on Node 20 or 22: it targets node20
// and has no source map (1 MB without sources to map to, larger than the bundle; its errors are messages).
//
// What ships with each bundle, from esbuild's metafile of exactly that build: dist/<name>.cdx.json, its CycloneDX
// SBOM (@cyclonedx/cyclonedx-esbuild, completed with hashes by scripts/sbom.mjs), and
// dist/<name>.THIRD-PARTY-NOTICES.txt (scripts/notices.mjs). The metafile itself is kept as dist/<name>.meta.json
// (not shipped) for scripts/check-supply-chain.ts, which CI runs on this output.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cyclonedxEsbuildPlugin } from '@cyclonedx/cyclonedx-esbuild';
import { build } from 'esbuild';
import { bundleOptions, VERSION } from './esbuild-options.mjs';
import { noticesText } from './notices.mjs';
import { completeSbom } from './sbom.mjs';

const lambda = { target: 'node22', sourcemap: true };
const cli = { target: 'node20', sourcemap: false, shebang: true, silenceSdkNodeWarning: true };
const entries = [
  { in: 'functions/enforce.ts', out: 'enforce', options: lambda },
  { in: 'functions/changes.ts', out: 'changes', options: lambda },
  { in: 'functions/sweep.ts', out: 'sweep', options: lambda },
  { in: 'functions/findings.ts', out: 'findings', options: lambda },
  { in: 'functions/cli.ts', out: 'cli', options: cli },
].filter((e) => existsSync(e.in));

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });

const started = Date.now();
const product = `${JSON.parse(readFileSync('package.json', 'utf8')).name} ${VERSION}`;
for (const entry of entries) {
  const bundle = `dist/${entry.out}.mjs`;
  const sbom = cyclonedxEsbuildPlugin({
    outputFile: `${entry.out}.cdx.json`, // beside the bundle
    specVersion: '1.6',
    outputReproducible: true, // no timestamp or serial number: the same build gives the same zip bytes
    validate: true,
    logLevel: 'silent', // its "writing BOM" lines; warnings and errors still print (and a failure throws)
  });
  const options = bundleOptions({ entry: entry.in, outfile: bundle, ...entry.options });
  const { metafile } = await build({ ...options, metafile: true, plugins: [sbom] });
  writeFileSync(`dist/${entry.out}.meta.json`, JSON.stringify(metafile));
  const bom = completeSbom({
    sbomPath: `dist/${entry.out}.cdx.json`,
    bundlePath: bundle,
    lockPath: 'package-lock.json',
  });
  writeFileSync(
    `dist/${entry.out}.THIRD-PARTY-NOTICES.txt`,
    noticesText({ bundle, metafile, root: '.', product }),
  );
  const size = statSync(bundle).size;
  const count = bom.components.length;
  console.log(`${bundle}  ${(size / 1024).toFixed(1)} KiB  (${entry.options.target}, ${count} packages)`);
}
console.log(`built ${entries.length} bundle(s) in ${Date.now() - started} ms`);
