/**
 * MCP 2026-07-28 (stateless): per-request `_meta` envelope, server/discover, resultType, and
 * input-required results. A backend's server→client request (sampling, elicitation, roots) during
 * a call parks the upstream call and answers the client with `resultType: "input_required"`; the
 * client's retry (same call + `inputResponses` + our `requestState`) resumes it.
 */
import { LOG_LEVELS, cancelCall, type CallContext, type RequestOrigin } from '../call-context.ts';
import type { GatewayCore } from '../gateway.ts';
import { META } from './envelope.ts';
import { errorAnswer } from './errors.ts';
import { ERR, errorJson, notificationJson, resultJson } from '../jsonrpc.ts';
import type { JsonRpcMessage, Principal } from '../plugins.ts';
import { RoundTripCall, cancelScopeOf, type Exchange, type InputEvent } from './calls.ts';

export type { Exchange } from './calls.ts';
export { META, checkEnvelope, isModernMessage } from './envelope.ts';

const MULTI_ROUND: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/**
 * `notifications/cancelled` (2026) from `principal`, or from the stdio client (`scope`). Only the
 * caller's own scope is searched; an anonymous HTTP caller has none (see `cancelScopeOf`).
 */
export function cancelModern(
  core: GatewayCore,
  principal: Principal | undefined,
  requestId: unknown,
  scope?: string,
): void {
  const s = principal ? cancelScopeOf(principal) : scope;
  if (s === undefined) {
    core.log.debug(
      { requestId },
      'notifications/cancelled from an anonymous HTTP caller ignored: it cannot prove the call is its own; closing the call stream cancels it',
    );
    return;
  }
  core.modernCalls.cancel(s, requestId);
}

/** Serves one modern request (already validated); writes its answer to `exchange`. */
export async function serveModern(
  core: GatewayCore,
  msg: JsonRpcMessage,
  exchange: Exchange,
  onGone: (abort: () => void) => void,
  principal?: Principal,
  forward?: Record<string, string>,
  origin?: RequestOrigin,
): Promise<void> {
  const { id, method = '', params } = msg;
  if (method === 'server/discover') return exchange.end(resultJson(id, core.discoverResult()));
  if (method === 'initialize' || method === 'logging/setLevel') {
    return exchange.end(
      errorJson(id, {
        code: ERR.METHOD_NOT_FOUND,
        message: `Method not found: ${method} (not part of protocol revision 2026-07-28)`,
      }),
    );
  }
  if (method === 'subscriptions/listen') return listen(core, msg, exchange, onGone);
  const calls = core.modernCalls;
  if (exchange.bound) exchange.bound = core.callStreamBound;
  const scope = cancelScopeOf(principal, exchange);
  const meta = params._meta;
  const level = LOG_LEVELS.indexOf(meta[META.logLevel]);
  if (!MULTI_ROUND.has(method)) {
    const ctx: CallContext = {
      notify: (m, p) => exchange.write(notificationJson(m, p)),
      clientCapabilities: meta[META.clientCapabilities],
      logLevel: level < 0 ? undefined : level,
      principal,
      forwardHeaders: forward,
      requestId: id,
      ...origin,
    };
    const key = calls.track(scope, id, ctx);
    let answered = false;
    // Closing the response stream is the 2026 HTTP cancellation signal (and how an overflowing stream ends).
    onGone(() => {
      if (!answered) cancelCall(ctx);
    });
    try {
      const json = await core.router.dispatch(method, params, ctx, true);
      answered = true;
      return exchange.end(resultJson(id, json));
    } catch (err) {
      answered = true;
      return ctx.cancelled ? exchange.abandon() : failWith(exchange, id, err);
    } finally {
      calls.untrack(key, ctx);
    }
  }
  let call: RoundTripCall;
  const state = params.requestState;
  // Ours: `vmcp:<uuid>`, or `vmcp.<replica tag>.<uuid>` with replicas (one another replica could not relay is unknown here).
  if (typeof state === 'string' && (state.startsWith('vmcp:') || state.startsWith('vmcp.'))) {
    const found = calls.parkedCall(state);
    // A parked call belongs to its caller: another subject cannot resume it. For anonymous callers
    // the random requestState itself is what only the caller knows.
    if (!found?.pending || found.ctx.principal?.key !== principal?.key)
      return exchange.end(
        errorJson(id, {
          code: ERR.INVALID_PARAMS,
          message: 'Unknown or expired requestState; retry the call without it',
        }),
      );
    const answer = params.inputResponses?.[found.pendingKey];
    if (answer === undefined)
      return exchange.end(
        errorJson(id, { code: ERR.INVALID_PARAMS, message: `inputResponses.${found.pendingKey} is missing` }),
      );
    calls.unpark(state, found);
    call = found;
    call.exchange = exchange;
    const pending = call.pending as InputEvent;
    call.pending = undefined;
    pending.resolve(answer);
  } else {
    const ctx: CallContext = {
      notify: (m, p) => c.exchange.write(notificationJson(m, p)),
      request: (m, p) =>
        new Promise((resolve, reject) => c.push({ kind: 'input', method: m, params: p, resolve, reject })),
      clientCapabilities: meta[META.clientCapabilities],
      logLevel: level < 0 ? undefined : level,
      principal,
      forwardHeaders: forward,
      requestId: id,
      ...origin,
    };
    const c = new RoundTripCall(exchange, ctx);
    call = c;
    core.router.dispatch(method, params, ctx, true).then(
      (json) => c.push({ kind: 'done', json }),
      (err) => c.push({ kind: 'error', err }),
    );
  }
  let answered = false;
  onGone(() => {
    if (!answered) cancelCall(call.ctx);
  });
  const key = calls.track(scope, id, call.ctx);
  const event = await call.next();
  calls.untrack(key, call.ctx);
  answered = true;
  if (event.kind === 'done') return exchange.end(resultJson(id, event.json));
  if (event.kind === 'error') return call.ctx.cancelled ? exchange.abandon() : failWith(exchange, id, event.err);
  const parked = calls.park(call, event);
  if (!parked) {
    // Full: the backend's request is refused too, and its call cancelled, so nothing waits on a client that never hears of it.
    const refusal = calls.parkRefusal();
    call.pending = event;
    calls.drop(call, refusal);
    return exchange.end(errorJson(id, refusal.toJSON()));
  }
  const result = {
    resultType: 'input_required',
    inputRequests: { [parked.key]: { method: event.method, params: event.params } },
    requestState: parked.token,
  };
  exchange.end(resultJson(id, JSON.stringify(result)));
}

/** Ends with a JSON-RPC error; a policy denial also carries HTTP 403. */
function failWith(exchange: Exchange, id: unknown, err: unknown): void {
  const { error, status, headers } = errorAnswer(err);
  if (status !== 200 && exchange.fail) exchange.fail(errorJson(id, error), status, headers);
  else exchange.end(errorJson(id, error));
}

/** subscriptions/listen: an SSE stream of list_changed notifications the client asked for. */
function listen(core: GatewayCore, msg: JsonRpcMessage, exchange: Exchange, onGone: (abort: () => void) => void): void {
  const wanted = msg.params?.notifications ?? {};
  const honored: Record<string, boolean> = {};
  for (const k of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'])
    if (wanted[k] === true) honored[k] = true;
  const stamp = (method: string, params: Record<string, unknown>) =>
    notificationJson(method, { ...params, _meta: { [META.subscriptionId]: msg.id } });
  // A listener that stops reading is cut at the buffer limit; the stream's close removes the listener.
  if (exchange.bound)
    exchange.bound = core.streamBoundFor({
      stream: '2026 subscriptions/listen',
      subscription: msg.id,
    });
  exchange.write(stamp('notifications/subscriptions/acknowledged', { notifications: honored }));
  const field: Record<string, string> = {
    tools: 'toolsListChanged',
    prompts: 'promptsListChanged',
    resources: 'resourcesListChanged',
    resourceTemplates: 'resourcesListChanged',
  };
  const listener = (kind: string, json: string) => {
    if (honored[field[kind]]) exchange.write(stamp(JSON.parse(json).method, {}));
  };
  core.listeners.add(listener);
  onGone(() => core.listeners.delete(listener));
}
