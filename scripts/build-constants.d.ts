// Defined at build time from package.json's version: by esbuild in every bundle (scripts/esbuild-options.mjs)
// and by vitest for tests that import the sources (vitest.config.ts).
declare const __LOGS_KMS_GUARD_VERSION__: string;
