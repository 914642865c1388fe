/** The downstream HTTP server: `/mcp` for both eras, plus /health, /readyz, /status and /metrics. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { GatewayCore } from '../gateway.ts';
import { ERR } from '../jsonrpc.ts';
import { AuthFailure, type Principal } from '../plugins.ts';
import { HttpExchange } from './http-exchange.ts';
import { handleLegacyDelete, handleLegacyGet, handleLegacyPost } from './legacy.ts';
import { cancelModern, serveModern } from '../protocol/modern.ts';
import { sendJson, sendJsonError } from './respond.ts';
import { checkPostHeaders, classifyPost, type Refusal } from '../protocol/inbound.ts';
import { hostAllowed, isLoopbackHost, originAllowed } from './dns-rebinding.ts';
import { MAX_PASSTHROUGH_VALUE_BYTES, pickPassthrough, restrictedHeaderReason } from '../passthrough-headers.ts';
import { StartupError } from '../env.ts';
import { originOf } from '../call-context.ts';
import { RELAYED_HEADER, relay } from './relay.ts';

/** Largest accepted POST body. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A listening HTTP front end. */
export interface HttpFrontEnd {
  server: Server;
  port: number;
  url: string;
  /** Stops accepting connections; resolves when in-flight responses are done or `graceMs` passed. */
  close(graceMs: number): Promise<void>;
  /** Dev mode (`vmcp serve --watch`): requests from now on go to `next` (requests in flight finish on the old one). */
  swap(next: GatewayCore): void;
}

/** Starts listening on host:port (port 0 picks a free one). */
export function startHttp(core: GatewayCore, host: string, port: number): Promise<HttpFrontEnd> {
  const loopback = isLoopbackHost(host);
  if (!loopback && !core.incoming)
    core.log.warn(
      { host },
      `anonymous incoming auth on ${host}: every client that can reach the port can call every tool; bind to 127.0.0.1 or use incomingAuth oidc`,
    );
  let passthrough = passthroughOf(core);
  let current = core;
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const core = current;
    core.lastRequestAt = performance.now();
    handle(core, req, res, loopback, passthrough).catch((err) => {
      core.log.error({ error: (err as Error).message }, 'request handler failed');
      sendJsonError(res, 500, ERR.INTERNAL, 'Internal server error');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const actual = (server.address() as AddressInfo).port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        server,
        port: actual,
        url: `http://${shownHost}:${actual}/mcp`,
        close: (graceMs) => closeServer(server, graceMs),
        swap: (next) => {
          passthrough = passthroughOf(next);
          current = next;
        },
      });
    });
  });
}

/** The compiled passthrough list, checked again (a hand-edited bundle); undefined when off. */
function passthroughOf(core: GatewayCore): readonly string[] | undefined {
  const names = core.gw.passthroughHeaders;
  if (!names?.length) return undefined;
  for (const n of names) {
    const why = restrictedHeaderReason(n);
    if (why || n !== n.toLowerCase())
      throw new StartupError(`passthroughHeaders: "${n}" may not be forwarded (${why})`);
  }
  return names;
}

async function handle(
  core: GatewayCore,
  req: IncomingMessage,
  res: ServerResponse,
  loopback: boolean,
  passthrough: readonly string[] | undefined,
): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  // While draining, every answer closes its connection, so clients' next requests open new ones
  // (which a load balancer sends to another replica).
  if (core.draining) res.setHeader('connection', 'close');
  // Probes reveal nothing, so they answer whatever Host a load balancer or kubelet sends (HAProxy's
  // check is HTTP/1.0 with no Host; a kubelet sends the pod's IP). Everything else is checked below.
  if ((path === '/health' || path === '/readyz') && (req.method === 'GET' || req.method === 'HEAD')) {
    if (path === '/health') return sendJson(res, 200, '{"status":"ok"}');
    if (core.ready()) return sendJson(res, 200, '{"status":"ready"}');
    return sendJson(res, 503, core.draining ? '{"status":"draining"}' : '{"status":"not ready"}');
  }
  // DNS-rebinding protection applies to every other endpoint, ops included.
  if (!hostAllowed(req.headers.host, loopback))
    return sendJsonError(res, 403, ERR.CONNECTION_CLOSED, `Forbidden: invalid Host header: ${req.headers.host}`);
  if (!originAllowed(req.headers.origin, req.headers.host, loopback))
    return sendJsonError(res, 403, ERR.CONNECTION_CLOSED, `Forbidden: invalid Origin header: ${req.headers.origin}`);
  if (path === '/mcp') {
    if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE') {
      return sendJsonError(res, 405, ERR.CONNECTION_CLOSED, 'Method not allowed.', null, undefined, {
        allow: 'GET, POST, DELETE',
      });
    }
    let principal: Principal | undefined;
    if (core.incoming) {
      try {
        principal = await core.incoming.authenticate(req.headers.authorization);
      } catch (err) {
        return refuse(core, req, res, err);
      }
    }
    // Only gateways with passthroughHeaders pay for the pick; the rest pass undefined along.
    let forward: Record<string, string> | undefined;
    if (passthrough) {
      const pick = pickPassthrough(passthrough, req.headers);
      if ('tooLong' in pick)
        return sendJsonError(
          res,
          431,
          ERR.INVALID_REQUEST,
          `Request Header Fields Too Large: ${pick.tooLong} is over ${MAX_PASSTHROUGH_VALUE_BYTES} bytes`,
        );
      forward = pick.headers;
    }
    if (req.method === 'POST') return post(core, req, res, principal, forward);
    if (req.method === 'GET') return handleLegacyGet(core, req, res, principal);
    return handleLegacyDelete(core, req, res, principal);
  }
  if (path === PRM_PATH || path === '/.well-known/oauth-protected-resource') {
    if (req.method !== 'GET') return sendJsonError(res, 405, ERR.CONNECTION_CLOSED, 'Method not allowed.');
    if (!core.incoming?.resourceMetadata)
      return sendJsonError(res, 404, ERR.CONNECTION_CLOSED, 'Not found: this gateway does not require authorization');
    return sendJson(res, 200, core.incoming.resourceMetadata(resourceUrl(req)));
  }
  if (req.method !== 'GET') return sendJsonError(res, 405, ERR.CONNECTION_CLOSED, 'Method not allowed.');
  if (path === '/status') return sendJson(res, 200, core.status());
  if (path === '/metrics') {
    const text = core.metricsText();
    return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text);
  }
  sendJsonError(res, 404, ERR.CONNECTION_CLOSED, 'Not found');
}

/** RFC 9728 metadata for the resource at /mcp (the well-known prefix inserted before the path). */
const PRM_PATH = '/.well-known/oauth-protected-resource/mcp';

/** The gateway's resource URL as the client reached it (the Host header is validated above). */
function resourceUrl(req: IncomingMessage): string {
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return `${proto}://${req.headers.host ?? 'localhost'}/mcp`;
}

/** 401 (or 403 for missing scope) with an RFC 6750 WWW-Authenticate that points at the RFC 9728 metadata. */
function refuse(core: GatewayCore, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const f = err instanceof AuthFailure ? err : new AuthFailure(401, 'invalid_token', 'the token could not be verified');
  if (!(err instanceof AuthFailure))
    core.log.error({ error: (err as Error)?.message }, 'incoming auth failed unexpectedly');
  core.observer.event?.({ type: 'auth_failure', remoteAddress: req.socket.remoteAddress, reason: f.message });
  const base = resourceUrl(req);
  const metadata = `${base.slice(0, base.length - '/mcp'.length)}${PRM_PATH}`;
  const quote = (s: string) => s.replace(/["\\]/g, "'");
  let challenge = `Bearer resource_metadata="${metadata}"`;
  // RFC 6750 §3.1: a request without credentials gets no error code.
  if (req.headers.authorization) challenge += `, error="${f.error}", error_description="${quote(f.message)}"`;
  if (f.scope) challenge += `, scope="${quote(f.scope)}"`;
  const message = f.status === 403 ? `Forbidden: ${f.message}` : `Unauthorized: ${f.message}`;
  sendJsonError(res, f.status, ERR.CONNECTION_CLOSED, message, null, undefined, { 'www-authenticate': challenge });
}

async function post(
  core: GatewayCore,
  req: IncomingMessage,
  res: ServerResponse,
  principal: Principal | undefined,
  forward: Record<string, string> | undefined,
): Promise<void> {
  const early = checkPostHeaders(req.headers);
  if (early) return refuseWith(res, early);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return tooLarge(req, res);
  const body = await readBody(req);
  if (body === undefined) return tooLarge(req, res);
  const decision = classifyPost(req.headers, body);
  if (decision.kind === 'refuse') return refuseWith(res, decision);
  const msg = decision.msg;
  if (core.replica) {
    // A client's answer for a call another replica holds goes there (see relay.ts).
    const target = core.relayTarget(msg, decision.kind !== 'legacy', req.headers[RELAYED_HEADER] !== undefined);
    if (target) return relay(core, target, req, res, body, msg);
  }
  const origin = originOf(req.socket.remoteAddress, req.headers);
  if (decision.kind === 'legacy') return handleLegacyPost(core, req, res, msg, principal, forward, origin);
  if (decision.kind === 'modern-notification') {
    if (msg.method === 'notifications/cancelled') cancelModern(core, principal, msg.params?.requestId);
    return void res.writeHead(202).end();
  }
  const exchange = new HttpExchange(res);
  await serveModern(core, msg, exchange, (abort) => res.on('close', abort), principal, forward, origin);
}

/** Sends a protocol-layer refusal as its HTTP status and JSON-RPC error. */
function refuseWith(res: ServerResponse, r: Refusal): void {
  sendJsonError(res, r.status, r.code, r.message, r.id ?? null, r.data);
}

function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  sendJsonError(res, 413, ERR.INVALID_REQUEST, `Payload Too Large: the request body exceeds ${MAX_BODY_BYTES} bytes`);
  // Drain a moderately oversized body so the client sees the 413 instead of EPIPE; cut off abuse.
  let drained = 0;
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > 4 * MAX_BODY_BYTES) req.destroy();
  });
  req.resume();
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        resolve(undefined);
      } else chunks.push(c);
    });
    req.on('end', () =>
      resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * One GET /health over loopback before the gateway says it listens: a fresh process runs its first
 * HTTP exchange several milliseconds slower (node:http's code is loaded and compiled on first use),
 * and that should not be the first client's wait. A probe touches no session, metric or audit log.
 */
export function warmUp(front: HttpFrontEnd, host: string): Promise<void> {
  const target = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return new Promise((resolve) => {
    const socket = connect(front.port, target);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 1000);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', () => {});
    socket.on('end', done);
    socket.end('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  });
}
