/** Shared helpers for HTTP transports: parse a body (JSON or SSE) into messages and synthesize transport errors. */
import { createParser, type EventSourceParser } from 'eventsource-parser';
import type { JsonRpcMessage, WireHooks } from '../plugins.ts';
import { RAW_ABOVE_BYTES, rawResponse } from './stdio-framing.ts';

/** Error code marking a failure of the transport rather than of the backend's own logic. */
export const TRANSPORT_ERROR = -32000;

/** A synthetic error response for upstream request `id`, flagged so the circuit breaker counts it. */
export function transportError(id: number, message: string): JsonRpcMessage {
  return { jsonrpc: '2.0', id, error: { code: TRANSPORT_ERROR, message, data: { vmcpTransport: true } } };
}

/**
 * Parses a JSON body or SSE event (one message or a batch) and hands each message to the hooks. A
 * response over RAW_ABOVE_BYTES shaped `{"result":{…},"jsonrpc":"2.0","id":N}` is handed over as
 * its bytes (RawJson, found at the edges as for stdio), never parsed and re-serialized.
 */
export function deliverText(text: string, hooks: WireHooks, related?: number): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: a short string is never over the bound.
  if (text.length > RAW_ABOVE_BYTES / 3 && Buffer.byteLength(text) > RAW_ABOVE_BYTES) {
    const bytes = Buffer.from(text);
    const msg = rawResponse([bytes], bytes.length);
    if (msg) return hooks.onmessage(msg, related);
  }
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

/** Options of an SseParser. */
export interface SseOptions {
  /** Largest event, in UTF-8 bytes of its data; a larger one stops the parser and calls onTooLarge. */
  maxBytes?: number;
  onTooLarge?(): void;
  /** The server's `retry:` field (ms). */
  onRetry?(ms: number): void;
}

/**
 * eventsource-parser bounds what it buffers in characters, which are at most the UTF-8 bytes: its
 * bound is the byte limit plus room for a field name, and each dispatched event is then measured
 * exactly. So at most about the limit is ever held.
 */
const FIELD_SLACK = 64;

/**
 * Incremental text/event-stream parser (eventsource-parser): `onEvent(event, data, id)` per event,
 * `event` defaulting to "message". Past `maxBytes` the stream is given up: nothing more is parsed.
 */
export class SseParser {
  private readonly parser: EventSourceParser;
  private over = false;

  constructor(onEvent: (event: string, data: string, id: string | undefined) => void, opts: SseOptions = {}) {
    const max = opts.maxBytes ?? Infinity;
    const overflow = () => {
      if (this.over) return;
      this.over = true;
      opts.onTooLarge?.();
    };
    this.parser = createParser({
      onEvent: (m) => {
        if (this.over) return;
        // UTF-8 bytes are at most 3 per UTF-16 unit: only a long event pays for the exact count.
        if (m.data.length * 3 > max && Buffer.byteLength(m.data) > max) return overflow();
        onEvent(m.event ?? 'message', m.data, m.id);
      },
      onRetry: opts.onRetry,
      onError: (err) => {
        if (err.type === 'max-buffer-size-exceeded') overflow();
      },
      maxBufferSize: max === Infinity ? undefined : max + FIELD_SLACK,
    });
  }

  /** Feeds decoded text; complete events are dispatched at once, a partial one waits for more. */
  push(chunk: string): void {
    if (!this.over) this.parser.feed(chunk);
  }
}
