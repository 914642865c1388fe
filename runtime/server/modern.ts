/**
 * MCP 2026-07-28 (stateless): per-request `_meta` envelope, server/discover, resultType, and
 * input-required results. A backend's server→client request (sampling, elicitation, roots) during
 * a call parks the upstream call and answers the client with `resultType: "input_required"`; the
 * client's retry (same call + `inputResponses` + our `requestState`) resumes it.
 */
import { randomUUID } from 'node:crypto';
import { LOG_LEVELS, cancelCall, type CallContext } from '../call-context.ts';
import { MODERN_VERSIONS, type GatewayCore } from '../gateway.ts';
import { ERR, RpcError, errorJson, notificationJson, resultJson, toRpcError } from '../jsonrpc.ts';
import type { JsonRpcMessage, Principal } from '../plugins.ts';

/** The reserved `_meta` keys of the 2026-07-28 envelope. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** Where a modern call writes: the HTTP response of the current round, or stdout. */
export interface Exchange {
  write(json: string): void;
  end(json: string): void;
  abandon(): void;
  /** Ends with an error and an HTTP status (HTTP only). */
  fail?(json: string, status: number): void;
}

type Event =
  | { kind: 'input'; method: string; params: unknown; resolve(r: unknown): void; reject(e: unknown): void }
  | { kind: 'done'; json: string }
  | { kind: 'error'; err: unknown };

const PARK_TTL_MS = 10 * 60_000;
const MULTI_ROUND = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** A call that may span several client round trips. */
class RoundTripCall {
  exchange: Exchange;
  ctx: CallContext | undefined;
  pending: Extract<Event, { kind: 'input' }> | undefined;
  pendingKey = '';
  expiry: ReturnType<typeof setTimeout> | undefined;
  private queue: Event[] = [];
  private waiter: ((e: Event) => void) | undefined;

  constructor(exchange: Exchange) {
    this.exchange = exchange;
  }

  push(e: Event): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w) w(e);
    else this.queue.push(e);
  }

  next(): Promise<Event> {
    const e = this.queue.shift();
    return e ? Promise.resolve(e) : new Promise((r) => (this.waiter = r));
  }
}

const parked = new Map<string, RoundTripCall>();
/** Modern calls in flight, by caller and request id, for `notifications/cancelled`. */
const inflight = new Map<string, CallContext>();
const inflightKey = (principal: Principal | undefined, id: unknown) => `${principal?.key ?? ''}\u0000${JSON.stringify(id)}`;

/** Cancels the caller's modern call `requestId`, if it is in flight (2026 `notifications/cancelled`). */
export function cancelModern(principal: Principal | undefined, requestId: unknown): void {
  if (requestId === undefined) return;
  cancelCall(inflight.get(inflightKey(principal, requestId)));
}
let inputSeq = 0;

/** True when a message claims the 2026 envelope. */
export function isModernMessage(msg: JsonRpcMessage): boolean {
  const meta = msg.params?._meta;
  return meta !== null && typeof meta === 'object' && META.protocolVersion in meta;
}

/** Validates the envelope of a modern request; throws RpcError with the HTTP status in `data.status`. */
export function checkEnvelope(msg: JsonRpcMessage): void {
  const meta = msg.params._meta;
  const version = meta[META.protocolVersion];
  if (typeof version !== 'string') throw new RpcError(ERR.INVALID_PARAMS, `Invalid _meta envelope for protocol revision 2026-07-28: ${META.protocolVersion}: expected a string`);
  if (!MODERN_VERSIONS.includes(version)) {
    throw new RpcError(ERR.UNSUPPORTED_PROTOCOL_VERSION, `Unsupported protocol version: ${version}`, { supported: MODERN_VERSIONS, requested: version });
  }
  const caps = meta[META.clientCapabilities];
  if (caps === null || typeof caps !== 'object' || Array.isArray(caps)) {
    throw new RpcError(ERR.INVALID_PARAMS, `Invalid _meta envelope for protocol revision 2026-07-28: ${META.clientCapabilities}: ${caps === undefined ? 'missing' : 'expected an object'}`);
  }
}

/** Serves one modern request (already validated); writes its answer to `exchange`. */
export async function serveModern(core: GatewayCore, msg: JsonRpcMessage, exchange: Exchange, onGone: (abort: () => void) => void, principal?: Principal): Promise<void> {
  const { id, method = '', params } = msg;
  if (method === 'server/discover') return exchange.end(resultJson(id, core.discoverResult()));
  if (method === 'initialize' || method === 'logging/setLevel') {
    return exchange.end(errorJson(id, { code: ERR.METHOD_NOT_FOUND, message: `Method not found: ${method} (not part of protocol revision 2026-07-28)` }));
  }
  if (method === 'subscriptions/listen') return listen(core, msg, exchange, onGone);
  const meta = params._meta;
  const level = LOG_LEVELS.indexOf(meta[META.logLevel]);
  if (!MULTI_ROUND.has(method)) {
    const ctx: CallContext = { notify: (m, p) => exchange.write(notificationJson(m, p)), clientCapabilities: meta[META.clientCapabilities], logLevel: level < 0 ? undefined : level, principal };
    const key = inflightKey(principal, id);
    inflight.set(key, ctx);
    try {
      return exchange.end(resultJson(id, await core.router.dispatch(method, params, ctx, true)));
    } catch (err) {
      return ctx.cancelled ? exchange.abandon() : failWith(exchange, id, err);
    } finally {
      inflight.delete(key);
    }
  }
  let call: RoundTripCall;
  const state = params.requestState;
  if (typeof state === 'string' && state.startsWith('vmcp:')) {
    const found = parked.get(state);
    // A parked call belongs to its caller: another subject cannot resume it.
    if (!found?.pending || found.ctx?.principal?.key !== principal?.key) return exchange.end(errorJson(id, { code: ERR.INVALID_PARAMS, message: 'Unknown or expired requestState; retry the call without it' }));
    const answer = params.inputResponses?.[found.pendingKey];
    if (answer === undefined) return exchange.end(errorJson(id, { code: ERR.INVALID_PARAMS, message: `inputResponses.${found.pendingKey} is missing` }));
    parked.delete(state);
    clearTimeout(found.expiry);
    call = found;
    call.exchange = exchange;
    const pending = call.pending as Extract<Event, { kind: 'input' }>;
    call.pending = undefined;
    pending.resolve(answer);
  } else {
    call = new RoundTripCall(exchange);
    const c = call;
    const ctx: CallContext = {
      notify: (m, p) => c.exchange.write(notificationJson(m, p)),
      request: (m, p) => new Promise((resolve, reject) => c.push({ kind: 'input', method: m, params: p, resolve, reject })),
      clientCapabilities: meta[META.clientCapabilities],
      logLevel: level < 0 ? undefined : level,
      principal,
    };
    c.ctx = ctx;
    core.router.dispatch(method, params, ctx, true).then((json) => c.push({ kind: 'done', json }), (err) => c.push({ kind: 'error', err }));
  }
  let answered = false;
  onGone(() => {
    if (!answered) cancelCall(call.ctx);
  });
  const callKey = inflightKey(principal, id);
  if (call.ctx) inflight.set(callKey, call.ctx);
  const event = await call.next();
  inflight.delete(callKey);
  answered = true;
  if (event.kind === 'done') return exchange.end(resultJson(id, event.json));
  if (event.kind === 'error') return call.ctx?.cancelled ? exchange.abandon() : failWith(exchange, id, event.err);
  const key = `vmcp-input-${++inputSeq}`;
  const token = `vmcp:${randomUUID()}`;
  call.pending = event;
  call.pendingKey = key;
  parked.set(token, call);
  call.expiry = setTimeout(() => {
    parked.delete(token);
    event.reject(new RpcError(ERR.TIMEOUT, 'the client did not retry with inputResponses in time'));
  }, PARK_TTL_MS);
  call.expiry.unref();
  const result = { resultType: 'input_required', inputRequests: { [key]: { method: event.method, params: event.params } }, requestState: token };
  exchange.end(resultJson(id, JSON.stringify(result)));
}

/** Ends with a JSON-RPC error; a policy denial also carries HTTP 403. */
function failWith(exchange: Exchange, id: unknown, err: unknown): void {
  const e = toRpcError(err);
  if (e.code === ERR.FORBIDDEN && exchange.fail) exchange.fail(errorJson(id, e), 403);
  else exchange.end(errorJson(id, e));
}

/** subscriptions/listen: an SSE stream of list_changed notifications the client asked for. */
function listen(core: GatewayCore, msg: JsonRpcMessage, exchange: Exchange, onGone: (abort: () => void) => void): void {
  const wanted = msg.params?.notifications ?? {};
  const honored: Record<string, boolean> = {};
  for (const k of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged']) if (wanted[k] === true) honored[k] = true;
  const stamp = (method: string, params: Record<string, unknown>) => notificationJson(method, { ...params, _meta: { [META.subscriptionId]: msg.id } });
  exchange.write(stamp('notifications/subscriptions/acknowledged', { notifications: honored }));
  const field: Record<string, string> = { tools: 'toolsListChanged', prompts: 'promptsListChanged', resources: 'resourcesListChanged', resourceTemplates: 'resourcesListChanged' };
  const listener = (kind: string, json: string) => {
    if (honored[field[kind]]) exchange.write(stamp(JSON.parse(json).method, {}));
  };
  core.listeners.add(listener);
  onGone(() => core.listeners.delete(listener));
}
