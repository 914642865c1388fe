import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'vitest';

/**
 * Compares `actual` with a checked-in golden file, exactly. A missing golden always fails the run;
 * on a developer machine it is also written (review and commit it); UPDATE_GOLDEN=1 rewrites, never
 * under CI.
 */
export function expectGolden(path: string, actual: string): void {
  const missing = !existsSync(path);
  if (process.env.CI && missing) throw new Error(`golden file ${path} is missing; run the tests locally and commit it`);
  if (!process.env.CI && (missing || process.env.UPDATE_GOLDEN === '1')) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  if (missing) throw new Error(`golden file ${path} was missing (written now: review it, commit it, and rerun)`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}
