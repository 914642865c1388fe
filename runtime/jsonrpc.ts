/** JSON-RPC codes and lean serialization helpers shared by every front end. */
import type { Json } from './raw-json.ts';

/** JSON-RPC and MCP error codes used by the runtime. */
export const ERR = {
  PARSE: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  /** SDK ErrorCode.ConnectionClosed / generic server error. */
  CONNECTION_CLOSED: -32000,
  /** SDK ErrorCode.RequestTimeout. */
  TIMEOUT: -32001,
  HEADER_MISMATCH: -32020,
  MISSING_CLIENT_CAPABILITY: -32021,
  UNSUPPORTED_PROTOCOL_VERSION: -32022,
  /** vmcp: the authorization policy denied the request (sent with HTTP 403). */
  FORBIDDEN: -32003,
} as const;

/** An error that becomes a JSON-RPC error response. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
  /** The JSON-RPC `error` member. */
  toJSON(): { code: number; message: string; data?: unknown } {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

/** Serializes a success response around an already-serialized result (text, or bytes relayed as they came). */
export function resultJson(id: unknown, result: string): string;
export function resultJson(id: unknown, result: Json): Json;
export function resultJson(id: unknown, result: Json): Json {
  const prefix = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":`;
  return typeof result === 'string' ? `${prefix}${result}}` : result.wrap(prefix, '}');
}

/** Serializes an error response. */
export function errorJson(id: unknown, error: { code: number; message: string; data?: unknown }): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id ?? null)},"error":${JSON.stringify(error)}}`;
}

/** Serializes a notification. */
export function notificationJson(method: string, params: unknown): string {
  if (params === undefined) return `{"jsonrpc":"2.0","method":${JSON.stringify(method)}}`;
  return `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
}

/** Serializes a request. */
export function requestJson(id: unknown, method: string, params: unknown): string {
  if (params === undefined) return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":${JSON.stringify(method)}}`;
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
}

/** Coerces anything thrown into a JSON-RPC error member. */
export function toRpcError(err: unknown): { code: number; message: string; data?: unknown } {
  if (err instanceof RpcError) return err.toJSON();
  return { code: ERR.INTERNAL, message: err instanceof Error ? err.message : String(err) };
}
