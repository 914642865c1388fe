import { describe, expect, it } from 'vitest';
import { actual, load } from './helpers.ts';
import { BAD_KEYS } from './bad-keys.cases.ts';
import { BAD_VALUES } from './bad-values.cases.ts';
import { BAD_SEMANTICS } from './bad-semantics.cases.ts';

const TABLES = { 'keys and types': BAD_KEYS, 'values and files': BAD_VALUES, 'semantic checks': BAD_SEMANTICS };

describe('bad configs: every diagnostic, with its exact line:column', () => {
  it('the tables hold at least 45 cases with unique names', () => {
    const names = Object.values(TABLES)
      .flat()
      .map((c) => c.name);
    expect(names.length).toBeGreaterThanOrEqual(45);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const [table, cases] of Object.entries(TABLES)) {
    describe(table, () => {
      it.each(cases)('$name', (c) => {
        const result = load(c.given, { env: c.env, envSeverity: c.envSeverity, files: c.files });
        expect(actual(result.diagnostics, c.want)).toEqual(c.want);
        if (c.message !== undefined) expect(result.diagnostics[0].message).toBe(c.message);
        // An error, and only an error, rejects the config.
        expect(result.value === undefined).toBe(result.diagnostics.some((d) => d.severity === 'error'));
      });
    });
  }
});
