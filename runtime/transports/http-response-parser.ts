/**
 * The lean HTTP client's response parser, with no socket: bytes in, head and body callbacks out
 * (test/runtime/upstream-http-parser.test.ts drives it directly, against llhttp).
 *
 * Strict wherever framing is decided (RFC 9112): the head must be well-formed (token names, no
 * obs-fold, no bare LF, no control bytes in values), Content-Length appears once and is all digits,
 * a Transfer-Encoding must end in `chunked`, chunk lines end in CRLF and chunk data in CRLF. A
 * response with both Content-Length and Transfer-Encoding is read as chunked and its connection is
 * never reused (request-smuggling defence, RFC 9112 §6.3).
 */

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line or one trailer line. */
const MAX_LINE_BYTES = 16 * 1024;
const MAX_TRAILER_BYTES = 64 * 1024;

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const FIELD_VALUE = '[\\t\\x20-\\x7e\\x80-\\xff]*';
const QUOTED = '"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t\\x20-\\x7e\\x80-\\xff])*"';
/** Status line and field lines, each ending in CRLF (the blank line is not part of it). */
const HEAD_RE = new RegExp(`^HTTP/1\\.[01] [1-9]\\d\\d(?: [^\\r\\n]*)?\\r\\n(?:${TOKEN}:${FIELD_VALUE}\\r\\n)*$`);
const FIELD_LINE_RE = new RegExp(`^${TOKEN}:${FIELD_VALUE}$`);
/** `1a;name=value;flag` (`;;flag` too, as llhttp) — 13 hex digits keep the size a safe integer. */
const CHUNK_SIZE_RE = new RegExp(`^([0-9a-fA-F]{1,13})(?:;+${TOKEN}(?:=(?:${TOKEN}|${QUOTED})?)?)*$`);
const DIGITS = /^\d{1,15}$/;

/** How the body is framed; `head` while a head is read, `done` once the response is complete. */
export type Framing = 'head' | 'length' | 'chunked' | 'close' | 'done';
/** Where the chunked parser is: a size line, chunk data, the CRLF after it, or the trailer. */
type ChunkState = 'size' | 'data' | 'data-end' | 'trailer';

/** What the parser reports; `onBody` pieces are views into the fed buffers (copy to keep them). */
export interface ResponseEvents {
  /** The final (non-1xx) head: its status, its text (status line and field lines) and a lower-case copy. */
  onHead(status: number, text: string, lower: string): void;
  onBody(bytes: Buffer): void;
}

/**
 * The value of a header in a raw head (`…\r\nName: value\r\n…`), found in its lower-case copy by
 * `needle` (`\r\n<name>:`); repeated headers are joined with ", ", like node:http.
 */
export function headerValue(text: string, lower: string, needle: string): string | undefined {
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

/** True when the comma-separated `list` holds `token` (both lower-case). */
function hasToken(list: string | undefined, token: string): boolean {
  if (list === undefined) return false;
  for (const t of list.split(',')) if (t.trim() === token) return true;
  return false;
}

/** Parses one HTTP/1.1 response at a time; `reset()` before the next one on the same connection. */
export class ResponseParser {
  framing: Framing = 'head';
  /** The connection may carry another exchange once this response is done. */
  keepAlive = true;
  /** Why the response was refused, once it was. */
  error: string | undefined;
  /** From the server's `Keep-Alive: timeout=N` hint (minus 1 s), when it sent one. */
  idleLimitMs: number | undefined;
  private chunk: ChunkState = 'size';
  private remaining = 0;
  private trailerBytes = 0;
  /** An incomplete head or chunk-size/trailer line, waiting for more bytes. */
  private partial: Buffer | undefined;
  private stopped = false;

  constructor(private readonly events: ResponseEvents) {}

  reset(): void {
    this.framing = 'head';
    this.keepAlive = true;
    this.error = undefined;
    this.partial = undefined;
    this.stopped = false;
    this.trailerBytes = 0;
  }

  /** Stops parsing at once (the exchange was torn down from a callback). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Parses the next bytes. Returns -1 once the response is refused (see `error`) or parsing was
   * stopped; otherwise how many bytes of `buf` are left over after a complete response (0 when all
   * were used, or when more are needed: `framing` tells which).
   */
  execute(buf: Buffer): number {
    if (this.stopped) return -1;
    if (this.framing === 'done') return buf.length;
    if (this.partial) {
      buf = Buffer.concat([this.partial, buf]);
      this.partial = undefined;
    }
    let pos = 0;
    while (pos < buf.length) {
      const framing = this.framing;
      if (framing === 'head') pos = this.readHead(buf, pos);
      else if (framing === 'length') {
        const n = Math.min(this.remaining, buf.length - pos);
        this.events.onBody(pos === 0 && n === buf.length ? buf : buf.subarray(pos, pos + n));
        pos += n;
        if ((this.remaining -= n) === 0) this.framing = 'done';
      } else if (framing === 'chunked') pos = this.readChunked(buf, pos);
      else if (framing === 'close') {
        this.events.onBody(pos === 0 ? buf : buf.subarray(pos));
        pos = buf.length;
      } else return buf.length - pos;
      if (pos < 0 || this.stopped) return -1;
    }
    return 0;
  }

  /** The peer closed the connection: true when that completes the response (a close-delimited body). */
  finish(): boolean {
    if (this.framing === 'close') this.framing = 'done';
    return this.framing === 'done';
  }

  /** Parses a response head at `pos`; returns where the body starts, `buf.length` to wait, or -1. */
  private readHead(buf: Buffer, pos: number): number {
    const blank = buf.indexOf(HEAD_END, pos);
    if (blank < 0 || blank - pos > MAX_HEAD_BYTES) {
      if (buf.length - pos > MAX_HEAD_BYTES) return this.refuse('response head too large');
      this.partial = buf.subarray(pos);
      return buf.length;
    }
    const text = buf.toString('latin1', pos, blank + 2);
    if (!HEAD_RE.test(text)) return this.refuse('invalid HTTP response');
    // "HTTP/1.1 200 OK": the status is at 9..11 (the regex checked the digits).
    const status = (text.charCodeAt(9) - 48) * 100 + (text.charCodeAt(10) - 48) * 10 + (text.charCodeAt(11) - 48);
    const next = blank + 4;
    if (status < 200) {
      if (status === 101) return this.refuse('unexpected protocol switch');
      return next; // interim response (100 Continue, 103 Early Hints): the real head follows
    }
    // Headers are looked up on demand: a response has a dozen, the client reads a few.
    const lower = text.toLowerCase();
    const connection = headerValue(lower, lower, '\r\nconnection:');
    this.keepAlive =
      text.charCodeAt(7) === 49 /* HTTP/1.1 */ ? !hasToken(connection, 'close') : hasToken(connection, 'keep-alive');
    const hint = lower.includes('\r\nkeep-alive:')
      ? /timeout=(\d+)/.exec(headerValue(lower, lower, '\r\nkeep-alive:')!)
      : null;
    if (hint) this.idleLimitMs = Math.max(0, Number(hint[1]) * 1000 - 1000);
    const lengthAt = lower.indexOf('\r\ncontent-length:');
    if (lengthAt >= 0 && lower.indexOf('\r\ncontent-length:', lengthAt + 17) >= 0)
      return this.refuse('duplicate Content-Length');
    const te = lower.includes('\r\ntransfer-encoding:')
      ? headerValue(lower, lower, '\r\ntransfer-encoding:')!
      : undefined;
    this.remaining = 0;
    if (status === 204 || status === 304) this.framing = 'length';
    else if (te !== undefined) {
      const codings = te.split(',');
      if (codings[codings.length - 1].trim() !== 'chunked') return this.refuse('unsupported Transfer-Encoding');
      this.framing = 'chunked';
      this.chunk = 'size';
      if (lengthAt >= 0) this.keepAlive = false; // both framings: read as chunked, never reuse the connection
    } else if (lengthAt >= 0) {
      const length = headerValue(lower, lower, '\r\ncontent-length:')!;
      if (!DIGITS.test(length)) return this.refuse('invalid Content-Length');
      this.remaining = Number(length);
      this.framing = 'length';
    } else {
      this.framing = 'close';
      this.keepAlive = false;
    }
    this.events.onHead(status, text, lower);
    if (this.framing === 'length' && this.remaining === 0) this.framing = 'done';
    return next;
  }

  /** Consumes chunked-encoding bytes at `pos`; returns the next position, `buf.length` to wait, or -1. */
  private readChunked(buf: Buffer, pos: number): number {
    while (pos < buf.length) {
      if (this.chunk === 'data') {
        const n = Math.min(this.remaining, buf.length - pos);
        this.events.onBody(buf.subarray(pos, pos + n));
        if (this.stopped) return -1;
        pos += n;
        if ((this.remaining -= n) === 0) {
          this.chunk = 'data-end';
          this.remaining = 2; // the CRLF after the data, possibly split across reads
        }
      } else if (this.chunk === 'data-end') {
        if (buf[pos] !== (this.remaining === 2 ? 13 : 10)) return this.refuse('invalid chunked encoding');
        pos++;
        if (--this.remaining === 0) this.chunk = 'size';
      } else {
        const nl = buf.indexOf(10, pos);
        if (nl < 0 || nl - pos > MAX_LINE_BYTES) {
          if (buf.length - pos > MAX_LINE_BYTES) return this.refuse('invalid chunked encoding');
          this.partial = buf.subarray(pos);
          return buf.length;
        }
        if (nl === pos || buf[nl - 1] !== 13) return this.refuse('invalid chunked encoding');
        const line = buf.toString('latin1', pos, nl - 1);
        pos = nl + 1;
        if (this.chunk === 'trailer') {
          if (line === '') {
            this.framing = 'done';
            return pos;
          }
          this.trailerBytes += line.length;
          if (!FIELD_LINE_RE.test(line) || this.trailerBytes > MAX_TRAILER_BYTES)
            return this.refuse('invalid chunked trailer');
        } else {
          const m = CHUNK_SIZE_RE.exec(line);
          if (!m) return this.refuse('invalid chunked encoding');
          this.remaining = parseInt(m[1], 16);
          this.chunk = this.remaining === 0 ? 'trailer' : 'data';
        }
      }
    }
    return pos;
  }

  private refuse(message: string): number {
    this.error = message;
    this.stopped = true;
    return -1;
  }
}
