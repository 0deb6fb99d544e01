// The reliability suite alone (`npm run test:reliability`), with its longer timeouts; `npm test` runs it too, at CI
// size. RELIABILITY_FULL=1 for the full size.
import { defineConfig, mergeConfig } from 'vitest/config';
import { DEFINE } from './scripts/esbuild-options.mjs';
import base from './vitest.config.ts';

const config = mergeConfig(
  base,
  defineConfig({
    // Also in the base config; restated so this suite's sources see the constant whatever the base becomes.
    define: DEFINE,
    test: {
      testTimeout: 15 * 60_000,
      hookTimeout: 5 * 60_000,
    },
  }),
);
// Set, not merged: mergeConfig would append to the base's include and run every test.
config.test = { ...config.test, include: ['test/reliability/**/*.test.ts'] };
export default config;
