/**
 * Test harness for the runtime: builds a CompiledGateway from REAL backends (introspected with the
 * v1 SDK client, items hashed with hashJson exactly as listed), writes an entry module of the exact
 * shape the compiler emits, bundles it with esbuild and runs `node bundle.mjs --port 0`.
 * Later the compiler's `vmcp compile` replaces `buildGateway` + `bundleGateway`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import * as z from 'zod';
import { hashJson } from '../../runtime/canonical.ts';
import type {
  CompiledBackend,
  CompiledGateway,
  CompiledOutgoingAuth,
  TransportKind,
} from '../../runtime/compiled-gateway.ts';

/** The repository root. */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Fixture servers. */
export const FIXTURES = join(REPO, 'test', 'fixtures', 'servers');
export const ECHO = join(FIXTURES, 'echo-server.mjs');
export const FAULT = join(FIXTURES, 'fault-server.mjs');

/** A backend to put behind the gateway. */
export interface BackendSpec {
  name: string;
  transport?: TransportKind;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  url?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  auth?: CompiledOutgoingAuth;
  /** Introspect with this env instead of `env` (drift tests: the lock differs from the live server). */
  introspectEnv?: Record<string, string>;
  /** Skip introspection and use this catalog (for backends that cannot start, e.g. exit-at-start). */
  catalog?: Catalog;
}

/** One backend's catalog, exactly as listed. */
export interface Catalog {
  tools: any[];
  prompts: any[];
  resources: any[];
  resourceTemplates: any[];
  capabilities: Record<string, any>;
}

const Loose = z.looseObject({});

/** Lists everything a backend offers, with no SDK re-validation (items kept byte-for-byte). */
export async function introspect(spec: BackendSpec): Promise<Catalog> {
  const client = new Client({ name: 'vmcp-test-introspect', version: '0.0.0' });
  const env = spec.introspectEnv ?? spec.env;
  const transport =
    (spec.transport ?? 'stdio') === 'stdio'
      ? new StdioClientTransport({
          command: spec.command ?? process.execPath,
          args: spec.args,
          env: { ...getDefaultEnvironment(), ...env },
          stderr: 'ignore',
        })
      : spec.transport === 'sse'
        ? new SSEClientTransport(new URL(spec.url!))
        : new StreamableHTTPClientTransport(new URL(spec.url!));
  await client.connect(transport);
  try {
    const caps = (client.getServerCapabilities() ?? {}) as Record<string, any>;
    const all = async (method: string, field: string) => {
      const out: any[] = [];
      let cursor: string | undefined;
      do {
        const r: any = await client.request({ method, params: cursor ? { cursor } : {} } as any, Loose);
        out.push(...(r[field] ?? []));
        cursor = r.nextCursor;
      } while (cursor);
      return out;
    };
    return {
      capabilities: caps,
      tools: caps.tools ? await all('tools/list', 'tools') : [],
      prompts: caps.prompts ? await all('prompts/list', 'prompts') : [],
      resources: caps.resources ? await all('resources/list', 'resources') : [],
      resourceTemplates: caps.resources ? await all('resources/templates/list', 'resourceTemplates') : [],
    };
  } finally {
    await client.close();
  }
}

/** Options for building a gateway. */
export interface BuildOptions {
  name?: string;
  /** Expose tools as `<backend>_<tool>` (like conflictResolution: prefix). */
  prefix?: boolean;
  operational?: Partial<CompiledGateway['operational']>;
}

/** Turns a URI template into an anchored RegExp source: `fixture://items/{id}` → `^fixture://items/([^/]+)$`. */
export function templatePattern(uriTemplate: string): string {
  return `^${uriTemplate
    .split(/\{[^}]+\}/)
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('([^/]+)')}$`;
}

/** Introspects every backend and builds the CompiledGateway the compiler would emit. */
export async function buildGateway(specs: BackendSpec[], opts: BuildOptions = {}): Promise<CompiledGateway> {
  const catalogs = await Promise.all(specs.map((s) => s.catalog ?? introspect(s)));
  const gw: CompiledGateway = {
    name: opts.name ?? 'test-gateway',
    vmcpVersion: '0.1.0-test',
    capabilities: {},
    backends: [],
    tools: {},
    prompts: {},
    resources: {},
    resourceTemplates: [],
    lists: { tools: '', prompts: '', resources: '', resourceTemplates: '' },
    operational: {
      drift: 'block-changed',
      partialFailureMode: 'fail',
      healthCheckIntervalMs: 30_000,
      unhealthyThreshold: 3,
      circuitBreaker: { enabled: true, failureThreshold: 5, timeoutMs: 30_000 },
      ...opts.operational,
    },
  };
  const lists = { tools: [] as any[], prompts: [] as any[], resources: [] as any[], resourceTemplates: [] as any[] };
  const caps: Record<string, any> = {};
  specs.forEach((s, i) => {
    const c = catalogs[i];
    const hashes = (items: any[], key: string) =>
      Object.fromEntries(items.filter((x) => typeof x?.[key] === 'string').map((x) => [x[key], hashJson(x)]));
    const backend: CompiledBackend = {
      name: s.name,
      transport: s.transport ?? 'stdio',
      command: s.transport && s.transport !== 'stdio' ? undefined : (s.command ?? process.execPath),
      args: s.args,
      env: s.env,
      url: s.url,
      headers: s.headers,
      timeoutMs: s.timeoutMs ?? 10_000,
      auth: s.auth ?? { type: 'unauthenticated' },
      catalogHash: hashJson(c),
      itemHashes: {
        tools: hashes(c.tools, 'name'),
        prompts: hashes(c.prompts, 'name'),
        resources: hashes(c.resources, 'uri'),
        resourceTemplates: hashes(c.resourceTemplates, 'uriTemplate'),
      },
    };
    gw.backends.push(backend);
    for (const t of c.tools) {
      if (typeof t?.name !== 'string') continue;
      const exposed = opts.prefix ? `${s.name}_${t.name}` : t.name;
      gw.tools[exposed] = { backend: i, name: t.name };
      lists.tools.push({ ...t, name: exposed });
    }
    for (const p of c.prompts) {
      const exposed = opts.prefix ? `${s.name}_${p.name}` : p.name;
      gw.prompts[exposed] = { backend: i, name: p.name };
      lists.prompts.push({ ...p, name: exposed });
    }
    for (const r of c.resources) {
      gw.resources[r.uri] = { backend: i, name: r.uri };
      lists.resources.push(r);
    }
    for (const t of c.resourceTemplates) {
      gw.resourceTemplates.push({ uriTemplate: t.uriTemplate, pattern: templatePattern(t.uriTemplate), backend: i });
      lists.resourceTemplates.push(t);
    }
    for (const k of ['tools', 'prompts', 'resources', 'completions', 'logging'])
      if (c.capabilities[k]) caps[k] = { ...caps[k], ...c.capabilities[k] };
  });
  gw.capabilities = { ...caps, tools: { ...caps.tools, listChanged: true } };
  gw.lists = {
    tools: JSON.stringify(lists.tools),
    prompts: JSON.stringify(lists.prompts),
    resources: JSON.stringify(lists.resources),
    resourceTemplates: JSON.stringify(lists.resourceTemplates),
  };
  return gw;
}

const TRANSPORT_IMPORTS: Record<TransportKind, [string, string]> = {
  stdio: ['stdioTransport', 'transports/stdio.ts'],
  'streamable-http': ['streamableHttpTransport', 'transports/streamable-http.ts'],
  sse: ['sseTransport', 'transports/sse.ts'],
};
const AUTH_IMPORTS: Record<string, [string, string]> = {
  unauthenticated: ['unauthenticated', 'auth/out/unauthenticated.ts'],
  header_injection: ['headerInjection', 'auth/out/header-injection.ts'],
};

/** Temp dirs this module made, removed after the importing test file's tests. */
const tempDirs: string[] = [];

function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-rt-'));
  tempDirs.push(dir);
  return dir;
}

// Vitest evaluates this module once per test file, so this hook runs after that file's tests (and
// after its own afterAll hooks stopped the gateways; a running bundle is already loaded anyway).
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes the entry module exactly as the compiler emits it, and bundles it; returns the bundle path. */
export async function bundleGateway(gw: CompiledGateway, dir = makeTempDir()): Promise<string> {
  const rt = join(REPO, 'runtime');
  const transports = [...new Set(gw.backends.map((b) => b.transport))].sort();
  const auths = [...new Set(gw.backends.map((b) => b.auth.type))].sort();
  const lines = [
    `import { startGateway } from '${rt}/index.ts';`,
    ...transports.map((t) => `import { ${TRANSPORT_IMPORTS[t][0]} } from '${rt}/${TRANSPORT_IMPORTS[t][1]}';`),
    ...auths.map((a) => `import { ${AUTH_IMPORTS[a][0]} } from '${rt}/${AUTH_IMPORTS[a][1]}';`),
    `import type { CompiledGateway } from '${rt}/compiled-gateway.ts';`,
    `export const GATEWAY: CompiledGateway = ${JSON.stringify(gw, null, 2)};`,
    `await startGateway(GATEWAY, { transports: { ${transports.map((t) => `'${t}': ${TRANSPORT_IMPORTS[t][0]}`).join(', ')} }, outgoingAuth: { ${auths.map((a) => `${a}: ${AUTH_IMPORTS[a][0]}`).join(', ')} } });`,
  ];
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `${lines.join('\n')}\n`);
  const outfile = join(dir, `${gw.name}.vmcp.mjs`);
  // The compiler's banner: bundled CommonJS (pino) calls require() for node built-ins.
  const banner = {
    js: 'import{createRequire as __vmcpCreateRequire}from"node:module";const require=__vmcpCreateRequire(import.meta.url);',
  };
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    logLevel: 'silent',
    banner,
  });
  return outfile;
}

/** A running gateway process. */
export interface RunningGateway {
  url: string;
  port: number;
  proc: ChildProcess;
  logs(): string;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `node bundle --port 0 …` and waits for the listening log line. */
export function runBundle(
  bundle: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningGateway> {
  const proc = spawn(process.execPath, [bundle, '--port', '0', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`gateway did not listen within 15 s:\n${logs}`)), 15_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      logs += chunk.toString();
      const m = /vmcp listening on (http:\/\/[^"\s]+:(\d+)\/mcp)/.exec(logs);
      if (m) {
        clearTimeout(timer);
        proc.stderr!.off('data', onData);
        proc.stderr!.on('data', (c: Buffer) => (logs += c.toString()));
        resolve({
          url: m[1],
          port: Number(m[2]),
          proc,
          logs: () => logs,
          stop: (signal = 'SIGTERM') => {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
            return exited;
          },
        });
      }
    };
    proc.stdout!.on('data', (c: Buffer) => (logs += c.toString()));
    proc.stderr!.on('data', onData);
    proc.once('exit', (c) => fail(new Error(`gateway exited with ${c} before listening:\n${logs}`)));
  });
}

/** Builds, bundles and runs a gateway over `specs`. */
export async function startGatewayOver(
  specs: BackendSpec[],
  opts: BuildOptions = {},
  args: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningGateway & { gateway: CompiledGateway; bundle: string }> {
  const gateway = await buildGateway(specs, opts);
  const bundle = await bundleGateway(gateway);
  return { ...(await runBundle(bundle, args, env)), gateway, bundle };
}

/** Polls `fn` until it returns truthy or `ms` passes. */
export async function waitFor<T>(fn: () => T | Promise<T>, ms = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** GETs a JSON ops endpoint of the gateway. */
export async function getJson(g: { port: number }, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${g.port}${path}`);
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Prometheus text stays a string.
  }
  return { status: res.status, body };
}

/** True while process `pid` exists (signal 0 only checks). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One backend's entry of the gateway's /status. */
export async function backendStatus(g: { port: number }, name: string): Promise<any> {
  return ((await getJson(g, '/status')).body.backends as any[]).find((b) => b.name === name);
}
