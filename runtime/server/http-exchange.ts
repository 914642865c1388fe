/** One HTTP response that starts as JSON and switches to SSE only when something must stream. */
import type { Json, RawJson } from '../raw-json.ts';
import type { ServerResponse } from 'node:http';
import { DEFAULT_LIMITS, formatBytes } from '../limits.ts';
import type { Logger } from '../log.ts';

/** How much one SSE response may buffer for a client that stopped reading, and who hears when it is cut. */
export interface StreamBound {
  /** operational.limits.maxStreamBufferBytes. */
  readonly maxBytes: number;
  /** Called once, when the stream is cut, with the bytes it held. */
  onOverflow?(buffered: number, res: ServerResponse): void;
}

/** The bound of an exchange built without one (the default limit, nothing logged). */
export const DEFAULT_STREAM_BOUND: StreamBound = Object.freeze({ maxBytes: DEFAULT_LIMITS.maxStreamBufferBytes });

/** A bound that logs one warning per cut stream, with `fields` (stream kind, session, subscription). */
export function streamBound(maxBytes: number, log: Logger, fields: Record<string, unknown>): StreamBound {
  return {
    maxBytes,
    onOverflow: (buffered, res) => {
      const session = res.req?.headers['mcp-session-id'];
      log.warn(
        {
          ...fields,
          ...(typeof session === 'string' && !('session' in fields) ? { session } : {}),
          buffered,
          limit: maxBytes,
        },
        `downstream client is not reading its SSE stream: ${formatBytes(buffered)} buffered, over operational.limits.maxStreamBufferBytes (${formatBytes(maxBytes)}); stream ended`,
      );
    },
  };
}

/**
 * Writes one SSE chunk. A reader that stopped reading makes node buffer every write; past
 * `bound.maxBytes` the response is destroyed (its 'close' listeners clean up and cancel what it
 * served) instead of growing without limit. One length check per write. False once the stream is gone.
 */
export function writeSse(res: ServerResponse, chunk: string, bound: StreamBound): boolean {
  if (res.destroyed) return false;
  res.write(chunk);
  if (res.writableLength <= bound.maxBytes) return true;
  const buffered = res.writableLength;
  res.destroy();
  bound.onOverflow?.(buffered, res);
  return false;
}

/** Writes MCP messages for one POST: JSON when the answer is the only message, SSE otherwise. */
export class HttpExchange {
  private sse = false;
  done = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string> = {},
    public bound: StreamBound = DEFAULT_STREAM_BOUND,
  ) {}

  /** Sends a message before the final answer (progress, log, server→client request): upgrades to SSE. */
  write(json: string): void {
    if (this.done || this.res.destroyed) return;
    if (!this.sse) {
      this.sse = true;
      this.res.writeHead(200, {
        ...this.headers,
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
      });
    }
    writeSse(this.res, `event: message\ndata: ${json}\n\n`, this.bound);
  }

  /** Sends the final answer and ends the response. */
  end(json: Json): void {
    if (this.done) return;
    this.done = true;
    if (this.res.destroyed) return;
    if (typeof json !== 'string') return this.endRaw(json);
    if (this.sse) this.res.end(`event: message\ndata: ${json}\n\n`);
    else {
      this.headers['content-type'] = 'application/json';
      this.headers['content-length'] = String(Buffer.byteLength(json));
      this.res.writeHead(200, this.headers).end(json);
    }
  }

  /**
   * The final answer as relayed bytes, written piece by piece (never joined or decoded). Safe in an
   * SSE `data:` line because it came from a newline-delimited stdio message.
   */
  private endRaw(json: RawJson): void {
    const res = this.res;
    if (!this.sse) {
      this.headers['content-type'] = 'application/json';
      this.headers['content-length'] = String(json.bytes);
      res.writeHead(200, this.headers);
    }
    res.cork();
    if (this.sse) res.write('event: message\ndata: ');
    for (const s of json.segments) res.write(s);
    res.end(this.sse ? '\n\n' : undefined);
    res.uncork();
  }

  /** Sends a final error answer with an HTTP status (403 for a denial, 429 with Retry-After when rate-limited) when nothing was streamed yet. */
  fail(json: string, status: number, headers?: Record<string, string>): void {
    if (this.done || this.sse || this.res.destroyed) return this.end(json);
    this.done = true;
    if (headers) Object.assign(this.headers, headers);
    this.headers['content-type'] = 'application/json';
    this.headers['content-length'] = String(Buffer.byteLength(json));
    this.res.writeHead(status, this.headers).end(json);
  }

  /** Ends without an answer (the client cancelled the call). */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    if (this.res.destroyed) return;
    if (this.sse) this.res.end();
    else this.res.writeHead(202).end();
  }
}
