/** 2025-11-25 (and earlier 2025) sessions over Streamable HTTP: initialize, session ids, GET, DELETE. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOG_LEVELS, cancelCall, type CallContext, type RequestOrigin } from '../call-context.ts';
import { SESSIONS_RETRY_AFTER_S, type GatewayCore } from '../gateway.ts';
import { ERR, errorJson, notificationJson, resultJson } from '../jsonrpc.ts';
import type { JsonRpcMessage, Principal } from '../plugins.ts';
import { HttpExchange, streamBound, writeSse } from './http-exchange.ts';
import { errorAnswer } from '../protocol/errors.ts';
import { lookupSession } from '../protocol/session-rules.ts';
import { Session } from '../protocol/session.ts';
import { sendJsonError } from './respond.ts';

/** Handles a POST that carries no 2026 envelope. */
export async function handleLegacyPost(
  core: GatewayCore,
  req: IncomingMessage,
  res: ServerResponse,
  msg: JsonRpcMessage,
  principal?: Principal,
  forward?: Record<string, string>,
  origin: RequestOrigin = {},
): Promise<void> {
  if (msg.method === 'initialize') {
    if (msg.id === undefined || msg.id === null)
      return sendJsonError(res, 400, ERR.INVALID_REQUEST, 'Bad Request: initialize must be a request');
    const caps = msg.params?.capabilities ?? {};
    const version = core.negotiatedVersion(msg.params?.protocolVersion);
    // With VMCP_SESSION_KEY the id is a signed token any replica can restore the session from.
    const issued = core.sessionKeys?.issue({ pk: principal?.key, caps, pv: version });
    const session = new Session(issued?.id ?? randomUUID(), version, caps, core.timers);
    session.principalKey = principal?.key;
    session.sid = issued?.claims.sid;
    // Authenticated callers are counted per subject; anonymous ones per remote address.
    const refused = core.admitSession(
      session,
      principal ? `p:${principal.key}` : `a:${req.socket.remoteAddress ?? ''}`,
    );
    if (refused) {
      core.noteRefusedSession(refused);
      return sendJsonError(res, 503, ERR.CONNECTION_CLOSED, `Service Unavailable: ${refused}`, msg.id, undefined, {
        'retry-after': String(SESSIONS_RETRY_AFTER_S),
      });
    }
    core.observeInitialize(session, msg, principal, origin);
    const json = resultJson(msg.id, core.initializeResult(msg.params?.protocolVersion));
    res
      .writeHead(200, {
        'content-type': 'application/json',
        'mcp-session-id': session.id,
        'content-length': Buffer.byteLength(json),
      })
      .end(json);
    return;
  }
  if (core.sharedStore) await core.checkRevoked(sessionHeader(req));
  const session = findSession(core, req, res, principal);
  if (!session) return;
  if (msg.method === undefined) {
    // A client's answer to one of our server→client requests.
    session.resolveClient(msg);
    return void res.writeHead(202).end();
  }
  if (msg.id === undefined || msg.id === null) {
    if (msg.method === 'notifications/cancelled') cancelCall(session.inflight.get(msg.params?.requestId));
    return void res.writeHead(202).end();
  }
  const exchange = new HttpExchange(res, {}, core.postStreamBound);
  if (msg.method === 'logging/setLevel') {
    const level = LOG_LEVELS.indexOf(msg.params?.level);
    if (level < 0)
      return exchange.end(
        errorJson(msg.id, { code: ERR.INVALID_PARAMS, message: `Invalid log level: ${msg.params?.level}` }),
      );
    session.logLevel = level;
    core.updateLogLevels();
    return exchange.end(resultJson(msg.id, '{}'));
  }
  const ctx: CallContext = {
    notify: (method, params) => exchange.write(notificationJson(method, params)),
    request: (method, params) => session.request(method, params, (json) => exchange.write(json)),
    clientCapabilities: session.clientCapabilities,
    sessionId: session.id,
    principal,
    forwardHeaders: forward,
    requestId: msg.id,
    ...origin,
  };
  session.inflight.set(msg.id, ctx);
  res.on('close', () => {
    if (!exchange.done) cancelCall(ctx);
  });
  try {
    exchange.end(resultJson(msg.id, await core.router.dispatch(msg.method, msg.params, ctx, false)));
  } catch (err) {
    if (ctx.cancelled) exchange.abandon();
    else {
      const { error, status, headers } = errorAnswer(err);
      if (status !== 200) exchange.fail(errorJson(msg.id, error), status, headers);
      else exchange.end(errorJson(msg.id, error));
    }
  } finally {
    session.inflight.delete(msg.id);
  }
}

/** GET /mcp: the standalone SSE stream for logging and list_changed notifications. */
export function handleLegacyGet(
  core: GatewayCore,
  req: IncomingMessage,
  res: ServerResponse,
  principal?: Principal,
): void {
  if (!String(req.headers.accept ?? '').includes('text/event-stream')) {
    return sendJsonError(res, 406, ERR.CONNECTION_CLOSED, 'Not Acceptable: Client must accept text/event-stream');
  }
  const session = findSession(core, req, res, principal);
  if (!session) return;
  if (session.push)
    return sendJsonError(res, 409, ERR.CONNECTION_CLOSED, 'Conflict: Only one SSE stream is allowed per session');
  // A client that stops reading is cut at the buffer limit; 'close' below clears the session's stream.
  const bound = streamBound(core.limits.maxStreamBufferBytes, core.log, { stream: '2025 GET', session: session.id });
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache, no-transform',
    'mcp-session-id': session.id,
  });
  res.write(': stream open\n\n');
  const push = (json: string) => void writeSse(res, `event: message\ndata: ${json}\n\n`, bound);
  session.push = push;
  session.endStream = () => res.end();
  const keepAlive = setInterval(() => writeSse(res, ': keepalive\n\n', bound), 25_000);
  keepAlive.unref();
  res.on('close', () => {
    clearInterval(keepAlive);
    if (session.push === push) session.push = undefined;
  });
}

/** DELETE /mcp: ends the session. */
export async function handleLegacyDelete(
  core: GatewayCore,
  req: IncomingMessage,
  res: ServerResponse,
  principal?: Principal,
): Promise<void> {
  if (core.sharedStore) await core.checkRevoked(sessionHeader(req));
  const session = findSession(core, req, res, principal);
  if (!session) return;
  core.endSession(session.id);
  res.writeHead(200).end();
}

/** The Mcp-Session-Id header, when there is exactly one. */
function sessionHeader(req: IncomingMessage): string {
  const id = req.headers['mcp-session-id'];
  return typeof id === 'string' ? id : '';
}

function findSession(
  core: GatewayCore,
  req: IncomingMessage,
  res: ServerResponse,
  principal: Principal | undefined,
): Session | undefined {
  let restoredFull = false;
  // A session another replica created (or this one dropped when idle) comes back from its signed id.
  const sessions = {
    get: (id: string) => {
      const held = core.sessions.get(id);
      if (held || !core.sessionKeys) return held;
      const restored = core.restoreSession(id, principal?.key, req.socket.remoteAddress);
      restoredFull = restored === 'full';
      return restored === 'full' ? undefined : restored;
    },
  };
  const found = lookupSession(sessions, req.headers, principal?.key);
  if (restoredFull) {
    sendJsonError(
      res,
      503,
      ERR.CONNECTION_CLOSED,
      'Service Unavailable: this replica holds its maximum of sessions',
      null,
      undefined,
      {
        'retry-after': String(SESSIONS_RETRY_AFTER_S),
      },
    );
    return undefined;
  }
  if ('kind' in found) {
    sendJsonError(res, found.status, found.code, found.message);
    return undefined;
  }
  found.session.lastSeen = Date.now();
  return found.session;
}
