/** What a forwarded call may do toward the downstream client that made it. */
import { ERR, RpcError } from './jsonrpc.ts';
import type { RequestSpan } from './observe.ts';
import type { Principal } from './plugins.ts';

/** MCP log levels in increasing severity, for per-session filtering. */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** Marks a call cancelled and stops its upstream request (cheaper than an AbortSignal per call). */
export function cancelCall(ctx: CallContext | undefined): void {
  if (!ctx || ctx.cancelled) return;
  ctx.cancelled = true;
  ctx.onCancel?.();
}

/** The error a call ends with once its client cancelled it or went away. */
export function cancelledError(): RpcError {
  return new RpcError(ERR.CONNECTION_CLOSED, 'request cancelled by the client');
}

/** Where an HTTP request came from, for observers: the client's address and W3C trace context. */
export interface RequestOrigin {
  remoteAddress?: string;
  traceparent?: string;
  tracestate?: string;
}

/** A W3C `traceparent` value (version-traceid-parentid-flags). */
export const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The origin of an HTTP request; trace headers that are not well-formed W3C values are dropped. */
export function originOf(remoteAddress: string | undefined, headers: Record<string, unknown>): RequestOrigin {
  const tp = headers.traceparent;
  const ts = headers.tracestate;
  if (typeof tp !== 'string' || !TRACEPARENT.test(tp)) return { remoteAddress };
  return { remoteAddress, traceparent: tp, tracestate: typeof ts === 'string' && ts.length <= 512 ? ts : undefined };
}

/** The downstream side of one in-flight call, built by the HTTP or stdio front end. */
export interface CallContext {
  /** Sends a notification (progress, log) to the client, on the stream of this call. */
  notify(method: string, params: unknown): void;
  /** Sends a server→client request (sampling, elicitation, roots); absent when the client cannot take one. */
  request?(method: string, params: unknown): Promise<unknown>;
  /** True once the client cancelled the call or went away. */
  cancelled?: boolean;
  /** Set by the upstream while the call is in flight; invoked by `cancelCall`. */
  onCancel?: () => void;
  /** Set when the call came through the optimizer's call_tool (for its not-found counter). */
  viaCallTool?: boolean;
  /** Minimum log level (index into LOG_LEVELS) the client opted into for this call, if any. */
  logLevel?: number;
  /** Capabilities the client declared (initialize, or the 2026 per-request envelope). */
  clientCapabilities?: Record<string, unknown>;
  /** The 2025-era session, when there is one (for logging fan-out and cancellation). */
  sessionId?: string;
  /** The authenticated caller (incoming auth oidc); undefined for anonymous gateways and stdio. */
  principal?: Principal;
  /** Client headers to forward upstream (`passthroughHeaders`, lowercase names); absent when none apply. */
  forwardHeaders?: Record<string, string>;
  /** The downstream JSON-RPC id of this call (for audit and tracing). */
  requestId?: string | number | null;
  /** The client's address (HTTP), for audit. */
  remoteAddress?: string;
  /** The caller's W3C trace context (the `traceparent` / `tracestate` headers), when it sent one. */
  traceparent?: string;
  tracestate?: string;
  /** Set by the router while the request is observed: upstream calls report through it. */
  span?: RequestSpan;
}
