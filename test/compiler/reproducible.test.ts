import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
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
  const args = b.fromInside
    ? [CLI, 'compile', '--frozen', '-c', 'vmcp.yaml', '-o', 'dist']
    : [CLI, 'compile', '--frozen', '-c', join(work, 'vmcp.yaml'), '-o', join(work, 'dist')];
  const r = runNode(args, {
    cwd: b.fromInside ? work : ROOT,
    env: { TZ: b.tz, LANG: b.lang, LC_ALL: b.lang, SOURCE_DATE_EPOCH: b.epoch, IDP_SECRET: 'not-a-real-secret' },
  });
  expect(r.status, r.stderr).toBe(0);
  const read = (f: string) => readFileSync(join(work, 'dist', f));
  return {
    bundle: sha256(read('diffcase.vmcp.mjs')),
    manifest: sha256(read('diffcase.manifest.json')),
    files: [read('diffcase.manifest.json').toString('utf8')],
  };
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
    expect(manifest).toMatchObject({
      vmcpVersion: expect.any(String),
      nodeTarget: expect.stringMatching(/^node\d+/),
      inputs: { config: expect.stringMatching(/^sha256-/), lock: expect.stringMatching(/^sha256-/) },
    });
    expect(one.files[0]).not.toContain(a.dir);
    expect(one.files[0]).not.toMatch(/20\d\d-\d\d-\d\d/);
  });
});

/** A free TCP port on the loopback interface. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
    srv.on('error', fail);
  });
}

describe('release image inputs', () => {
  const c = tempDir('release');
  afterAll(() => c.remove());

  it('the Dockerfile compiles --frozen in one stage and runs only the bundle, as non-root, with a /health check', () => {
    const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(text.match(/^FROM /gm)?.length).toBe(2);
    expect(text).toMatch(/RUN npm ci/);
    expect(text).toMatch(/vmcp\.mjs compile --frozen/);
    expect(text).toMatch(/vmcp\.mjs verify/);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^HEALTHCHECK [^\n]*\n[^\n]*\/health/m);
    expect(text).toMatch(/CMD \["node", "\/app\/gateway\.vmcp\.mjs", "--host", "0\.0\.0\.0"/);
    // The runtime stage copies the release folder from the build stage and nothing else.
    const runtime = text.slice(text.lastIndexOf('FROM '));
    expect(runtime.match(/^COPY .*$/gm)).toEqual(['COPY --from=build --chown=root:root /release/ /app/']);
  });

  it('the bundle the image copies runs with plain node from an empty folder and answers /health', async () => {
    const built = build({ tz: 'UTC', lang: 'C', epoch: '0', fromInside: true }, c.dir);
    expect(built.bundle).toMatch(/^sha256-/);
    const alone = join(c.dir, 'alone');
    mkdirSync(alone);
    copyFileSync(join(c.dir, 'deep/er/dist/diffcase.vmcp.mjs'), join(alone, 'gateway.vmcp.mjs'));
    const port = await freePort();
    const child = spawn(process.execPath, ['gateway.vmcp.mjs', '--host', '127.0.0.1', '--port', String(port)], {
      cwd: alone,
      stdio: 'ignore',
    });
    try {
      let status = 0;
      for (let i = 0; i < 60 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 250));
        status = await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.status,
          () => 0,
        );
      }
      expect(status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
