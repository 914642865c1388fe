/**
 * Fans the router's observations out to every observer (Prometheus series always; OpenTelemetry and
 * the audit log when configured), and classifies errors into the short, bounded types observers
 * label with. An observer that throws is logged once and never fails the request it observes.
 */
import { RATE_LIMITED } from './shared/rate-limited.ts';
import { ERR, RpcError } from './jsonrpc.ts';
import type { Logger } from './log.ts';
import type {
  Ending,
  GatewayEvent,
  Observer,
  RequestSpan,
  RequestStart,
  UpstreamSpan,
  WorkflowEvent,
} from './observe.ts';

/**
 * JSON-RPC error codes that keep their own error type; any other code a backend sends is
 * `rpc_server_error` (JSON-RPC's reserved server range) or `rpc_other`, so a backend inventing
 * codes cannot grow a metric label without bound.
 */
const KNOWN_CODES: ReadonlySet<number> = new Set([
  ...Object.values(ERR),
  -32002, // MCP: resource not found
  -32042, // MCP: URL elicitation required
]);

/** The bounded `errorType` of a JSON-RPC error code. */
export function rpcErrorType(code: number): string {
  if (KNOWN_CODES.has(code)) return `rpc_${-code}`;
  return code <= -32000 && code >= -32099 ? 'rpc_server_error' : 'rpc_other';
}

/** The Ending of a request that threw `err`. */
export function endingOf(err: unknown): Ending {
  if (err instanceof RpcError) {
    if (err.code === ERR.FORBIDDEN) return { outcome: 'denied', errorType: 'forbidden', message: err.message };
    if (err.code === RATE_LIMITED) return { outcome: 'denied', errorType: 'rate_limited', message: err.message };
    if (err.code === ERR.TIMEOUT) return { outcome: 'failure', errorType: 'timeout', message: err.message };
    if (err.code === ERR.CONNECTION_CLOSED)
      return { outcome: 'failure', errorType: 'connection', message: err.message };
    if (err.code === ERR.INVALID_PARAMS || err.code === ERR.METHOD_NOT_FOUND || err.code === ERR.INVALID_REQUEST)
      return { outcome: 'error', errorType: rpcErrorType(err.code), message: err.message };
    return { outcome: 'failure', errorType: rpcErrorType(err.code), message: err.message };
  }
  return { outcome: 'failure', errorType: 'internal', message: (err as Error)?.message ?? String(err) };
}

export const SUCCESS: Ending = { outcome: 'success' };

/** One observer standing for several; the single-observer case is that observer itself. */
export function fanOut(observers: Observer[], log: Logger): Observer {
  if (observers.length === 1) return observers[0];
  let warned = false;
  const safely = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      if (!warned) {
        warned = true;
        log.warn({ error: (err as Error)?.message }, 'an observer failed; the request is unaffected');
      }
      return fallback;
    }
  };
  const NOOP_UP: UpstreamSpan = { end() {} };
  const NOOP: RequestSpan = { upstream: () => NOOP_UP, end() {} };
  return {
    request(start: RequestStart): RequestSpan {
      const spans = observers.map((o) => safely(() => o.request(start), NOOP));
      return {
        upstream(backend, transport, method, name) {
          const ups = spans.map((s) => safely(() => s.upstream(backend, transport, method, name), NOOP_UP));
          return {
            traceparent: ups.find((u) => u.traceparent !== undefined)?.traceparent,
            end: (e) => {
              for (const u of ups) safely(() => u.end(e), undefined);
            },
          };
        },
        workflow: (e: WorkflowEvent) => {
          for (const s of spans) safely(() => s.workflow?.(e), undefined);
        },
        end: (e) => {
          for (const s of spans) safely(() => s.end(e), undefined);
        },
      };
    },
    event(e: GatewayEvent) {
      for (const o of observers) safely(() => o.event?.(e), undefined);
    },
    async close() {
      await Promise.all(observers.map((o) => o.close?.().catch(() => {})));
    },
  };
}
