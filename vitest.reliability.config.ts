import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

// The reliability suite alone; `npm test` runs it too, at CI size. RELIABILITY_FULL=1 for the full size.
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ['test/reliability/**/*.test.ts'],
      testTimeout: 15 * 60_000,
      hookTimeout: 5 * 60_000,
    },
  }),
);
