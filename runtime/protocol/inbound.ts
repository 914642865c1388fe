/**
 * What to do with a POST to /mcp, decided from its headers and body alone: refuse it (with the HTTP
 * status and JSON-RPC error the SDKs expect), or hand it to the 2025 session front end or the 2026
 * stateless one. Pure: the HTTP server reads the body and acts on the decision.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ERR, type RpcError } from '../jsonrpc.ts';
import type { JsonRpcMessage } from '../plugins.ts';
import { checkEnvelope, isModernMessage } from './envelope.ts';
import { checkModernHeaders } from './modern-headers.ts';

/** An answer that ends the exchange before any dispatch: HTTP status plus a JSON-RPC error. */
export interface Refusal {
  kind: 'refuse';
  status: number;
  code: number;
  message: string;
  id?: unknown;
  data?: unknown;
}

/** Where a well-formed POST goes. */
export type PostDecision =
  | Refusal
  /** 2025 era: initialize, or a message of an existing session. */
  | { kind: 'legacy'; msg: JsonRpcMessage }
  /** 2026 era: a notification or a client's response (answered 202). */
  | { kind: 'modern-notification'; msg: JsonRpcMessage }
  /** 2026 era: a request whose envelope and standard headers agree. */
  | { kind: 'modern-request'; msg: JsonRpcMessage };

const refuse = (status: number, code: number, message: string, id?: unknown, data?: unknown): Refusal => ({
  kind: 'refuse',
  status,
  code,
  message,
  ...(id !== undefined ? { id } : {}),
  ...(data !== undefined ? { data } : {}),
});

/** The checks made before the body is read: what the client accepts and what it sends. */
export function checkPostHeaders(headers: IncomingHttpHeaders): Refusal | undefined {
  const accept = headers.accept ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return refuse(
      406,
      ERR.CONNECTION_CLOSED,
      'Not Acceptable: Client must accept both application/json and text/event-stream',
    );
  }
  if (!String(headers['content-type'] ?? '').includes('application/json')) {
    return refuse(415, ERR.CONNECTION_CLOSED, 'Unsupported Media Type: Content-Type must be application/json');
  }
  return undefined;
}

/** Classifies a POST body (read in full, within the size limit) with the request's headers. */
export function classifyPost(headers: IncomingHttpHeaders, body: string): PostDecision {
  let msg: JsonRpcMessage;
  try {
    msg = JSON.parse(body);
  } catch {
    return refuse(400, ERR.PARSE, 'Parse error: Invalid JSON');
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || msg.jsonrpc !== '2.0') {
    return refuse(
      400,
      ERR.INVALID_REQUEST,
      Array.isArray(msg)
        ? 'Bad Request: JSON-RPC batches are not supported'
        : 'Bad Request: the request body is not a valid JSON-RPC message',
    );
  }
  const headerVersion = headers['mcp-protocol-version'];
  const modernHeader = typeof headerVersion === 'string' && headerVersion >= '2026-07-28';
  if (!isModernMessage(msg)) {
    if (modernHeader && msg.method !== undefined && msg.id !== undefined) {
      return refuse(
        400,
        ERR.INVALID_PARAMS,
        `Invalid params: the MCP-Protocol-Version header names protocol revision ${headerVersion}, but the request is missing the required per-request envelope key(s): _meta`,
        msg.id,
      );
    }
    if (msg.method === 'initialize' && modernHeader) {
      return refuse(
        400,
        ERR.HEADER_MISMATCH,
        'Bad Request: an initialize request (legacy handshake) was sent with a modern MCP-Protocol-Version header',
        msg.id,
      );
    }
    return { kind: 'legacy', msg };
  }
  if (msg.id === undefined || msg.method === undefined) return { kind: 'modern-notification', msg };
  try {
    checkEnvelope(msg);
    checkModernHeaders(headers, msg);
  } catch (err) {
    const e = err as RpcError;
    return refuse(400, e.code, e.message, msg.id, e.data);
  }
  return { kind: 'modern-request', msg };
}
