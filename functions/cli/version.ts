/** The package version, defined at build time from package.json (scripts/esbuild-options.mjs, vitest configs). */
// `typeof` of an undeclared global is safe: sources run by plain Node (the bench) get `dev`.
export const VERSION: string =
  typeof __LOGS_KMS_GUARD_VERSION__ === 'string' ? __LOGS_KMS_GUARD_VERSION__ : 'dev';
