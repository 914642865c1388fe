/** Shared helpers for HTTP transports: parse a body into messages and synthesize transport errors. */
import type { JsonRpcMessage, WireHooks } from '../plugins.ts';

/** Error code marking a failure of the transport rather than of the backend's own logic. */
export const TRANSPORT_ERROR = -32000;

/** A synthetic error response for upstream request `id`, flagged so the circuit breaker counts it. */
export function transportError(id: number, message: string): JsonRpcMessage {
  return { jsonrpc: '2.0', id, error: { code: TRANSPORT_ERROR, message, data: { vmcpTransport: true } } };
}

/** Parses a JSON body (one message or a batch) and hands each message to the hooks. */
export function deliverText(text: string, hooks: WireHooks, related?: number): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    hooks.log.warn({ body: text.slice(0, 200) }, 'backend sent a non-JSON message; ignored');
    return;
  }
  if (Array.isArray(parsed)) for (const m of parsed) hooks.onmessage(m, related);
  else if (parsed && typeof parsed === 'object') hooks.onmessage(parsed as JsonRpcMessage, related);
}
