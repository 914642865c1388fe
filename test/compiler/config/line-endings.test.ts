/** LF, CRLF and CR-only (classic Mac) files read the same: YAML counts a lone CR as a line break. */
import { describe, expect, it } from 'vitest';
import { formatDiagnostics } from '../../../compiler/format-diagnostics.ts';
import { HEAD, actual, load } from './helpers.ts';

const GOOD = `# yaml-language-server: $schema=x\n${HEAD}aggregation:\n  conflictResolution: prefix\n`;
const BAD = `${HEAD}aggregation:\n  conflictResolutin: prefix\n`;
const ending = (text: string, eol: string) => text.replace(/\n/g, eol);

describe('line endings', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR only', '\r'],
  ])('%s: a valid file starting with a comment loads (never EMPTY_FILE)', (_name, eol) => {
    const r = load(ending(GOOD, eol));
    expect(r.diagnostics).toEqual([]);
    expect(r.value?.config.name).toBe('gw');
    expect(r.value?.backends.map((b) => b.name)).toEqual(['a']);
  });

  it.each([
    ['CRLF', '\r\n'],
    ['CR only', '\r'],
  ])('%s: diagnostics have the line:column of the LF file', (_name, eol) => {
    const want = actual(load(BAD).diagnostics, []);
    expect(want).toEqual(['UNKNOWN_KEY 7:3']);
    expect(actual(load(ending(BAD, eol)).diagnostics, [])).toEqual(want);
  });

  it('the code frame of a CR-only file shows its lines', () => {
    const text = ending(BAD, '\r');
    const printed = formatDiagnostics(load(text).diagnostics, new Map([['vmcp.yaml', text]]), { color: false });
    expect(printed).toContain('  > 7 |   conflictResolutin: prefix');
    expect(printed).toContain('    6 | aggregation:');
  });

  it('a CR-only file of comments only is still empty', () => {
    expect(actual(load('# one\r# two\r').diagnostics, [])).toEqual(['EMPTY_FILE 1:1']);
  });
});
