/** One HTTP response that starts as JSON and switches to SSE only when something must stream. */
import type { ServerResponse } from 'node:http';

/** Writes MCP messages for one POST: JSON when the answer is the only message, SSE otherwise. */
export class HttpExchange {
  private sse = false;
  done = false;

  constructor(private readonly res: ServerResponse, private readonly headers: Record<string, string> = {}) {}

  /** Sends a message before the final answer (progress, log, server→client request): upgrades to SSE. */
  write(json: string): void {
    if (this.done || this.res.destroyed) return;
    if (!this.sse) {
      this.sse = true;
      this.res.writeHead(200, { ...this.headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' });
    }
    this.res.write(`event: message\ndata: ${json}\n\n`);
  }

  /** Sends the final answer and ends the response. */
  end(json: string): void {
    if (this.done) return;
    this.done = true;
    if (this.res.destroyed) return;
    if (this.sse) this.res.end(`event: message\ndata: ${json}\n\n`);
    else {
      this.headers['content-type'] = 'application/json';
      this.headers['content-length'] = String(Buffer.byteLength(json));
      this.res.writeHead(200, this.headers).end(json);
    }
  }

  /** Sends a final error answer with an HTTP status (403 for a denial) when nothing was streamed yet. */
  fail(json: string, status: number): void {
    if (this.done || this.sse || this.res.destroyed) return this.end(json);
    this.done = true;
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
