/**
 * How a failure reaches the client, decided in one place: the HTTP status of a POST's answer for a
 * JSON-RPC error, and the JSON-RPC error member for anything thrown. Pure.
 */
import { ERR, toRpcError } from '../jsonrpc.ts';
import { RATE_LIMITED } from '../shared/rate-limited.ts';

/**
 * The HTTP status that carries a final JSON-RPC error when nothing was streamed yet: a policy denial
 * is 403 (so proxies and clients see it as one), a rate-limited call 429 (as ToolHive sends it);
 * every other error travels in a 200 answer, as the MCP SDKs expect.
 */
export function httpStatusFor(code: number): number {
  return code === ERR.FORBIDDEN ? 403 : code === RATE_LIMITED ? 429 : 200;
}

/** The JSON-RPC error member and HTTP status for anything a dispatch threw. */
export function errorAnswer(err: unknown): {
  error: { code: number; message: string; data?: unknown };
  status: number;
  /** Retry-After for a rate-limited call. */
  headers?: Record<string, string>;
} {
  const error = toRpcError(err);
  const retry = (error.data as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (error.code === RATE_LIMITED && typeof retry === 'number')
    return { error, status: 429, headers: { 'retry-after': String(retry) } };
  return { error, status: httpStatusFor(error.code) };
}
