import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// `npm run test:bench`: only the bench harness smoke, which `npm test` leaves out (OWN_SCRIPT in
// vitest.config.ts). The same settings otherwise; include and exclude are replaced, not merged.
export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/bench/**/*.test.ts'], exclude: configDefaults.exclude },
});
