// The esbuild settings of every bundle: the product's (scripts/build.mjs) and the benchmark's bare-SDK
// baseline (scripts/bench.ts) use the same ones, so their sizes and start-up times compare like for like.

/** esbuild options for one self-contained ESM bundle. */
export function bundleOptions({ entry, outfile, shebang = false }) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    // Several SDK dependencies are CommonJS; in an ESM bundle they need a real `require`.
    banner: {
      js: `${shebang ? '#!/usr/bin/env node\n' : ''}import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);`,
    },
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  };
}
