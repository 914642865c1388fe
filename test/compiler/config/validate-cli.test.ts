import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const EXAMPLES = readdirSync(join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => `examples/${f.split('\\').join('/')}`)
  .sort();
// A clean environment: no secrets, no colour, no debug output.
const ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' };

/** Runs the real binary with this Node, from the repository root. */
function vmcp(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vmcp.mjs', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: ENV,
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const NO_STACK = /^\s+at |Error: |node:internal/m;

describe('vmcp validate (the real CLI)', () => {
  it.each(EXAMPLES)('%s exits 0', (file) => {
    const r = vmcp('validate', '-c', file);
    expect(r.stderr).not.toMatch(/error\[/);
    expect(r.stdout).toMatch(new RegExp(`^✓ ${file.replace(/[.]/g, '\\.')} is valid: gateway "`));
    expect(r.code).toBe(0);
  });

  it('a bad config exits 1 and prints exactly the golden text to stderr', () => {
    const r = vmcp('validate', '-c', 'test/fixtures/configs/golden/schema-errors.yaml');
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(readFileSync(join(ROOT, 'test/fixtures/configs/golden/schema-errors.txt'), 'utf8'));
    expect(r.code).toBe(1);
  });

  it('--json prints the diagnostics as an array, exactly the golden', () => {
    const r = vmcp('validate', '-c', 'test/fixtures/configs/golden/semantic-errors.yaml', '--json');
    expect(r.stdout).toBe(readFileSync(join(ROOT, 'test/fixtures/configs/golden/semantic-errors.json'), 'utf8'));
    const parsed = JSON.parse(r.stdout) as Array<{ code: string; line: number; column: number }>;
    expect(parsed.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual([
      'DUPLICATE_BACKEND 8:11',
      'UNKNOWN_BACKEND 13:5',
      'ENV_UNSET 17:25',
      'PREFIX_COLLISION 20:19',
      'NON_POSITIVE_DURATION 23:14',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
  });

  it('--json on a valid config prints [] and exits 0', () => {
    const r = vmcp('validate', '-c', 'examples/quickstart/vmcp.yaml', '--json');
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('a binary garbage file is a diagnostic, not a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-cli-'));
    const file = join(dir, 'garbage.yaml');
    writeFileSync(
      file,
      Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 0x7b, 0x3a, 0x0a, 0x80, 0x09, 0x5d, 0x00]),
    );
    const r = vmcp('validate', '-c', file);
    expect(r.stderr).toMatch(/error\[(YAML_SYNTAX|NOT_A_MAPPING)\]/);
    expect(r.stderr).not.toMatch(NO_STACK);
    // Control bytes are not echoed to the terminal (the frame shows them as "?").
    expect(r.stderr).not.toMatch(/[\u0000\u001b]/);
    expect(r.code).toBe(1);
  });

  it('a directory passed as the config is FILE_NOT_FOUND', () => {
    const r = vmcp('validate', '-c', 'examples');
    expect(r.stderr).toBe(
      'examples error[FILE_NOT_FOUND] cannot read config file examples\n  hint: pass the path with -c, or run `vmcp init --from <mcp.json>` to create one\n1 error, 0 warnings\n',
    );
    expect(r.code).toBe(1);
  });

  it('a missing file under --json has line 0 (it has no position)', () => {
    const r = vmcp('validate', '-c', 'nope/vmcp.yaml', '--json');
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({ code: 'FILE_NOT_FOUND', file: 'nope/vmcp.yaml', line: 0, column: 0 }),
    ]);
    expect(r.code).toBe(1);
  });

  it('an empty file exits 1 with EMPTY_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-cli-'));
    writeFileSync(join(dir, 'vmcp.yaml'), '# nothing yet\n');
    const r = vmcp('validate', '-c', join(dir, 'vmcp.yaml'), '--json');
    expect(JSON.parse(r.stdout).map((d: { code: string }) => d.code)).toEqual(['EMPTY_FILE']);
    expect(r.code).toBe(1);
  });

  it('an unknown flag is a usage error (exit 2) without a stack trace', () => {
    const r = vmcp('validate', '--jsn');
    expect(r.stderr).toMatch(/^error: Unknown option '--jsn'/);
    expect(r.stderr).toContain('usage: vmcp validate [-c vmcp.yaml] [--json]');
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(r.code).toBe(2);
  });
});
