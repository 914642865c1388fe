/**
 * The systems under test: the echo fixture (direct), the baseline SDK proxy, and a compiled vmcp
 * bundle. Every backend is the echo fixture; every gateway listens on 127.0.0.1 with port 0.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient, StdioClient, type RpcClient } from './mcp-client.ts';
import { BASELINE, ECHO, VMCP_CLI, spawnNode, stop, waitForListening, type Spawned } from './procs.ts';

/** A backend: the echo fixture over stdio (with env knobs) or an already running HTTP one. */
export type BackendSpec = { name: string; env?: Record<string, string> } | { name: string; url: string };

export type GatewayKind = 'baseline' | 'vmcp';
export type TargetKind = 'direct' | GatewayKind;

export interface Gateway {
  kind: GatewayKind;
  proc: Spawned;
  url: string;
  /** ms from spawn to the listening line. */
  startMs: number;
  /** performance.now() when the listening line arrived. */
  listenedAt: number;
}

const LISTEN_TIMEOUT_MS = 60_000;

/** A scratch directory under the OS temp dir; removed by the returned function. */
export function scratch(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `vmcp-bench-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The echo fixture over Streamable HTTP. */
export async function startEchoHttp(env: Record<string, string> = {}): Promise<{ proc: Spawned; url: string }> {
  const proc = spawnNode([ECHO, '--http', '0'], { env });
  const { port } = await waitForListening(proc, LISTEN_TIMEOUT_MS);
  return { proc, url: `http://127.0.0.1:${port}/mcp` };
}

/** A direct client of the backend: HTTP to a running fixture, or a spawned stdio fixture. */
export async function connectDirect(spec: BackendSpec): Promise<RpcClient> {
  return 'url' in spec ? HttpClient.connect(spec.url) : StdioClient.spawn([ECHO], spec.env);
}

export async function startBaseline(backends: BackendSpec[], dir: string): Promise<Gateway> {
  const file = join(dir, 'baseline.json');
  const list = backends.map((b) =>
    'url' in b
      ? { name: b.name, url: b.url }
      : { name: b.name, command: process.execPath, args: [ECHO], env: b.env ?? {} },
  );
  writeFileSync(file, JSON.stringify({ backends: list }));
  return listen('baseline', spawnNode([BASELINE, '--config', file, '--port', '0']));
}

/**
 * The vmcp config for `backends` (JSON is YAML). Tools are exposed as `<backend>_<tool>`, like the
 * baseline. With one backend that is the prefix strategy. Several echo fixtures serve the same
 * resource URIs, which vmcp (rightly) refuses to merge under the prefix strategy, so there each
 * fixture names its own tools (ECHO_PREFIX=<backend>_) and the priority strategy settles the
 * duplicate prompt and resources; the exposed tool names are the same as with prefixing.
 */
export function vmcpConfig(name: string, backends: BackendSpec[]): object {
  const multi = backends.length > 1;
  return {
    name,
    backends: backends.map((b) => {
      if ('url' in b) return { name: b.name, transport: 'streamable-http', url: b.url };
      const env = { ...(b.env ?? {}), ...(multi ? { ECHO_PREFIX: `${b.name}_` } : {}) };
      return { name: b.name, transport: 'stdio', command: process.execPath, args: [ECHO], env };
    }),
    aggregation: multi
      ? { conflictResolution: 'priority', conflictResolutionConfig: { priorityOrder: backends.map((b) => b.name) } }
      : { conflictResolution: 'prefix', conflictResolutionConfig: { prefixFormat: '{workload}_' } },
  };
}

export interface Compiled {
  bundle: string;
  compileMs: number;
  bundleBytes: number;
}

/**
 * `vmcp compile` (live introspection) of `backends` in `dir`; returns the bundle path. `cli` picks
 * another checkout's `bin/vmcp.mjs` (bench/ab.ts compares two builds of the runtime).
 */
export async function compileVmcp(
  backends: BackendSpec[],
  dir: string,
  name = 'bench',
  timeoutMs = 180_000,
  cli = VMCP_CLI,
): Promise<Compiled> {
  writeFileSync(join(dir, 'vmcp.yaml'), JSON.stringify(vmcpConfig(name, backends), null, 2));
  const t0 = performance.now();
  const proc = spawnNode([cli, 'compile', '-c', 'vmcp.yaml', '-o', 'dist'], { cwd: dir });
  let out = '';
  proc.child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      void stop(proc);
      resolve(null);
    }, timeoutMs);
    proc.child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const compileMs = performance.now() - t0;
  if (code !== 0) {
    throw new Error(
      `vmcp compile failed (${code === null ? `timed out after ${timeoutMs} ms` : `exit ${code}`}): ${(out + proc.stderr()).slice(-3000)}`,
    );
  }
  const bundle = join(dir, 'dist', `${name}.vmcp.mjs`);
  return { bundle, compileMs, bundleBytes: statSync(bundle).size };
}

export function startVmcp(bundle: string, extraNodeArgs: string[] = []): Promise<Gateway> {
  return listen('vmcp', spawnNode([...extraNodeArgs, bundle, '--host', '127.0.0.1', '--port', '0']));
}

async function listen(kind: GatewayKind, proc: Spawned): Promise<Gateway> {
  try {
    const { port, at } = await waitForListening(proc, LISTEN_TIMEOUT_MS);
    return { kind, proc, url: `http://127.0.0.1:${port}/mcp`, startMs: at - proc.startedAt, listenedAt: at };
  } catch (e) {
    await stop(proc);
    throw new Error(`${kind} did not start: ${(e as Error).message}`);
  }
}

/** Starts a gateway of `kind`; vmcp needs a bundle compiled beforehand for the same backends. */
export function startGateway(
  kind: GatewayKind,
  backends: BackendSpec[],
  dir: string,
  bundle?: string,
): Promise<Gateway> {
  if (kind === 'baseline') return startBaseline(backends, dir);
  if (!bundle) throw new Error('vmcp: no bundle');
  return startVmcp(bundle);
}

/** The name a gateway exposes for backend `b`'s tool `t`. */
export const exposed = (b: string, t: string) => `${b}_${t}`;

/** A connected client of one target, with how that target names tools. */
export interface Opened {
  kind: TargetKind;
  client: RpcClient;
  gw?: Gateway;
  tool(backend: string, tool: string): string;
  close(): Promise<void>;
}

/** Opens `kind` over `backends` (direct: the first backend only); vmcp needs `bundle`. */
export async function openTarget(
  kind: TargetKind,
  backends: BackendSpec[],
  dir: string,
  bundle?: string,
): Promise<Opened> {
  if (kind === 'direct') {
    const client = await connectDirect(backends[0]);
    return { kind, client, tool: (_b, t) => t, close: () => client.close() };
  }
  const gw = await startGateway(kind, backends, dir, bundle);
  try {
    const client = await HttpClient.connect(gw.url);
    return {
      kind,
      client,
      gw,
      tool: exposed,
      close: async () => {
        await client.close();
        await stop(gw.proc);
      },
    };
  } catch (e) {
    await stop(gw.proc);
    throw e;
  }
}
