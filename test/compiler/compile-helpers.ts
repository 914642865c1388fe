import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compile } from '../../compiler/compile.ts';
import {
  hashBackend,
  lockItem,
  serializeLock,
  type BackendIdentity,
  type LockedBackend,
  type LockedItem,
} from '../../compiler/lock.ts';
import type { CompiledGateway } from '../../runtime/compiled-gateway.ts';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** A backend's pinned catalog, written by hand: names, or whole definitions for tools. */
export interface FakeBackend {
  tools?: Array<string | Record<string, unknown>>;
  prompts?: string[];
  resources?: string[];
  templates?: string[];
  absent?: boolean;
}

/** The identity `fakeConfig` gives backend `name` (stdio `node <name>.mjs`). */
export function fakeIdentity(name: string): BackendIdentity {
  return { transport: 'stdio', command: 'node', args: [`${name}.mjs`] };
}

const items = (defs: Array<Record<string, unknown>>, key: string): Record<string, LockedItem> =>
  Object.fromEntries(defs.map((d) => [String(d[key]), lockItem(d)]));

/** A fake backend's items as its server would list them (and as its lock entry pins them). */
export interface FakeCatalog {
  tools: Array<Record<string, unknown>>;
  prompts: Array<Record<string, unknown>>;
  resources: Array<Record<string, unknown>>;
  resourceTemplates: Array<Record<string, unknown>>;
}

/** The full definitions behind a FakeBackend's names. Example: tools ['x'] → [{ name: 'x', description: 'x tool', inputSchema: { type: 'object' } }]. */
export function fakeCatalog(fb: FakeBackend): FakeCatalog {
  const tool = (t: string | Record<string, unknown>) =>
    typeof t === 'string' ? { name: t, description: `${t} tool`, inputSchema: { type: 'object' } } : t;
  return {
    tools: (fb.tools ?? []).map(tool),
    prompts: (fb.prompts ?? []).map((p) => ({ name: p, description: `${p} prompt` })),
    resources: (fb.resources ?? []).map((uri) => ({ uri, name: uri })),
    resourceTemplates: (fb.templates ?? []).map((uriTemplate) => ({ uriTemplate, name: uriTemplate })),
  };
}

/** A hand-written lock entry, hashed like the real one. */
export function fakeLockedBackend(identity: BackendIdentity, fb: FakeBackend): LockedBackend {
  const c = fakeCatalog(fb);
  const b = {
    identity,
    status: fb.absent ? ('absent' as const) : ('ok' as const),
    ...(fb.absent
      ? {}
      : {
          serverInfo: { name: 'fake', version: '1.0.0' },
          protocolVersion: '2025-06-18',
          capabilities: { tools: {}, prompts: {}, resources: {} },
        }),
    tools: items(c.tools, 'name'),
    prompts: items(c.prompts, 'name'),
    resources: items(c.resources, 'uri'),
    resourceTemplates: items(c.resourceTemplates, 'uriTemplate'),
  };
  return { ...b, hash: hashBackend(b) };
}

/** The text of vmcp.lock.json for fake backends keyed by name. */
export function fakeLockText(backends: Record<string, FakeBackend>): string {
  const entries = Object.entries(backends).map(([n, fb]) => [n, fakeLockedBackend(fakeIdentity(n), fb)]);
  return serializeLock({ lockfileVersion: 1, backends: Object.fromEntries(entries) });
}

/**
 * A vmcp.yaml with one stdio backend per name and `rest` (top-level YAML, e.g. an aggregation
 * block) appended verbatim. Example: fakeConfig(['a'], 'aggregation:\n  conflictResolution: manual').
 */
export function fakeConfig(names: string[], rest = '', gateway = 'routing'): string {
  const backends = names
    .map((n) => `  - name: ${n}\n    transport: stdio\n    command: node\n    args: ["${n}.mjs"]\n`)
    .join('');
  return `name: ${gateway}\nbackends:\n${backends}${rest.trimEnd()}\n`;
}

/** Compiles from an in-memory lock (`--frozen`): no network, no files. */
export function compileFrozen(text: string, lockText: string, env: Record<string, string> = {}) {
  return compile({
    file: 'vmcp.yaml',
    text,
    lockText,
    env,
    readFile: () => undefined,
    frozen: true,
    allowMissing: false,
    introspect: () => Promise.reject(new Error('a frozen compile must not introspect')),
  });
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
export function positionOf(text: string, needle: string): { line: number; column: number } {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`"${needle}" is not in the config text`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** A fresh temporary directory (outside the repository), removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `vmcp-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a node program synchronously with the test's own node binary. */
export function runNode(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
) {
  const r = spawnSync(process.execPath, args, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
  });
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
  };
}

/** How long `node <bundle> --dump-gateway` may take before the test fails. */
const DUMP_TIMEOUT_MS = 15_000;

/**
 * Writes a bundle into a fresh directory outside the repository (no node_modules anywhere near)
 * and asks it for its CompiledGateway with `--dump-gateway`. Anything but a printed gateway
 * throws: a bundle that keeps running, rejects the flag, crashes or prints something else fails
 * the test that asked.
 */
export function dumpGateway(code: string, name = 'bundle'): CompiledGateway {
  const tmp = tempDir('dump');
  try {
    const file = join(tmp.dir, `${name}.vmcp.mjs`);
    writeFileSync(file, code);
    const r = runNode([file, '--dump-gateway'], { cwd: tmp.dir, timeoutMs: DUMP_TIMEOUT_MS });
    if (r.timedOut) {
      throw new Error(
        `node ${name}.vmcp.mjs --dump-gateway did not exit within ${DUMP_TIMEOUT_MS} ms: the bundle kept running instead of printing its gateway and exiting. stderr:\n${r.stderr}`,
      );
    }
    if (r.status !== 0)
      throw new Error(`node ${name}.vmcp.mjs --dump-gateway exited ${r.status ?? r.signal}:\n${r.stderr}`);
    try {
      return JSON.parse(r.stdout) as CompiledGateway;
    } catch (err) {
      throw new Error(
        `node ${name}.vmcp.mjs --dump-gateway printed no JSON gateway (${(err as Error).message}):\n${r.stdout.slice(0, 2000)}`,
      );
    }
  } finally {
    tmp.remove();
  }
}

/**
 * Runs a bundle with `--stdio` from a fresh directory outside the repository, sends initialize
 * and then `requests` (JSON-RPC methods, ids 2…), and returns the responses by id.
 */
export function askBundleOverStdio(
  code: string,
  methods: string[],
  env: Record<string, string> = {},
): { responses: Map<number, Record<string, unknown>>; stderr: string; status: number | null } {
  const tmp = tempDir('stdio');
  try {
    const file = join(tmp.dir, 'gateway.vmcp.mjs');
    writeFileSync(file, code);
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
    };
    const lines = [
      init,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      ...methods.map((method, i) => ({ jsonrpc: '2.0', id: i + 2, method })),
    ];
    const r = spawnSync(process.execPath, [file, '--stdio'], {
      cwd: tmp.dir,
      env: { PATH: process.env.PATH, ...env },
      input: lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
      encoding: 'utf8',
      timeout: 20_000,
    });
    const responses = new Map<number, Record<string, unknown>>();
    for (const line of (r.stdout ?? '').split('\n').filter(Boolean)) {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (typeof msg.id === 'number') responses.set(msg.id, msg);
    }
    return { responses, stderr: r.stderr ?? '', status: r.status };
  } finally {
    tmp.remove();
  }
}
