import { configDefaults, defineConfig } from 'vitest/config';

/** Tests that `npm test` leaves out, each with its own script. */
export const OWN_SCRIPT = [
  // The bench harness smoke (~90 s): `npm run test:bench` (vitest.bench.config.ts); .ci/run runs it.
  'test/bench/**',
];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...OWN_SCRIPT],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more workers only adds contention between e2e suites that spawn servers.
    maxWorkers: 2,
  },
});
