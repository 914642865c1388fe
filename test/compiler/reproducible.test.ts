import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../runtime/canonical.ts';
import { runNode, tempDir } from './compile-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CASE = join(ROOT, 'test/fixtures/diff/operational-timeouts/new');
const CLI = join(ROOT, 'bin/vmcp.mjs');

/** One build: its own folder, working directory, time zone, locale and SOURCE_DATE_EPOCH. */
interface Build {
  tz: string;
  lang: string;
  epoch: string;
  /** Run from inside the folder (`-c vmcp.yaml`) or from the repository with absolute paths. */
  fromInside: boolean;
}

function build(b: Build, dir: string): { bundle: string; manifest: string; files: string[] } {
  mkdirSync(join(dir, 'deep/er'), { recursive: true });
  const work = join(dir, 'deep/er');
  for (const f of ['vmcp.yaml', 'vmcp.lock.json']) copyFileSync(join(CASE, f), join(work, f));
  const args = b.fromInside ? [CLI, 'compile', '--frozen', '-c', 'vmcp.yaml', '-o', 'dist'] : [CLI, 'compile', '--frozen', '-c', join(work, 'vmcp.yaml'), '-o', join(work, 'dist')];
  const r = runNode(args, { cwd: b.fromInside ? work : ROOT, env: { TZ: b.tz, LANG: b.lang, LC_ALL: b.lang, SOURCE_DATE_EPOCH: b.epoch, IDP_SECRET: 'not-a-real-secret' } });
  expect(r.status, r.stderr).toBe(0);
  const read = (f: string) => readFileSync(join(work, 'dist', f));
  return { bundle: sha256(read('diffcase.vmcp.mjs')), manifest: sha256(read('diffcase.manifest.json')), files: [read('diffcase.manifest.json').toString('utf8')] };
}

describe('reproducible builds', () => {
  const a = tempDir('repro-a');
  const b = tempDir('repro-b');
  afterAll(() => {
    a.remove();
    b.remove();
  });

  it('gives a byte-identical bundle and manifest across folders, working directories, TZ, LANG and SOURCE_DATE_EPOCH', () => {
    const one = build({ tz: 'Pacific/Kiritimati', lang: 'tr_TR.UTF-8', epoch: '1', fromInside: true }, a.dir);
    const two = build({ tz: 'America/St_Johns', lang: 'C', epoch: '1999999999', fromInside: false }, b.dir);
    expect(two.bundle).toBe(one.bundle);
    expect(two.manifest).toBe(one.manifest);
    // The manifest holds what a rebuild needs, and nothing that varies by machine.
    const manifest = JSON.parse(one.files[0]) as Record<string, unknown>;
    expect(manifest).toMatchObject({ vmcpVersion: expect.any(String), nodeTarget: expect.stringMatching(/^node\d+/), inputs: { config: expect.stringMatching(/^sha256-/), lock: expect.stringMatching(/^sha256-/) } });
    expect(one.files[0]).not.toContain(a.dir);
    expect(one.files[0]).not.toMatch(/20\d\d-\d\d-\d\d/);
  });
});
