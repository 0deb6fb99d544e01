// The esbuild settings of every bundle: the product's (scripts/build.mjs) and the benchmark's bare-SDK
// baseline (scripts/bench.ts) use the same ones, so their sizes and start-up times compare like for like.
import { readFileSync } from 'node:fs';

/** The package version, defined as the global `__LOGS_KMS_GUARD_VERSION__` in every bundle (scripts/build-constants.d.ts). */
export const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** `define` entries every build (esbuild, vitest) gives the sources. */
export const DEFINE = { __LOGS_KMS_GUARD_VERSION__: JSON.stringify(VERSION) };

/**
 * esbuild options for one self-contained ESM bundle.
 * `target`: the Lambda bundles run on nodejs22.x (the default); the CLI is installed by users and runs on
 * Node 20 too (`engines` in package.json), so it is built for node20.
 * `sourcemap`: a linked .map beside the bundle (the Lambda zips carry it; NODE_OPTIONS=--enable-source-maps).
 * `silenceSdkNodeWarning`: in the CLI only, keep the AWS SDK's Node 20 deprecation warning off stderr (the SDK in the
 * bundle is fixed at build time and supports Node 20; set AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false
 * to see it).
 */
export function bundleOptions({
  entry,
  outfile,
  shebang = false,
  target = 'node22',
  sourcemap = true,
  silenceSdkNodeWarning = false,
}) {
  const prelude = [
    "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    silenceSdkNodeWarning ? 'process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";' : '',
  ].join('');
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target,
    minify: true,
    sourcemap,
    sourcesContent: false,
    legalComments: 'none',
    define: DEFINE,
    // Several SDK dependencies are CommonJS; in an ESM bundle they need a real `require`.
    banner: {
      js: `${shebang ? '#!/usr/bin/env node\n' : ''}${prelude}`,
    },
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  };
}
