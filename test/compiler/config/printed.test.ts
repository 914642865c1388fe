import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../compiler/config/validate.ts';
import { formatDiagnostics, summarize } from '../../../compiler/format-diagnostics.ts';
import { diagnosticsJson } from '../../../compiler/cli/io.ts';
import { expectGolden } from './golden.ts';

const ROOT = join(import.meta.dirname, '../../..');
const GOLDEN = 'test/fixtures/configs/golden';
const INPUTS = readdirSync(join(ROOT, GOLDEN))
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** Printed as `vmcp validate` prints to stderr (no colour), and as `--json` prints to stdout. */
function render(file: string) {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const { diagnostics } = loadConfig(file, text, { env: {}, readFile: () => undefined });
  return {
    diagnostics,
    printed: `${formatDiagnostics(diagnostics, new Map([[file, text]]))}\n${summarize(diagnostics)}\n`,
    json: diagnosticsJson(diagnostics),
  };
}

describe('printed diagnostics match the goldens exactly', () => {
  it('has golden inputs', () => expect(INPUTS).toEqual(['schema-errors.yaml', 'semantic-errors.yaml']));

  it.each(INPUTS)('%s', (name) => {
    const file = `${GOLDEN}/${name}`;
    const { diagnostics, printed, json } = render(file);
    expect(diagnostics.length).toBeGreaterThanOrEqual(3);
    expectGolden(join(ROOT, file.replace(/\.yaml$/, '.txt')), printed);
    expectGolden(join(ROOT, file.replace(/\.yaml$/, '.json')), json);
  });

  it('colour is only added on request', () => {
    const { diagnostics } = render(`${GOLDEN}/schema-errors.yaml`);
    const plain = formatDiagnostics(diagnostics, new Map());
    expect(plain).not.toContain('\x1b[');
    expect(formatDiagnostics(diagnostics, new Map(), { color: true })).toContain('\x1b[31merror[UNKNOWN_KEY]\x1b[0m');
  });

  it('a diagnostic without a position prints no frame', () => {
    const d = {
      code: 'FILE_NOT_FOUND' as const,
      severity: 'error' as const,
      message: 'cannot read config file x.yaml',
      file: 'x.yaml',
      line: 0,
      column: 0,
      hint: 'pass the path with -c',
    };
    expect(formatDiagnostics([d], new Map([['x.yaml', 'name: a\n']]))).toBe(
      'x.yaml error[FILE_NOT_FOUND] cannot read config file x.yaml\n  hint: pass the path with -c',
    );
  });

  it('control bytes in the source print as "?" so the underline stays aligned', () => {
    const d = {
      code: 'NOT_A_MAPPING' as const,
      severity: 'error' as const,
      message: 'm',
      file: 'b',
      line: 1,
      column: 3,
      endLine: 1,
      endColumn: 5,
    };
    expect(formatDiagnostics([d], new Map([['b', '\u0000\u0001ab']]))).toBe(
      'b:1:3 error[NOT_A_MAPPING] m\n  > 1 | ??ab\n      |   ^^',
    );
  });
});
