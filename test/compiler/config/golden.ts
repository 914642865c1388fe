import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'vitest';

/**
 * Compares `actual` with a checked-in golden file, exactly. A missing golden is written once on a
 * developer machine (review and commit it) and fails the run in CI; UPDATE_GOLDEN=1 rewrites.
 */
export function expectGolden(path: string, actual: string): void {
  const missing = !existsSync(path);
  if (process.env.CI && missing) throw new Error(`golden file ${path} is missing; run the tests locally and commit it`);
  if (!process.env.CI && (missing || process.env.UPDATE_GOLDEN === '1')) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}
