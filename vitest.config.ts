// The test run `npm test` makes: every test/**/*.test.ts, bundles built first, the summary reporter.
import { defineConfig } from 'vitest/config';
import { DEFINE } from './scripts/esbuild-options.mjs';

export default defineConfig({
  // The build-time constants the bundles get from esbuild (__LOGS_KMS_GUARD_VERSION__), for tests that import
  // the sources.
  define: DEFINE,
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    pool: 'forks',
    // Builds dist/ when it is missing (test/e2e runs the deployable bundle).
    globalSetup: ['./test/e2e/global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    // The built bundles (dist/*.mjs, loaded by LocalPipeline as enforce containers) run natively, as in
    // Lambda: not transformed by Vite, which costs ~350 ms per container instead of ~30 ms.
    server: { deps: { external: [/\/dist\/[^/]+\.mjs/] } },
  },
});
