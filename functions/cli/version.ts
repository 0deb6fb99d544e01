/** The package version, defined at build time from package.json (scripts/esbuild-options.mjs, vitest configs). */
export const VERSION: string = __LOGS_KMS_GUARD_VERSION__;
