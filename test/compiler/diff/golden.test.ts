import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDiff } from '../../../compiler/cli/diff.ts';
import type { CliIo } from '../../../compiler/cli/io.ts';
import type { DiffFormat, FailOn } from '../../../compiler/diff/format.ts';
import { DIFF_CASES } from '../../fixtures/diff/cases.ts';
import { fixtureFiles } from '../../fixtures/diff/generate.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/diff');
const GOLDEN: Record<DiffFormat, string> = { text: 'expected.txt', markdown: 'expected.md', json: 'expected.json' };
const EXIT_FILE = 'exit-codes.json';

/** Captures what the CLI prints; `isTTY` false so text output has no colour. */
function captureIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), cwd: ROOT, env: {}, isTTY: false };
}

/** Runs `vmcp diff` on a case's two configs and returns stdout and the exit code. */
async function diffCase(
  name: string,
  format: DiffFormat,
  failOn: FailOn,
): Promise<{ out: string; code: number; err: string }> {
  const io = captureIo();
  const side = (s: string) => `test/fixtures/diff/${name}/${s}/vmcp.yaml`;
  const code = await runDiff({ old: side('old'), new: side('new'), format, failOn }, io);
  return { out: io.stdout.join(''), code, err: io.stderr.join('\n') };
}

/**
 * Compares with a golden file. A missing golden fails the run; outside CI it is also written, for
 * review before the next run. UPDATE_GOLDEN=1 rewrites goldens (never under CI).
 */
function expectGolden(path: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN && !process.env.CI) writeFileSync(path, actual);
  if (!existsSync(path)) {
    if (!process.env.CI) writeFileSync(path, actual);
    throw new Error(`missing golden file ${path}${process.env.CI ? '' : ' (written now: review it and rerun)'}`);
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

describe('diff fixtures', () => {
  it('has at least 25 cases, and every fixture folder is a case', () => {
    expect(DIFF_CASES.length).toBeGreaterThanOrEqual(25);
    const dirs = readdirSync(FIXTURES)
      .filter((d) => statSync(join(FIXTURES, d)).isDirectory())
      .sort();
    expect(dirs).toEqual(DIFF_CASES.map((c) => c.name).sort());
  });

  it('match cases.ts byte for byte (regenerate with generate.ts)', () => {
    for (const [rel, text] of fixtureFiles()) expect(readFileSync(join(FIXTURES, rel), 'utf8'), rel).toBe(text);
  });
});

describe.each(DIFF_CASES.map((c) => c.name))('vmcp diff %s', (name) => {
  const dir = join(FIXTURES, name);

  it.each(Object.keys(GOLDEN) as DiffFormat[])('prints the expected %s report', async (format) => {
    const { out, code, err } = await diffCase(name, format, 'none');
    expect(err).toBe('');
    expect(code).toBe(0);
    mkdirSync(dir, { recursive: true });
    expectGolden(join(dir, GOLDEN[format]), out);
  });

  it('sets the expected exit code under each --fail-on', async () => {
    const codes: Record<string, number> = {};
    for (const gate of ['none', 'breaking', 'risky'] as FailOn[])
      codes[gate] = (await diffCase(name, 'json', gate)).code;
    expectGolden(join(dir, EXIT_FILE), `${JSON.stringify(codes)}\n`);
    // The gates are nested: risky includes breaking.
    expect(codes.risky).toBeGreaterThanOrEqual(codes.breaking);
  });
});
