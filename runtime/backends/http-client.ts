/**
 * Upstream HTTP plumbing for the HTTP transports: a lean keep-alive HTTP/1.1 client for the POST hot
 * path (`http:` URLs), node:http for everything else (https, GET streams, DELETE), and one SSE parser.
 *
 * Why a client of our own: per call, node:http's `ClientRequest` (options parsing, header
 * validation, agent bookkeeping, an IncomingMessage stream with its listeners) cost about as much
 * CPU as the whole rest of the gateway. Here a request is one pre-serialized string written to a
 * pooled socket, and the response is parsed straight off its buffers (Content-Length, chunked or
 * close-delimited bodies). Over one file because it is one unit: the pool, its parser, and the
 * response type both transports read.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { SseParser } from './deliver.ts';

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });
/** Like the agents above: at most this many connections per origin; further requests queue. */
const MAX_SOCKETS = 256;
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const NON_ASCII = /[\x80-\xff]/;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** Header names the lean client writes itself; configs that set them go through node:http. */
const RESERVED = /^(host|content-length|connection|transfer-encoding)$/i;

/** Options for one node:http request. */
export interface HttpRequestOptions {
  method: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** Sends one request on a keep-alive agent; resolves with the response (body unread). */
export function httpRequest(url: URL, opts: HttpRequestOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
    const req = mod.request(url, { method: opts.method, headers, agent: url.protocol === 'https:' ? httpsAgent : httpAgent, signal: opts.signal }, resolve);
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** An upstream response: status, headers, and the body read once as text, as SSE events, or dropped. */
export interface UpstreamResponse {
  readonly status: number;
  /** A header by lower-case name; repeated headers are joined with ", ". */
  header(name: string): string | undefined;
  text(): Promise<string>;
  /** Calls `onEvent` per event; resolves when the body ends (or breaks off). */
  sse(onEvent: (event: string, data: string) => void): Promise<void>;
  discard(): void;
}

/** One request in flight: its response, and an abort that tears the exchange down (no AbortController). */
export interface SentRequest {
  response: Promise<UpstreamResponse>;
  abort(): void;
}

/** POSTs `body` to `url`: on the lean pool for http: URLs (when `pool` is given), else with node:http. */
export function postJson(url: URL, path: string, headers: Record<string, string>, body: string, pool?: LeanHttpPool, lines?: string): SentRequest {
  if (pool && (lines !== undefined || leanHeadersOk(headers))) {
    const head = `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\n${lines ?? headerLines(headers)}Connection: keep-alive\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return pool.request(head, body);
  }
  let req: http.ClientRequest | undefined;
  const response = new Promise<UpstreamResponse>((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const h: Record<string, string | number> = { ...headers, 'content-length': Buffer.byteLength(body) };
    req = mod.request(url, { method: 'POST', headers: h, agent: url.protocol === 'https:' ? httpsAgent : httpAgent }, (res) => resolve(wrapIncoming(res)));
    req.on('error', reject);
    req.end(body);
  });
  return { response, abort: () => req?.destroy() };
}

/** True when the lean client can send `headers` as given (none of the names it writes itself). */
export function leanHeadersOk(headers: Record<string, string>): boolean {
  for (const k in headers) if (RESERVED.test(k)) return false;
  return true;
}

/** `Name: value\r\n` lines; refuses what node:http refuses (invalid names, CR/LF or NUL in values). */
export function headerLines(headers: Record<string, string>): string {
  let out = '';
  for (const k in headers) {
    const v = String(headers[k]);
    if (!TOKEN.test(k)) throw new TypeError(`Header name must be a valid HTTP token ["${k}"]`);
    if (INVALID_VALUE.test(v)) throw new TypeError(`Invalid character in header content ["${k}"]`);
    out += `${k}: ${v}\r\n`;
  }
  return out;
}

function wrapIncoming(res: http.IncomingMessage): UpstreamResponse {
  return {
    status: res.statusCode ?? 0,
    header: (name) => {
      const v = res.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    text: () => readBody(res),
    sse: (onEvent) => readSse(res, onEvent),
    discard: () => void res.resume(),
  };
}

/** Reads a whole node:http response body as text. */
export function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('end', () => resolve(text));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('response aborted')));
  });
}

/** Parses a node:http text/event-stream response, calling `onEvent(event, data)` per event; resolves at end. */
export function readSse(res: http.IncomingMessage, onEvent: (event: string, data: string) => void): Promise<void> {
  return new Promise((resolve) => {
    const parser = new SseParser(onEvent);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => parser.push(chunk));
    const done = () => resolve();
    res.on('end', done);
    res.on('close', done);
    res.on('error', done);
  });
}

/**
 * The value of a header in a raw head (`…\r\nName: value\r\n…`), found in its lower-case copy by
 * `needle` (`\r\n<name>:`); repeated headers are joined with ", ", like node:http.
 */
function headerValue(text: string, lower: string, needle: string): string | undefined {
  let value: string | undefined;
  for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, i + needle.length)) {
    let start = i + needle.length;
    let end = text.indexOf('\r\n', start);
    while (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9) start++;
    while (end > start && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
    const v = text.slice(start, end);
    value = value === undefined ? v : `${value}, ${v}`;
  }
  return value;
}

interface Sink {
  data(text: string): void;
  end(): void;
  error(err: Error): void;
}

/** One request/response on the lean pool; it is the response once the head has arrived. */
class Exchange implements UpstreamResponse, SentRequest {
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
  private buffered: string[] | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(private readonly pool: LeanHttpPool, readonly head: string, readonly body: string) {
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
    const parser = new SseParser(onEvent);
    return new Promise((resolve) => this.attach({ data: (t) => parser.push(t), end: resolve, error: () => resolve() }));
  }

  discard(): void {
    this.attach({ data() {}, end() {}, error() {} });
  }

  /** Tears the exchange down: its socket is destroyed (never reused), the caller's promises settle. */
  abort(): void {
    if (this.settled) return;
    const conn = this.conn;
    if (conn) {
      conn.ex = undefined;
      conn.socket.destroy();
    } else this.pool.dequeue(this);
    this.fail(new Error('request aborted'));
  }

  onHead(status: number, text: string, lower: string): void {
    this.status = status;
    this.headText = text;
    this.headLower = lower;
    this.headSeen = true;
    this.resolveHead(this);
  }

  onBody(bytes: Buffer): void {
    // Bodies are ASCII-terminated JSON or SSE lines almost always: decode directly, and only keep a
    // StringDecoder (which carries a split multi-byte character over) once a piece ends mid-character.
    const text = this.decoder === undefined && bytes[bytes.length - 1] < 0x80 ? bytes.toString('utf8') : (this.decoder ??= new StringDecoder('utf8')).write(bytes);
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
    if (this.sink) this.sink.error(err);
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

/** How the response body is framed; `head` while the head is still being read. */
type Body = 'head' | 'length' | 'chunked' | 'close';
/** Where the chunked parser is: a size line, chunk data, the CRLF after it, or the trailer. */
type Chunk = 'size' | 'data' | 'data-end' | 'trailer';

/** One pooled socket and the parser of the response it is receiving. */
class Conn {
  ex: Exchange | undefined;
  idleSince = 0;
  /** From the server's `Keep-Alive: timeout=N` hint (minus 1 s): older idle sockets are not reused. */
  idleLimitMs = Infinity;
  private body: Body = 'head';
  private chunk: Chunk = 'size';
  private remaining = 0;
  private keepAlive = true;
  /** An incomplete head or chunk-size/trailer line, waiting for more bytes. */
  private partial: Buffer | undefined;
  private gone = false;

  constructor(private readonly pool: LeanHttpPool, readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    socket.on('data', (b: Buffer) => this.onData(b));
    socket.on('end', () => this.onGone());
    socket.on('close', () => this.onGone());
    socket.on('error', (err) => this.onGone(err));
  }

  start(ex: Exchange): void {
    this.ex = ex;
    ex.conn = this;
    this.body = 'head';
    this.keepAlive = true;
    this.partial = undefined;
    if (NON_ASCII.test(ex.head)) {
      // node:http sends header bytes as latin1; keep that for non-ASCII values.
      this.socket.cork();
      this.socket.write(ex.head, 'latin1');
      this.socket.write(ex.body);
      this.socket.uncork();
    } else this.socket.write(ex.head + ex.body);
  }

  private onData(buf: Buffer): void {
    const ex = this.ex;
    if (!ex) return void this.socket.destroy(); // bytes nobody asked for: the connection is unusable
    if (this.partial) {
      buf = Buffer.concat([this.partial, buf]);
      this.partial = undefined;
    }
    let pos = 0;
    while (pos < buf.length && this.ex === ex) {
      if (this.body === 'head') pos = this.readHead(ex, buf, pos);
      else if (this.body === 'length') {
        const n = Math.min(this.remaining, buf.length - pos);
        ex.onBody(buf.subarray(pos, pos + n));
        pos += n;
        if ((this.remaining -= n) === 0) this.finish(ex);
      } else if (this.body === 'chunked') pos = this.readChunked(ex, buf, pos);
      else {
        ex.onBody(pos === 0 ? buf : buf.subarray(pos));
        pos = buf.length;
      }
      if (pos < 0) return; // waiting for the rest of a line, or the exchange failed
    }
    if (pos < buf.length && this.ex !== ex && !this.gone) this.socket.destroy(); // bytes after the response
  }

  /** Parses a response head at `pos`; returns where the body starts, or -1. */
  private readHead(ex: Exchange, buf: Buffer, pos: number): number {
    const blank = buf.indexOf(HEAD_END, pos);
    if (blank < 0) {
      if (buf.length - pos > 64 * 1024) return this.broken(ex, 'response head too large');
      this.partial = buf.subarray(pos);
      return -1;
    }
    const end = blank - pos;
    const text = buf.toString('latin1', pos, blank + 2);
    // "HTTP/1.1 200 OK": version at 5..7, status at 9..12.
    const status = Number(text.slice(9, 12));
    if (!text.startsWith('HTTP/1.') || text.charCodeAt(12) > 32 || !(status >= 100 && status <= 999)) return this.broken(ex, 'invalid HTTP response');
    if (status >= 100 && status < 200) {
      if (status === 101) return this.broken(ex, 'unexpected protocol switch');
      return pos + end + 4; // interim response (100 Continue, 103 Early Hints): the real head follows
    }
    // Headers are looked up on demand: a response has a dozen, the client reads at most six.
    const lower = text.toLowerCase();
    const connection = headerValue(lower, lower, '\r\nconnection:') ?? '';
    this.keepAlive = text.charCodeAt(7) === 49 /* HTTP/1.1 */ ? !connection.includes('close') : connection.includes('keep-alive');
    const keepAliveHint = headerValue(lower, lower, '\r\nkeep-alive:');
    const hint = keepAliveHint === undefined ? null : /timeout=(\d+)/.exec(keepAliveHint);
    if (hint) this.idleLimitMs = Math.max(0, Number(hint[1]) * 1000 - 1000);
    ex.onHead(status, text, lower);
    if (this.ex !== ex) return -1;
    const length = headerValue(lower, lower, '\r\ncontent-length:');
    if (status === 204 || status === 304) this.body = 'length';
    else if (headerValue(lower, lower, '\r\ntransfer-encoding:')?.includes('chunked')) {
      this.body = 'chunked';
      this.chunk = 'size';
    } else if (length !== undefined) {
      this.remaining = Number(length);
      if (!Number.isSafeInteger(this.remaining) || this.remaining < 0) return this.broken(ex, 'invalid Content-Length');
      this.body = 'length';
    } else {
      this.body = 'close';
      this.keepAlive = false;
    }
    if (this.body === 'length' && (status === 204 || status === 304 || this.remaining === 0)) {
      this.remaining = 0;
      this.finish(ex);
    }
    return pos + end + 4;
  }

  /** Consumes chunked-encoding bytes at `pos`; returns the next position, or -1 to wait for more. */
  private readChunked(ex: Exchange, buf: Buffer, pos: number): number {
    while (pos < buf.length && this.ex === ex) {
      if (this.chunk === 'data') {
        const n = Math.min(this.remaining, buf.length - pos);
        ex.onBody(buf.subarray(pos, pos + n));
        pos += n;
        if ((this.remaining -= n) === 0) {
          this.chunk = 'data-end';
          this.remaining = 2; // the CRLF after the data, possibly split across reads
        }
      } else if (this.chunk === 'data-end') {
        const n = Math.min(this.remaining, buf.length - pos);
        pos += n;
        if ((this.remaining -= n) === 0) this.chunk = 'size';
      } else {
        const nl = buf.indexOf('\n', pos);
        if (nl < 0) {
          if (buf.length - pos > 16 * 1024) return this.broken(ex, 'invalid chunked encoding');
          this.partial = buf.subarray(pos);
          return -1;
        }
        const line = buf.toString('latin1', pos, nl).trim();
        pos = nl + 1;
        if (this.chunk === 'trailer') {
          if (line === '') this.finish(ex);
        } else {
          const size = parseInt(line, 16); // stops at a ";ext"
          if (!(size >= 0)) return this.broken(ex, 'invalid chunked encoding');
          this.chunk = size === 0 ? 'trailer' : 'data';
          this.remaining = size;
        }
      }
    }
    return pos;
  }

  private broken(ex: Exchange, message: string): number {
    this.ex = undefined;
    this.socket.destroy();
    ex.fail(new Error(message));
    return -1;
  }

  private finish(ex: Exchange): void {
    this.ex = undefined;
    ex.onEnd();
    if (this.keepAlive && !this.gone) this.pool.release(this);
    else this.socket.destroy();
  }

  private onGone(err?: Error): void {
    if (this.gone) return;
    this.gone = true;
    this.pool.forget(this);
    this.socket.destroy();
    const ex = this.ex;
    if (!ex) return;
    this.ex = undefined;
    if (this.body === 'close' && !err) return ex.onEnd();
    if (this.body !== 'head') return ex.fail(new Error('response aborted'));
    ex.fail(err ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
  }
}

/** Keep-alive HTTP/1.1 connections to one http: origin, one exchange per socket at a time. */
export class LeanHttpPool {
  private readonly host: string;
  private readonly port: number;
  private readonly idle: Conn[] = [];
  private readonly queue: Exchange[] = [];
  private readonly conns = new Set<Conn>();
  private closed = false;

  constructor(url: URL) {
    this.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = Number(url.port || 80);
  }

  /** Sends a request: `head` is the request line and headers (ending in a blank line), `body` the payload. */
  request(head: string, body: string): Exchange {
    const ex = new Exchange(this, head, body);
    if (this.closed) ex.fail(new Error('connection pool closed'));
    else {
      const conn = this.take();
      if (conn) conn.start(ex);
      else this.queue.push(ex);
    }
    return ex;
  }

  /** A finished socket: handed to the next queued request, or kept idle (unref'd, like node's agent). */
  release(conn: Conn): void {
    if (this.closed) return void conn.socket.destroy();
    const next = this.queue.shift();
    if (next) return conn.start(next);
    conn.idleSince = performance.now();
    conn.socket.unref();
    this.idle.push(conn);
  }

  /** Drops a socket that closed (idle or busy); a queued request gets a fresh connection. */
  forget(conn: Conn): void {
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    this.conns.delete(conn);
    const next = this.closed ? undefined : this.queue.shift();
    if (next) this.take()?.start(next);
  }

  dequeue(ex: Exchange): void {
    const i = this.queue.indexOf(ex);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** Destroys every connection; in-flight and queued exchanges fail. */
  close(): void {
    this.closed = true;
    for (const ex of this.queue.splice(0)) ex.fail(new Error('connection pool closed'));
    for (const conn of [...this.conns]) conn.socket.destroy();
  }

  private take(): Conn | undefined {
    for (let conn = this.idle.pop(); conn; conn = this.idle.pop()) {
      if (!conn.socket.destroyed && performance.now() - conn.idleSince < conn.idleLimitMs) {
        conn.socket.ref();
        return conn;
      }
      conn.socket.destroy(); // its 'close' runs forget(), which no longer finds it idle
    }
    if (this.conns.size >= MAX_SOCKETS) return undefined;
    const conn = new Conn(this, net.connect({ host: this.host, port: this.port }));
    this.conns.add(conn);
    return conn;
  }
}
