/** Shared helpers for HTTP transports: parse a body (JSON or SSE) into messages and synthesize transport errors. */
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

/** Incremental text/event-stream parser: lines end in LF or CRLF; an empty line dispatches the event. */
export class SseParser {
  private rest = '';
  private event = '';
  private data: string[] = [];

  constructor(private readonly onEvent: (event: string, data: string) => void) {}

  /** Feeds decoded text; complete lines are handled at once, a partial last line waits for more. */
  push(chunk: string): void {
    const text = this.rest === '' ? chunk : this.rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.line(text, start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
      start = nl + 1;
    }
    this.rest = start === 0 ? text : text.slice(start);
  }

  private line(text: string, start: number, end: number): void {
    if (end === start) {
      if (this.data.length) this.onEvent(this.event || 'message', this.data.length === 1 ? this.data[0] : this.data.join('\n'));
      this.event = '';
      this.data = [];
    } else if (text.startsWith('data:', start)) this.data.push(text.slice(start + (text.charCodeAt(start + 5) === 32 ? 6 : 5), end));
    else if (text.startsWith('event:', start)) this.event = text.slice(start + (text.charCodeAt(start + 6) === 32 ? 7 : 6), end);
  }
}
