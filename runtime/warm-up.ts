/**
 * A fresh process answers its first MCP requests several milliseconds slower than later ones: V8
 * compiles each function the first time it runs, and a session's first initialize, tools/list and
 * DELETE run a few hundred of them (bench/README.md, "Cold start"). Before the gateway says it
 * listens, one throwaway session runs that sequence against a throwaway GatewayCore, served on its
 * own loopback port by the same HTTP front end. The code is shared, so the first real client does
 * not pay for compiling it; the state is not: no session, metric, audit line, span, rate-limit token
 * or backend of the real gateway sees the warm-up. It is best effort: any failure only skips it.
 */
import { Agent, request } from 'node:http';
import type { CompiledGateway } from './compiled-gateway.ts';
import { GatewayCore } from './gateway.ts';
import { createLogger } from './log.ts';
import type { ResolvedBackend, RuntimePlugins } from './plugins.ts';
import { LEGACY_VERSIONS } from './protocol/envelope.ts';
import { startHttp } from './server/http.ts';

/** The whole warm-up gives up after this long (it normally takes a few milliseconds). */
const WARM_UP_MS = 2000;

/** The requests of a client's first session, in the order clients send them. */
const SEQUENCE: ReadonlyArray<{ method: string; id?: number }> = [
  { method: 'initialize', id: 1 },
  { method: 'notifications/initialized' },
  { method: 'tools/list', id: 2 },
  { method: 'prompts/list', id: 3 },
  { method: 'resources/list', id: 4 },
];

/**
 * The gateway as the warm-up serves it: the same catalog and routes, without what would act
 * outside the throwaway core (incoming auth, rate limits, a shared store) or cost a second start-up
 * (the optimizer's index). Observers are left out by the caller.
 */
function warmGateway(gw: CompiledGateway): CompiledGateway {
  return { ...gw, incomingAuth: undefined, rateLimits: undefined, sharedStore: undefined, optimizer: undefined };
}

/** What the warm-up did: requests answered, and why it stopped early if it did. */
export interface WarmUpResult {
  answered: number;
  ms: number;
  skipped?: string;
}

/** Runs one throwaway session's first requests through a throwaway core; never throws. */
export async function warmProtocol(
  gw: CompiledGateway,
  resolved: ResolvedBackend[],
  plugins: RuntimePlugins,
): Promise<WarmUpResult> {
  const began = performance.now();
  let answered = 0;
  const result = (skipped?: string): WarmUpResult => ({
    answered,
    ms: Math.round((performance.now() - began) * 100) / 100,
    ...(skipped ? { skipped } : {}),
  });
  let core: GatewayCore | undefined;
  let front: Awaited<ReturnType<typeof startHttp>> | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const silent = createLogger({}, 'silent', () => {});
    core = new GatewayCore(warmGateway(gw), resolved, { ...plugins, observers: [], optimizer: undefined }, silent);
    front = await startHttp(core, '127.0.0.1', 0);
    const port = front.port;
    const deadline = Date.now() + WARM_UP_MS;
    let session: string | undefined;
    const send = (method: string, body: string) =>
      new Promise<void>((resolve, reject) => {
        const headers: Record<string, string | number> = {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': Buffer.byteLength(body),
        };
        if (session) {
          headers['mcp-session-id'] = session;
          headers['mcp-protocol-version'] = LEGACY_VERSIONS[0];
        }
        const req = request({ agent, host: '127.0.0.1', port, path: '/mcp', method, headers }, (res) => {
          const id = res.headers['mcp-session-id'];
          if (typeof id === 'string') session = id;
          const ok = (res.statusCode ?? 0) < 300;
          res.resume();
          res.on('end', () => {
            if (!ok) return reject(new Error(`${method} answered HTTP ${res.statusCode}`));
            answered++;
            resolve();
          });
          res.on('error', reject);
        });
        req.setTimeout(Math.max(1, deadline - Date.now()), () => req.destroy(new Error('warm-up timed out')));
        req.on('error', reject);
        req.end(body);
      });
    for (const { method, id } of SEQUENCE) {
      const params =
        method === 'initialize'
          ? {
              protocolVersion: LEGACY_VERSIONS[0],
              capabilities: {},
              clientInfo: { name: 'vmcp-warm-up', version: '1' },
            }
          : undefined;
      await send('POST', JSON.stringify({ jsonrpc: '2.0', ...(id === undefined ? {} : { id }), method, params }));
      if (!session) return result('no session id');
    }
    await send('DELETE', '');
    return result();
  } catch (err) {
    // Best effort: a gateway that cannot warm up still starts, only its first answers are slower.
    return result((err as Error).message);
  } finally {
    agent.destroy();
    await front?.close(0).catch(() => {});
    await core?.close().catch(() => {});
  }
}
