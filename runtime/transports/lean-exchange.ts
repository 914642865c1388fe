/**
 * One request/response on the lean HTTP pool (lean-http.ts): the exchange is also the response once
 * its head has arrived. The body is decoded as it comes, buffered until a reader attaches (text,
 * SSE or discard), and bounded by the request's limit: a whole body unless it is an event stream,
 * whose reader bounds each event. Going past the limit resets the socket and fails the reader.
 */
import { StringDecoder } from 'node:string_decoder';
import { SseParser } from './deliver.ts';
import { headerValue } from './http-response-parser.ts';
import type { Conn, LeanHttpPool } from './lean-http.ts';
import { MessageTooLargeError, type SentRequest, type UpstreamResponse } from './upstream-response.ts';

interface Sink {
  data(text: string): void;
  end(): void;
  error(err: Error): void;
}

/** One request/response on the lean pool; it is the response once the head has arrived. */
export class Exchange implements UpstreamResponse, SentRequest {
  status = 0;
  /** The response head (status line and header lines, each ending in CRLF) and its lower-case copy. */
  private headText = '';
  private headLower = '';
  conn: Conn | undefined;
  /** Ended, failed or aborted: nothing more is delivered. */
  settled = false;
  readonly response: Promise<UpstreamResponse>;
  private headSeen = false;
  private resolveHead!: (r: UpstreamResponse) => void;
  private rejectHead!: (err: Error) => void;
  private decoder: StringDecoder | undefined;
  private sink: Sink | undefined;
  /** Body bytes counted against `limit`, unless the body is an event stream (its reader bounds each event). */
  private counted = 0;
  private bounded = true;
  private buffered: string[] | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(
    private readonly pool: LeanHttpPool,
    readonly head: string,
    readonly body: string,
    readonly limit: number,
  ) {
    this.response = new Promise((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
  }

  header(name: string): string | undefined {
    return headerValue(this.headText, this.headLower, `\r\n${name}:`);
  }

  text(): Promise<string> {
    return new Promise((resolve, reject) => {
      let text = '';
      this.attach({ data: (t) => (text += t), end: () => resolve(text), error: reject });
    });
  }

  sse(onEvent: (event: string, data: string) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const parser = new SseParser(onEvent, { maxBytes: this.limit, onTooLarge: () => this.tooLarge('an SSE event') });
      this.attach({
        data: (t) => parser.push(t),
        end: resolve,
        error: (err) => (err instanceof MessageTooLargeError ? reject(err) : resolve()),
      });
    });
  }

  discard(): void {
    this.attach({ data() {}, end() {}, error() {} });
  }

  /** Tears the exchange down: its socket is destroyed (never reused), the caller's promises settle. */
  abort(): void {
    if (this.settled) return;
    if (this.conn) this.conn.drop();
    else this.pool.dequeue(this);
    this.fail(new Error('request aborted'));
  }

  onHead(status: number, text: string, lower: string): void {
    this.status = status;
    this.headText = text;
    this.headLower = lower;
    this.headSeen = true;
    // An event stream may go on for long: the SSE reader (attached in the microtask after this one)
    // bounds each event instead. Anything else is one message, bounded whole.
    this.bounded = !(headerValue(lower, lower, '\r\ncontent-type:') ?? '').includes('text/event-stream');
    this.resolveHead(this);
  }

  onBody(bytes: Buffer): void {
    if (this.bounded && (this.counted += bytes.length) > this.limit) return this.tooLarge('a response body');
    // Bodies are ASCII-terminated JSON or SSE lines almost always: decode directly, and only keep a
    // StringDecoder (which carries a split multi-byte character over) once a piece ends mid-character.
    const text =
      this.decoder === undefined && bytes[bytes.length - 1] < 0x80
        ? bytes.toString('utf8')
        : (this.decoder ??= new StringDecoder('utf8')).write(bytes);
    if (text === '') return;
    if (this.sink) this.sink.data(text);
    else (this.buffered ??= []).push(text);
  }

  onEnd(): void {
    if (this.settled) return;
    this.settled = true;
    const tail = this.decoder?.end();
    if (tail) (this.buffered ??= []).push(tail);
    this.ended = true;
    if (this.sink) this.flush(this.sink);
  }

  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    if (!this.headSeen) return this.rejectHead(err);
    this.failure = err;
    this.buffered = undefined;
    if (this.sink) this.sink.error(err);
  }

  /** A body or event over the limit: stop reading at once, reset the connection, fail the reader. */
  private tooLarge(what: string): void {
    if (this.failure) return;
    const err = new MessageTooLargeError(this.limit, what);
    if (!this.settled) {
      this.conn?.drop();
      return this.fail(err);
    }
    // The body was complete (its socket maybe serving another exchange) before the reader got to it.
    this.failure = err;
    this.buffered = undefined;
    this.sink?.error(err);
  }

  private attach(sink: Sink): void {
    this.sink = sink;
    this.flush(sink);
  }

  private flush(sink: Sink): void {
    const texts = this.buffered;
    if (texts) {
      this.buffered = undefined;
      for (const t of texts) sink.data(t);
    }
    if (this.failure) sink.error(this.failure);
    else if (this.ended) sink.end();
  }
}
