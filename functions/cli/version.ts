/** The package version, set at build time (scripts/esbuild-options.mjs); `dev` when run from sources. */
export const VERSION = 'dev';
