import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lockfile } from '../../compiler/lock.ts';
import { sha256 } from '../../runtime/canonical.ts';
import { positionOf, ROOT, runNode, tempDir } from './compile-helpers.ts';

// End to end through the CLI (`node bin/vmcp.mjs compile`), with real servers: the quickstart's
// npm servers via npx (cwd = the repo root, so npx finds the installed packages) and the fixtures.
const CLI = join(ROOT, 'bin/vmcp.mjs');
const ECHO = join(ROOT, 'test/fixtures/servers/echo-server.mjs');
const FAULT = join(ROOT, 'test/fixtures/servers/fault-server.mjs');
const SECRET = `vmcp-e2e-secret-${process.pid}-7f3a9c`;

const tmp = tempDir('compile-e2e');
afterAll(() => tmp.remove());

function vmcp(args: string[], env: Record<string, string> = {}) {
  const r = runNode([CLI, ...args], { cwd: ROOT, env: { NO_COLOR: '1', ...env } });
  return { ...r, output: r.stdout + r.stderr };
}

/** Every file a compile wrote under `dir` (the lock beside the config and dist/), by content hash. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name !== 'vmcp.yaml')
        files[join(d, e.name).slice(dir.length + 1)] = sha256(readFileSync(join(d, e.name), 'utf8'));
    }
  };
  walk(dir);
  return files;
}

/** A folder with a vmcp.yaml holding `yaml`; returns the folder and config paths. */
function project(name: string, yaml: string): { dir: string; config: string; out: string } {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vmcp.yaml'), yaml);
  return { dir, config: join(dir, 'vmcp.yaml'), out: join(dir, 'dist') };
}

// Two echo fixtures serve the same resource URIs; priority picks one (with a warning).
const PRIORITY =
  'aggregation:\n  conflictResolution: priority\n  conflictResolutionConfig:\n    priorityOrder: [echo]\n';

const stdioBackend = (name: string, file: string, env: Record<string, string> = {}) =>
  `  - name: ${name}\n    transport: stdio\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(file)}]\n` +
  (Object.keys(env).length
    ? `    env:\n${Object.entries(env)
        .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}\n`)
        .join('')}`
    : '');

describe('vmcp compile: the quickstart with real npm servers', () => {
  const qs = {
    dir: join(tmp.dir, 'quickstart'),
    config: join(tmp.dir, 'quickstart/vmcp.yaml'),
    out: join(tmp.dir, 'quickstart/dist'),
  };
  let first: Record<string, string>;
  let firstRun: ReturnType<typeof vmcp>;

  // The first compile is shared by every test here (each can also run alone with -t).
  beforeAll(() => {
    mkdirSync(qs.dir, { recursive: true });
    copyFileSync(join(ROOT, 'examples/quickstart/vmcp.yaml'), qs.config);
    firstRun = vmcp(['compile', '-c', qs.config, '-o', qs.out]);
    first = snapshot(qs.dir);
  });

  it('discovers the servers and writes a lock, a bundle and a manifest', () => {
    expect(firstRun.status, firstRun.output).toBe(0);
    expect(firstRun.stderr).toMatch(/✓ memory: 9 tools/);
    expect(Object.keys(first).sort()).toEqual([
      'dist/quickstart.manifest.json',
      'dist/quickstart.vmcp.mjs',
      'dist/quickstart.vmcp.mjs.LEGAL.txt',
      'vmcp.lock.json',
    ]);
    const read = (f: string) => readFileSync(join(qs.dir, f), 'utf8');
    const lock = JSON.parse(read('vmcp.lock.json')) as Lockfile;
    expect(Object.keys(lock.backends)).toEqual(['everything', 'memory']);
    expect(lock.backends.memory.status).toBe('ok');
    expect(Object.keys(lock.backends.memory.tools)).toContain('create_entities');
    const manifest = JSON.parse(read('dist/quickstart.manifest.json'));
    expect(manifest.bundle.sha256).toBe(first['dist/quickstart.vmcp.mjs']);
    expect(manifest.inputs.lock).toBe(first['vmcp.lock.json']);
    expect(manifest.counts.tools).toBe(
      Object.keys(lock.backends.memory.tools).length + Object.keys(lock.backends.everything.tools).length,
    );
    expect(read('dist/quickstart.vmcp.mjs')).toContain('memory_create_entities');
  });

  it('gives byte-identical files when run again, and with --frozen', () => {
    const again = vmcp(['compile', '-c', qs.config, '-o', qs.out]);
    expect(again.status, again.output).toBe(0);
    expect(again.stderr.match(/\(unchanged\)/g), again.stderr).toHaveLength(4);
    expect(snapshot(qs.dir)).toEqual(first);
    const frozen = vmcp(['compile', '-c', qs.config, '-o', qs.out, '--frozen']);
    expect(frozen.status, frozen.output).toBe(0);
    expect(frozen.stderr).not.toContain('discovering');
    expect(frozen.stderr.match(/\(unchanged\)/g)).toHaveLength(4);
    expect(snapshot(qs.dir)).toEqual(first);
  });

  it('--check passes when up to date and fails after the config changes', () => {
    const ok = vmcp(['compile', '-c', qs.config, '-o', qs.out, '--check', '--frozen']);
    expect(ok.status, ok.output).toBe(0);
    writeFileSync(qs.config, readFileSync(qs.config, 'utf8').replace('"{workload}_"', '"{workload}."'));
    const stale = vmcp(['compile', '-c', qs.config, '-o', qs.out, '--check', '--frozen']);
    expect(stale.status, stale.output).toBe(1);
    expect(stale.stderr).toContain('error[OUTPUT_STALE]');
    expect(stale.stderr).toContain('quickstart.vmcp.mjs');
    expect(snapshot(qs.dir)).toEqual(first); // --check never writes
  });
});

describe('vmcp compile: lock, failures and secrets (fixture servers)', () => {
  it('--frozen with no lock fails with LOCK_MISSING', () => {
    const p = project('no-lock', `name: nolock\nbackends:\n${stdioBackend('echo', ECHO)}`);
    const r = vmcp(['compile', '-c', p.config, '-o', p.out, '--frozen']);
    expect(r.status, r.output).toBe(1);
    expect(r.stderr).toContain('error[LOCK_MISSING]');
    expect(existsSync(p.out)).toBe(false);
  });

  it('--frozen after a backend command changed fails with LOCK_STALE at that backend', () => {
    const yaml = `name: stale\nbackends:\n${stdioBackend('echo', ECHO)}${stdioBackend('other', ECHO)}${PRIORITY}`;
    const p = project('stale', yaml);
    expect(vmcp(['compile', '-c', p.config, '-o', p.out]).status).toBe(0);
    const changed = yaml.replace(
      `args: [${JSON.stringify(ECHO)}]\n  - name: other`,
      `args: [${JSON.stringify(ECHO)}, "--verbose"]\n  - name: other`,
    );
    expect(changed).not.toBe(yaml);
    writeFileSync(p.config, changed);
    const r = vmcp(['compile', '-c', p.config, '-o', p.out, '--frozen', '--json']);
    expect(r.status, r.output).toBe(1);
    const at = positionOf(changed, 'name: echo');
    const errors = (JSON.parse(r.stdout) as Array<{ severity: string }>).filter((d) => d.severity === 'error');
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'LOCK_STALE',
        severity: 'error',
        file: p.config,
        line: at.line,
        column: at.column,
        message: expect.stringContaining('backend "echo" changed'),
      }),
    ]);
  });

  it('a backend that exits at start is BACKEND_UNREACHABLE with its stderr tail; --allow-missing records it as absent', () => {
    const p = project(
      'unreachable',
      `name: unreachable\nbackends:\n${stdioBackend('broken', FAULT, { FAULT: 'exit-at-start' })}${stdioBackend('echo', ECHO)}`,
    );
    const r = vmcp(['compile', '-c', p.config, '-o', p.out]);
    expect(r.status, r.output).toBe(1);
    expect(r.stderr).toContain('error[BACKEND_UNREACHABLE]');
    expect(r.stderr).toContain('fault-server: exiting at start with code 3');
    expect(existsSync(join(p.dir, 'vmcp.lock.json'))).toBe(false);

    const allowed = vmcp(['compile', '-c', p.config, '-o', p.out, '--allow-missing']);
    expect(allowed.status, allowed.output).toBe(0);
    expect(allowed.stderr).toContain('warning[BACKEND_UNREACHABLE]');
    const lock = JSON.parse(readFileSync(join(p.dir, 'vmcp.lock.json'), 'utf8')) as Lockfile;
    expect(lock.backends.broken).toMatchObject({ status: 'absent', tools: {} });
    expect(lock.backends.echo.status).toBe('ok');
  });

  describe('secrets', () => {
    let server: ChildProcess;
    let port: number;
    beforeAll(async () => {
      server = spawn(process.execPath, [ECHO, '--http', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
      port = await new Promise<number>((ok, fail) => {
        let err = '';
        server.stderr!.on('data', (b: Buffer) => {
          err += b.toString();
          const m = /listening (\d+)/.exec(err);
          if (m) ok(Number(m[1]));
        });
        server.once('exit', (code) => fail(new Error(`echo --http exited ${code}: ${err}`)));
      });
    });
    afterAll(() => server.kill());

    it('an env secret (stdio env, ${env:X}, headerValueEnv) never reaches the lock, bundle or manifest', () => {
      const p = project(
        'secrets',
        [
          'name: secrets\nbackends:\n',
          stdioBackend('echo', ECHO, { ECHO_TOKEN: '${env:E2E_SECRET}' }),
          `  - name: web\n    transport: streamable-http\n    url: http://127.0.0.1:${port}/mcp\n    headers:\n      X-Api-Key: \${env:E2E_SECRET}\n`,
          PRIORITY,
          'outgoingAuth:\n  backends:\n    web:\n      type: header_injection\n      headerInjection:\n        headerName: Authorization\n        headerValueEnv: E2E_SECRET\n',
        ].join(''),
      );
      const r = vmcp(['compile', '-c', p.config, '-o', p.out], { E2E_SECRET: SECRET });
      expect(r.status, r.output).toBe(0);
      const files = Object.keys(snapshot(p.dir));
      expect(files).toHaveLength(4);
      const read = (f: string) => readFileSync(join(p.dir, f), 'utf8');
      for (const f of files) expect(read(f).includes(SECRET), `${f} holds the secret`).toBe(false);
      expect(read('dist/secrets.vmcp.mjs')).toContain('E2E_SECRET');
      expect(r.output).not.toContain(SECRET);
    });

    it('a backend that echoes a secret into its catalog fails with SECRET_LEAK and writes nothing', () => {
      const p = project(
        'leak',
        `name: leak\nbackends:\n${stdioBackend('echo', ECHO, { ECHO_DESCRIPTION_SUFFIX: ' key=${env:E2E_SECRET}' })}`,
      );
      const r = vmcp(['compile', '-c', p.config, '-o', p.out], { E2E_SECRET: SECRET });
      expect(r.status, r.output).toBe(1);
      expect(r.stderr).toContain('error[SECRET_LEAK]');
      expect(r.output).not.toContain(SECRET);
      expect(snapshot(p.dir)).toEqual({});
    });
  });
});
