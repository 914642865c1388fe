/**
 * The runtime entry point a compiled bundle calls: `startGateway(GATEWAY, plugins)`. It never
 * imports a transport or auth strategy itself; the generated module passes the ones it uses.
 */
import { constants } from 'node:os';
import { parseArgs, USAGE } from './args.ts';
import { StartupError } from './env.ts';
import { GatewayCore } from './gateway.ts';
import { limitsOf } from './limits.ts';
import { sessionKeysFromEnv } from './session-keys.ts';
import { createLogger, resolveLogFormat, resolveLogLevel } from './log.ts';
import { installReloadHost, RELOAD_HOOK } from './dev-reload.ts';
import type { RuntimePlugins } from './plugins.ts';
import { resolveBackends } from './resolve-backends.ts';
import { startHttp, warmUp, type HttpFrontEnd } from './server/http.ts';
import { serveStdio } from './server/stdio.ts';
import { warmProtocol } from './warm-up.ts';
import type { CompiledGateway } from './compiled-gateway.ts';

export type {
  RuntimePlugins,
  TransportFactory,
  OutgoingAuthFactory,
  Wire,
  WireHooks,
  ResolvedBackend,
} from './plugins.ts';
export { StartupError } from './env.ts';

const osSignals = constants.signals as Partial<Record<NodeJS.Signals, number>>;

/** How long shutdown waits for in-flight calls before closing everything. */
export const DRAIN_MS = 5000;

/** A started gateway. */
export interface RunningGateway {
  /** `http://host:port/mcp`, or undefined in stdio mode. */
  url: string | undefined;
  /** The bound port (the real one when started with `--port 0`), or undefined in stdio mode. */
  port: number | undefined;
  /** Status snapshot, as served on /status. */
  status(): Record<string, unknown>;
  /** Graceful stop: stop accepting, drain in-flight calls, close backends (kills children). */
  close(): Promise<void>;
}

/** Starts the gateway described by `gateway`; exits the process with code 1 on a start-up error. */
export async function startGateway(
  gateway: CompiledGateway,
  plugins: RuntimePlugins,
  argv: string[] = process.argv.slice(2),
): Promise<RunningGateway> {
  // A bundle imported by a dev-mode reload hands its build to the running gateway.
  const reload = (globalThis as Record<symbol, unknown>)[RELOAD_HOOK];
  if (typeof reload === 'function') return reload(gateway, plugins) as RunningGateway;
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv, process.env);
  } catch (err) {
    return fail(err);
  }
  const log = createLogger(
    { gateway: gateway.name },
    resolveLogLevel(gateway.operational.logLevel),
    undefined,
    resolveLogFormat(args.logFormat),
  );
  let core: GatewayCore;
  let resolved: ReturnType<typeof resolveBackends>;
  try {
    if (args.dumpGateway || args.help) {
      // Inspection modes: no backend is started and no env secret is resolved.
      process.stdout.write(args.help ? `${USAGE}\n` : `${JSON.stringify(gateway)}\n`, () => process.exit(0));
      return await new Promise<never>(() => {});
    }
    const limits = limitsOf(gateway);
    const sessionKeys = sessionKeysFromEnv(process.env, gateway.name, limits.sessionMaxAgeMs);
    if (gateway.sharedStore && !plugins.sharedStore)
      throw new StartupError('sessionStorage redis is configured but the bundle has no Redis client');
    if (gateway.sharedStore && !sessionKeys)
      log.warn(
        {},
        'sessionStorage redis is configured but VMCP_SESSION_KEY is not set: sessions stay on one replica, so only rate limits are shared',
      );
    const sharedStore =
      gateway.sharedStore && plugins.sharedStore
        ? plugins.sharedStore(gateway.sharedStore, { gateway: gateway.name, log, env: process.env })
        : undefined;
    resolved = resolveBackends(gateway, plugins, process.env, log);
    core = new GatewayCore(gateway, resolved, plugins, log, sessionKeys, sharedStore);
  } catch (err) {
    return fail(err);
  }
  let http: HttpFrontEnd | undefined;
  let closing: Promise<void> | undefined;
  const close = (drainDelayMs = 0) => (closing ??= shutdown(core, http, log, drainDelayMs));
  const exit = (code: number, drainDelayMs = 0) => void close(drainDelayMs).then(() => process.exit(code));
  core.onFatal = (message) => {
    log.error({}, message);
    process.stderr.write(`vmcp: error: ${message}\n`);
    exit(1);
  };
  process.on('unhandledRejection', (err) =>
    log.error({ error: err instanceof Error ? err.message : String(err) }, 'unhandled rejection'),
  );
  // stdio backends run in their own process groups, so Ctrl-C or a hangup reaches only us. The
  // first signal shuts down (killing them); a second exits at once, and the stdio transport's
  // 'exit' hook SIGKILLs them. A signal's default action would skip that hook and orphan them.
  // SIGTERM (a rolling update, an eviction) keeps serving for the drain delay after readiness turns 503.
  const onSignal = (sig: NodeJS.Signals) =>
    closing ? process.exit(128 + (osSignals[sig] ?? 0)) : exit(0, sig === 'SIGTERM' ? args.drainDelayMs : 0);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  if (args.stdio) {
    core.start();
    log.info({ mode: 'stdio', backends: core.backends.length }, 'vmcp serving on stdio');
    void serveStdio(core).then(() => exit(0));
    return { url: undefined, port: undefined, status: () => core.status(), close };
  }
  try {
    http = await startHttp(core, args.host, args.port);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail(new StartupError(listenError(args.host, args.port, e)));
  }
  try {
    const self = replicaUrl(process.env.VMCP_ADVERTISE_URL, args.host, http.port);
    if (core.sessionKeys && self) core.setReplicaUrl(self);
    else if (core.sessionKeys)
      log.info(
        {},
        "listening on every address: set VMCP_ADVERTISE_URL (this replica's http://<address>:<port>/mcp) so replicas can relay clients' answers to elicitation and sampling",
      );
  } catch (err) {
    await http.close(0);
    return fail(err);
  }
  // Both: the probe warms this listener's own connection path (without it the first client's
  // exchange measured about 1 ms slower), the throwaway session the request path behind it.
  await warmUp(http, args.host);
  const warmed = await warmProtocol(gateway, resolved, plugins);
  log.debug({ ...warmed }, 'warm-up: one throwaway session through a throwaway core (the real one saw nothing)');
  core.start();
  if (args.devReload && process.send) {
    const front = http;
    installReloadHost(
      {
        current: () => core,
        swap: (next) => {
          front.swap(next);
          core = next;
        },
        log,
      },
      (reply) => process.send?.(reply),
    );
    // The serve process is gone (killed, crashed): a dev server has no one to reload it.
    process.on('disconnect', () => exit(0));
    process.send({ type: 'vmcp:listening' });
  }
  log.info({ url: http.url, port: http.port, backends: core.backends.length }, `vmcp listening on ${http.url}`);
  return { url: http.url, port: http.port, status: () => core.status(), close };
}

async function shutdown(
  core: GatewayCore,
  http: HttpFrontEnd | undefined,
  log: ReturnType<typeof createLogger>,
  drainDelayMs: number,
): Promise<void> {
  // Readiness is 503 from now on, so load balancers send new requests to other replicas.
  core.draining = true;
  if (http && drainDelayMs > 0) {
    log.info(
      { drainDelayMs },
      'draining: /readyz answers 503; serving until load balancers stop sending requests here',
    );
    await new Promise((r) => setTimeout(r, drainDelayMs));
  }
  log.info({ inflight: core.inflightCalls() }, 'shutting down: draining in-flight calls');
  const stopped = http?.close(DRAIN_MS);
  for (const s of core.sessions.values()) s.endStream?.();
  const deadline = Date.now() + DRAIN_MS;
  // Scoped upstreams (per-session, per-subject) carry calls too: drain them like the shared ones.
  while (Date.now() < deadline && core.inflightCalls() > 0) await new Promise((r) => setTimeout(r, 20));
  http?.server.closeAllConnections();
  await stopped;
  await core.close();
  log.info({}, 'stopped');
}

/** Why the gateway cannot listen, and what to do next. */
export function listenError(host: string, port: number, e: NodeJS.ErrnoException): string {
  const at = `${host}:${port}`;
  if (e.code === 'EADDRINUSE')
    return `port ${port} on ${host} is already in use (another vmcp, or another server): start with --port <other port>, or --port 0 for any free port`;
  if (e.code === 'EACCES')
    return `not allowed to listen on ${at}: ports below 1024 need privileges; use --port 4483 (or any port above 1023)`;
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND')
    return `cannot listen on ${at}: this machine has no address ${host}; use --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every address)`;
  return `cannot listen on ${at}: ${e.code ?? e.message}`;
}

/**
 * This replica's /mcp URL as other replicas reach it: VMCP_ADVERTISE_URL (on Kubernetes,
 * http://$(POD_IP):<port>/mcp), else the bound address when it is a specific one. Undefined when
 * bound to every address with no advertised URL (replicas then cannot relay answers to this one).
 */
export function replicaUrl(advertised: string | undefined, host: string, port: number): string | undefined {
  if (advertised) {
    let u: URL | undefined;
    try {
      u = new URL(advertised);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
      throw new StartupError(
        `VMCP_ADVERTISE_URL is "${advertised}", not an http(s) URL; set this replica's own URL, e.g. http://10.0.0.7:8080/mcp`,
      );
    return u.href;
  }
  if (host === '0.0.0.0' || host === '::' || host === '') return undefined;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/mcp`;
}

function fail(err: unknown): never {
  if (err instanceof StartupError) {
    process.stderr.write(`vmcp: error: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
