import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../compiler/cli/verify.ts';
import type { CliIo } from '../../compiler/cli/io.ts';
import { compile } from '../../compiler/compile.ts';
import { main } from '../../compiler/cli/main.ts';
import { tempDir } from './compile-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CASE = join(ROOT, 'test/fixtures/diff/tool-added/new');

function captureIo(cwd: string): CliIo & { text: () => string } {
  const lines: string[] = [];
  return {
    out: (t) => lines.push(t),
    err: (t) => lines.push(t),
    cwd,
    env: {},
    isTTY: false,
    text: () => lines.join('\n'),
  };
}

describe('vmcp verify', () => {
  const tmp = tempDir('verify');
  const bundle = 'dist/diffcase.vmcp.mjs';
  let original: Buffer;

  beforeAll(async () => {
    const text = readFileSync(join(CASE, 'vmcp.yaml'), 'utf8');
    const lockText = readFileSync(join(CASE, 'vmcp.lock.json'), 'utf8');
    const out = await compile({
      file: 'vmcp.yaml',
      text,
      lockText,
      env: {},
      readFile: () => undefined,
      frozen: true,
      allowMissing: false,
      introspect: () => Promise.reject(new Error('frozen')),
    });
    if (!out.value) throw new Error(JSON.stringify(out.diagnostics));
    writeFileSync(join(tmp.dir, 'vmcp.yaml'), text);
    writeFileSync(join(tmp.dir, 'vmcp.lock.json'), lockText);
    mkdirSync(join(tmp.dir, 'dist'));
    writeFileSync(join(tmp.dir, bundle), out.value.bundle.code);
    writeFileSync(join(tmp.dir, 'dist/diffcase.manifest.json'), out.value.manifestText);
    original = readFileSync(join(tmp.dir, bundle));
  });
  afterAll(() => tmp.remove());

  it('accepts an untouched bundle, with its config and lock', () => {
    const io = captureIo(tmp.dir);
    expect(runVerify({ bundle, config: 'vmcp.yaml', lock: 'vmcp.lock.json' }, io)).toBe(0);
    expect(io.text()).toContain('✓ bundle sha256');
    expect(io.text()).toContain('✓ config hash');
  });

  it('catches a one-byte change to the bundle', () => {
    const changed = Buffer.from(original);
    const at = changed.indexOf('diffcase');
    changed[at] = 'D'.charCodeAt(0);
    writeFileSync(join(tmp.dir, bundle), changed);
    try {
      const io = captureIo(tmp.dir);
      expect(runVerify({ bundle }, io)).toBe(1);
      expect(io.text()).toContain('✗ bundle sha256');
      expect(io.text()).toContain('error[VERIFY_FAILED]');
    } finally {
      writeFileSync(join(tmp.dir, bundle), original);
    }
  });

  it('catches an appended byte by size as well as by hash', () => {
    writeFileSync(join(tmp.dir, bundle), Buffer.concat([original, Buffer.from('\n')]));
    try {
      const io = captureIo(tmp.dir);
      expect(runVerify({ bundle }, io)).toBe(1);
      expect(io.text()).toMatch(/✗ bundle size: manifest says \d+ bytes, found \d+ bytes/);
    } finally {
      writeFileSync(join(tmp.dir, bundle), original);
    }
  });

  it('catches a config that is not the one the bundle was built from', () => {
    writeFileSync(join(tmp.dir, 'other.yaml'), `${readFileSync(join(tmp.dir, 'vmcp.yaml'), 'utf8')}# edited\n`);
    const io = captureIo(tmp.dir);
    expect(runVerify({ bundle, config: 'other.yaml' }, io)).toBe(1);
    expect(io.text()).toContain('✗ config hash (inputs.config)');
  });

  it('reports a missing manifest (exit 2) and usage errors through the CLI', async () => {
    const io = captureIo(tmp.dir);
    expect(runVerify({ bundle: 'dist/nothing.vmcp.mjs' }, io)).toBe(2);
    expect(io.text()).toContain('cannot read dist/nothing.vmcp.mjs, dist/nothing.manifest.json');
    expect(await main(['verify'], captureIo(tmp.dir))).toBe(2);
    expect(await main(['verify', bundle], captureIo(tmp.dir))).toBe(0);
  });
});
