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

describe('vmcp verify and composite tools', () => {
  const tmp = tempDir('verify-composite');
  const bundle = 'dist/diffcase.vmcp.mjs';
  const COMPOSITE = join(ROOT, 'test/fixtures/diff/composite-steps-changed/new');
  let original: Buffer;
  let manifest: any;

  beforeAll(async () => {
    const text = readFileSync(join(COMPOSITE, 'vmcp.yaml'), 'utf8');
    const out = await compile({
      file: 'vmcp.yaml',
      text,
      lockText: readFileSync(join(COMPOSITE, 'vmcp.lock.json'), 'utf8'),
      env: {},
      readFile: () => undefined,
      frozen: true,
      allowMissing: false,
      introspect: () => Promise.reject(new Error('frozen')),
    });
    if (!out.value) throw new Error(JSON.stringify(out.diagnostics));
    mkdirSync(join(tmp.dir, 'dist'));
    writeFileSync(join(tmp.dir, bundle), out.value.bundle.code);
    writeFileSync(join(tmp.dir, 'dist/diffcase.manifest.json'), out.value.manifestText);
    original = readFileSync(join(tmp.dir, bundle));
    manifest = JSON.parse(out.value.manifestText);
  });
  afterAll(() => tmp.remove());

  it('the manifest lists each composite: its steps, the backend tools it reaches, its plan hash', () => {
    expect(manifest.composites).toEqual([
      {
        name: 'triage',
        steps: ['open', 'file', 'readme'],
        tools: ['files/read_file', 'github/create_issue', 'github/list_issues'],
        sha256: expect.stringMatching(/^sha256-[0-9a-f]{64}$/),
      },
    ]);
  });

  it('a workflow edited inside the bundle fails verification', () => {
    const text = original.toString('utf8');
    // The compiled plan carries the step's retry count as data: raise it in place.
    const edited = text.replace('retryCount:2,', 'retryCount:9,');
    expect(edited).not.toBe(text);
    writeFileSync(join(tmp.dir, bundle), edited);
    try {
      const io = captureIo(tmp.dir);
      expect(runVerify({ bundle }, io)).toBe(1);
      expect(io.text()).toContain('✗ bundle sha256');
    } finally {
      writeFileSync(join(tmp.dir, bundle), original);
    }
    expect(runVerify({ bundle }, captureIo(tmp.dir))).toBe(0);
  });
});
