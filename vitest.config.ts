import { defineConfig } from 'vitest/config';

export default defineConfig({
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
