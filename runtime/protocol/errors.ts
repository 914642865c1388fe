/**
 * How a failure reaches the client, decided in one place: the HTTP status of a POST's answer for a
 * JSON-RPC error, and the JSON-RPC error member for anything thrown. Pure.
 */
import { ERR, toRpcError } from '../jsonrpc.ts';

/**
 * The HTTP status that carries a final JSON-RPC error when nothing was streamed yet: a policy denial
 * is 403 (so proxies and clients see it as one); every other error travels in a 200 answer, as the
 * MCP SDKs expect.
 */
export function httpStatusFor(code: number): number {
  return code === ERR.FORBIDDEN ? 403 : 200;
}

/** The JSON-RPC error member and HTTP status for anything a dispatch threw. */
export function errorAnswer(err: unknown): {
  error: { code: number; message: string; data?: unknown };
  status: number;
} {
  const error = toRpcError(err);
  return { error, status: httpStatusFor(error.code) };
}
