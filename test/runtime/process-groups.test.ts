/**
 * No orphans from stdio backends: a backend started through a wrapper (like `npx -y server`) is
 * stopped together with its grandchildren, at gateway shutdown, at a backend restart, on a forced
 * exit, and after compile-time introspection (success, failure, timeout).
 *
 * The fixture's server ignores SIGTERM and stdin EOF (TREE_STUBBORN=1) and its wrapper does not
 * pass signals on: only a SIGKILL of the whole process group stops it, so these tests fail if
 * either the group or the escalation is missing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { introspectBackend, type IntrospectTarget } from '../../compiler/resolve/introspect.ts';
import {
  FIXTURES,
  buildGateway,
  bundleGateway,
  getJson,
  startGatewayOver,
  waitFor,
  type BackendSpec,
} from './harness.ts';

const TREE = join(FIXTURES, 'process-tree-server.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vmcp-pg-'));
let files = 0;
/** Every pid a test saw, SIGKILLed afterwards so that a failing test cannot leak processes. */
const seen = new Set<number>();

afterEach(() => {
  for (const pid of seen) if (running(pid)) process.kill(pid, 'SIGKILL');
  seen.clear();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** True while `pid` exists and is not a zombie (an orphan waits for init to reap it). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** A fresh pid file; the fixture appends "<role> <pid>" lines to it. */
function pidFile(): string {
  return join(dir, `tree-${++files}.pids`);
}

/** The pids of each role, oldest first. */
function readTree(file: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.trim().split('\n')) {
    const [role, pid] = line.split(' ');
    if (!role || !pid) continue;
    (out[role] ??= []).push(Number(pid));
    seen.add(Number(pid));
  }
  return out;
}

/** Waits until the file names `roles` (one process each, or `count`) and returns their pids. */
async function waitForTree(file: string, roles: string[], count = 1): Promise<Record<string, number[]>> {
  return waitFor(
    () => {
      const tree = readTree(file);
      return roles.every((r) => (tree[r]?.length ?? 0) >= count) ? tree : undefined;
    },
    10_000,
    `${roles.join(' + ')} in ${file}`,
  ) as Promise<Record<string, number[]>>;
}

/** Waits until none of `pids` runs; fails naming the survivors. */
async function expectGone(pids: number[], ms = 8000): Promise<void> {
  await waitFor(() => pids.every((p) => !running(p)), ms, `pids ${pids.filter(running).join(', ')} to exit`).catch(
    () => {},
  );
  expect(pids.filter(running)).toEqual([]);
}

function treeBackend(file: string, env: Record<string, string> = {}): BackendSpec {
  // The harness introspects with the SDK's transport (no process groups): give it a plain tree.
  return { name: 'tree', args: [TREE], env: { TREE_PID_FILE: file, TREE_STUBBORN: '1', ...env }, introspectEnv: {} };
}

describe('gateway: stdio backends behind a wrapper leave no process behind', () => {
  it('SIGTERM to the gateway stops the wrapper and the server it started', async () => {
    const file = pidFile();
    const g = await startGatewayOver([treeBackend(file)]);
    const tree = await waitForTree(file, ['wrapper', 'server']);
    await waitFor(
      async () => (await getJson(g, '/status')).body.backends[0].state === 'ready',
      10_000,
      'backend ready',
    );
    expect((await getJson(g, '/status')).body.backends[0].pid).toBe(tree.wrapper[0]);
    expect(await g.stop('SIGTERM')).toBe(0);
    await expectGone([...tree.wrapper, ...tree.server]);
  });

  it('a restart after the wrapper dies stops the orphaned server, and the new tree serves', async () => {
    const file = pidFile();
    const g = await startGatewayOver([treeBackend(file)]);
    try {
      const first = await waitForTree(file, ['wrapper', 'server']);
      await waitFor(
        async () => (await getJson(g, '/status')).body.backends[0].state === 'ready',
        10_000,
        'backend ready',
      );
      // The wrapper dies alone: its server keeps the pipes open and would otherwise live on.
      process.kill(first.wrapper[0], 'SIGKILL');
      const second = await waitForTree(file, ['wrapper', 'server'], 2);
      await expectGone(first.server);
      await waitFor(
        async () => {
          const b = (await getJson(g, '/status')).body.backends[0];
          return b.state === 'ready' && b.restarts >= 1;
        },
        10_000,
        'backend ready again',
      );
      expect([second.wrapper[1], second.server[1]].every(running)).toBe(true);
      expect(await g.stop('SIGTERM')).toBe(0);
      await expectGone([...second.wrapper, ...second.server]);
    } finally {
      await g.stop('SIGKILL');
    }
  });

  it('a second signal exits at once, and the exit hook still kills the process group', async () => {
    const file = pidFile();
    const g = await startGatewayOver([treeBackend(file)]);
    const tree = await waitForTree(file, ['wrapper', 'server']);
    await waitFor(
      async () => (await getJson(g, '/status')).body.backends[0].state === 'ready',
      10_000,
      'backend ready',
    );
    // The first SIGTERM starts a graceful stop, which waits out the server's SIGTERM grace (2 s);
    // the second one cuts it short with process.exit, so only the 'exit' hook can kill the server.
    g.proc.kill('SIGTERM');
    await waitFor(() => g.logs().includes('shutting down'), 5000, 'shutdown to start');
    g.proc.kill('SIGTERM');
    expect(await g.stop()).toBe(128 + 15);
    await expectGone([...tree.wrapper, ...tree.server]);
  });

  it('in --stdio mode, the end of stdin stops the gateway and the whole tree', async () => {
    const file = pidFile();
    const bundle = await bundleGateway(await buildGateway([treeBackend(file)]));
    const gw = spawn(process.execPath, [bundle, '--stdio'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<number | null>((r) => gw.once('exit', (c) => r(c)));
    try {
      const tree = await waitForTree(file, ['wrapper', 'server']);
      gw.stdin.end();
      expect(await exited).toBe(0);
      await expectGone([...tree.wrapper, ...tree.server]);
    } finally {
      gw.kill('SIGKILL');
    }
  });

  // A SIGKILL of the gateway itself cannot be hooked: its children then see only stdin EOF.
});

describe('compile-time introspection leaves no process behind', () => {
  function target(file: string, env: Record<string, string>, timeoutMs = 15_000): IntrospectTarget {
    const args = [TREE];
    return {
      name: 'tree',
      identity: { transport: 'stdio', command: 'node', args },
      transport: 'stdio',
      command: process.execPath,
      args,
      env: { TREE_PID_FILE: file, TREE_STUBBORN: '1', ...env },
      timeoutMs,
    };
  }

  it('after a successful introspection', async () => {
    const file = pidFile();
    const r = await introspectBackend(target(file, {}));
    expect(r.diagnostics).toEqual([]);
    expect(Object.keys(r.backend!.tools)).toEqual(['echo', 'add', 'slow', 'fail']);
    const tree = readTree(file);
    expect(tree.wrapper).toHaveLength(1);
    expect(tree.server).toHaveLength(1);
    await expectGone([...tree.wrapper, ...tree.server], 2000);
  });

  it('after a timeout', async () => {
    const file = pidFile();
    const r = await introspectBackend(target(file, { TREE_SERVER: 'hang' }, 1000));
    expect(r.diagnostics[0].message).toBe('backend "tree" timed out after 1000 ms before initialize');
    const tree = readTree(file);
    expect(tree.server).toHaveLength(1);
    await expectGone([...tree.wrapper, ...tree.server], 2000);
  });

  it('after a failure, including a helper the crashed server left running', async () => {
    const file = pidFile();
    const r = await introspectBackend(target(file, { TREE_SERVER: 'crash' }));
    expect(r.diagnostics[0].message).toBe('backend "tree" exited with code 3 before initialize');
    expect(r.diagnostics[0].hint).toContain('process-tree-server: crashing with code 3');
    const tree = readTree(file);
    expect(tree.helper).toHaveLength(1);
    await expectGone([...tree.wrapper, ...tree.server, ...tree.helper], 2000);
  });
});
