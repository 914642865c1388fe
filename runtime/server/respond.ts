/** Small HTTP response helpers. */
import type { ServerResponse } from 'node:http';
import { errorJson } from '../jsonrpc.ts';

/** Answers with an HTTP status and a JSON-RPC error body (the SDK's shape for transport errors). */
export function sendJsonError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  id: unknown = null,
  data?: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.end();
  const body = errorJson(id, data === undefined ? { code, message } : { code, message, data });
  res
    .writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    })
    .end(body);
}

/** Answers with a JSON document. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = typeof value === 'string' ? value : JSON.stringify(value);
  res
    .writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) })
    .end(body);
}
