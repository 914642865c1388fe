import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');

/** The members of `DiagnosticCode`, read from the source so a new code cannot skip the doc. */
function codesInUnion(): string[] {
  const source = readFileSync(join(ROOT, 'compiler/diagnostics.ts'), 'utf8');
  const union = /export type DiagnosticCode =([\s\S]*?);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/\|\s*'([A-Z_]+)'/g)].map((m) => m[1]);
}

describe('docs/diagnostics.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/diagnostics.md'), 'utf8');
  const rows = new Map([...doc.matchAll(/^\| `([A-Z_]+)` \|(.*)$/gm)].map((m) => [m[1], m[2]]));

  it('parses the union', () => {
    expect(codesInUnion().length).toBeGreaterThanOrEqual(40);
    expect(codesInUnion()).toContain('UNKNOWN_KEY');
  });

  it.each(codesInUnion())('documents %s in a table row with meaning, example and fix', (code) => {
    const cells = rows.get(code)?.split(' | ');
    expect(cells, `${code} has no row in docs/diagnostics.md`).toBeDefined();
    expect(cells!.length).toBe(3);
    for (const cell of cells!) expect(cell.replace(/\|\s*$/, '').trim().length).toBeGreaterThan(5);
  });

  it('documents no code that does not exist', () => {
    expect([...rows.keys()].filter((c) => !codesInUnion().includes(c))).toEqual([]);
  });
});
