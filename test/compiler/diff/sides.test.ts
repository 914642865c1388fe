import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../compiler/cli/io.ts';
import { main } from '../../../compiler/cli/main.ts';
import { compile } from '../../../compiler/compile.ts';
import type { DiffReport } from '../../../compiler/diff/diff.ts';
import { configText, DIFF_CASES, lockText } from '../../fixtures/diff/cases.ts';
import { tempDir } from '../compile-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const FIX = 'test/fixtures/diff';

async function vmcp(args: string[], cwd = ROOT): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), cwd, env: {}, isTTY: false };
  const code = await main(args, io);
  return { code, out: out.join(''), err: err.join('\n') };
}
const json = (s: string) => JSON.parse(s) as DiffReport;

describe('vmcp diff sides', () => {
  const tmp = tempDir('diff-sides');
  beforeAll(async () => {
    // A compiled release (manifest + bundle) of the tool-removed case's old side.
    const c = DIFF_CASES.find((x) => x.name === 'tool-removed')!;
    const out = await compile({
      file: 'vmcp.yaml',
      text: configText(c.old),
      lockText: lockText(c.old),
      env: {},
      readFile: () => undefined,
      frozen: true,
      allowMissing: false,
      introspect: () => Promise.reject(new Error('frozen')),
    });
    mkdirSync(join(tmp.dir, 'dist'));
    writeFileSync(join(tmp.dir, 'dist/diffcase.vmcp.mjs'), out.value!.bundle.code);
    writeFileSync(join(tmp.dir, 'dist/diffcase.manifest.json'), out.value!.manifestText);
    for (const f of ['vmcp.yaml', 'vmcp.lock.json'])
      copyFileSync(join(ROOT, FIX, 'tool-removed/old', f), join(tmp.dir, f));
  });
  afterAll(() => tmp.remove());

  it('compares two locks as raw backend catalogs', async () => {
    const r = await vmcp([
      'diff',
      `${FIX}/tool-removed/old/vmcp.lock.json`,
      `${FIX}/tool-removed/new/vmcp.lock.json`,
      '--format',
      'json',
    ]);
    expect(r.code).toBe(0);
    const report = json(r.out);
    expect(report.level).toBe('lock');
    expect(report.changes.filter((c) => c.class !== 'info').map((c) => `${c.kind} ${c.subject}`)).toEqual([
      'tool.removed tool list_issues',
    ]);
  });

  it("compares a config with a lock at the lock level, using the config's own lock", async () => {
    const r = await vmcp([
      'diff',
      `${FIX}/description-override/old/vmcp.yaml`,
      `${FIX}/description-override/new/vmcp.lock.json`,
      '--format',
      'json',
    ]);
    // The override lives in the config, so a lock cannot see it: no change at the lock level.
    expect(json(r.out).level).toBe('lock');
    expect(json(r.out).changes.map((c) => c.kind)).toEqual(['note']);
  });

  it('is honest about a manifest: counts, backends and auth types only', async () => {
    const r = await vmcp([
      'diff',
      join(tmp.dir, 'dist/diffcase.manifest.json'),
      `${FIX}/tool-removed/new/vmcp.yaml`,
      '--format',
      'json',
      '--fail-on',
      'breaking',
    ]);
    const report = json(r.out);
    expect(report.level).toBe('summary');
    expect(report.changes.map((c) => `${c.class} ${c.subject}: ${c.detail}`)).toEqual([
      expect.stringMatching(/^info comparison: .* is a manifest: only counts/),
      'info tools: 4 → 3',
    ]);
    // A count can hide a removal, but it is not proof of one: the manifest side never claims breaking.
    expect(r.code).toBe(0);
  });

  it('reads a side through git (git:<ref>:<path>)', async () => {
    const git = (...a: string[]) =>
      spawnSync('git', a, {
        cwd: tmp.dir,
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@e',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@e',
        },
      });
    expect(git('init', '-q').status).toBe(0);
    git('add', 'vmcp.yaml', 'vmcp.lock.json');
    expect(git('commit', '-q', '-m', 'base').status).toBe(0);
    for (const f of ['vmcp.yaml', 'vmcp.lock.json'])
      copyFileSync(join(ROOT, FIX, 'tool-removed/new', f), join(tmp.dir, f));
    const r = await vmcp(['diff', 'git:HEAD:vmcp.yaml', 'vmcp.yaml', '--fail-on', 'breaking'], tmp.dir);
    expect(r.err).toBe('');
    expect(r.out).toContain('tool github_list_issues: removed (was github/list_issues)');
    expect(r.code).toBe(1);
    const missing = await vmcp(['diff', 'git:HEAD:nope.yaml', 'vmcp.yaml'], tmp.dir);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('cannot read nope.yaml at git ref HEAD');
  });

  it('reads a bundle with --dump-gateway', async () => {
    const r = await vmcp([
      'diff',
      join(tmp.dir, 'dist/diffcase.vmcp.mjs'),
      `${FIX}/tool-removed/old/vmcp.yaml`,
      '--format',
      'json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(json(r.out).changes).toEqual([]);
  });

  it('says clearly why it cannot read a bundle built without --dump-gateway', async () => {
    // Stands in for a bundle from an older vmcp: it never mentions the flag, so it is not run.
    writeFileSync(join(tmp.dir, 'dist/older.vmcp.mjs'), 'process.exit(3);\n');
    const r = await vmcp([
      'diff',
      join(tmp.dir, 'dist/older.vmcp.mjs'),
      `${FIX}/tool-removed/old/vmcp.yaml`,
      '--format',
      'json',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('was built by a vmcp without --dump-gateway, so its surface cannot be read safely');
  });

  it('reports a config without a lock, and usage errors, with exit code 2', async () => {
    mkdirSync(join(tmp.dir, 'nolock'));
    copyFileSync(join(ROOT, FIX, 'identical/old/vmcp.yaml'), join(tmp.dir, 'nolock/vmcp.yaml'));
    const r = await vmcp(['diff', 'nolock/vmcp.yaml', 'nolock/vmcp.yaml'], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain('has no lock beside it (nolock/vmcp.lock.json)');
    expect((await vmcp(['diff', 'a.yaml'])).code).toBe(2);
    expect((await vmcp(['diff', 'a.yaml', 'b.yaml', '--format', 'html'])).err).toContain('unknown --format "html"');
    expect((await vmcp(['diff', 'a.yaml', 'b.yaml', '--fail-on', 'safe'])).code).toBe(2);
    expect((await vmcp(['diff', 'README.md', 'README.md'])).err).toContain('cannot tell what README.md is');
  });

  it('colours text only on a TTY', async () => {
    const args = ['diff', `${FIX}/tool-removed/old/vmcp.yaml`, `${FIX}/tool-removed/new/vmcp.yaml`];
    expect((await vmcp(args)).out).not.toContain('\x1b[');
    const out: string[] = [];
    await main(args, { out: (t) => out.push(t), err: () => {}, cwd: ROOT, env: {}, isTTY: true });
    expect(out.join('')).toContain('\x1b[1;31mBREAKING (1)\x1b[0m');
  });
});
