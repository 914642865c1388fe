/**
 * The lean keep-alive HTTP/1.1 client for upstream POSTs on http: and https: URLs: a pool of sockets per
 * origin (LeanHttpPool) and one exchange per socket at a time (Conn). Responses are parsed off the
 * socket buffers by ResponseParser (http-response-parser.ts) into an Exchange (lean-exchange.ts).
 *
 * Why a client of our own: per call, node:http's `ClientRequest` (options parsing, header
 * validation, agent bookkeeping, an IncomingMessage stream with its listeners) cost about as much
 * CPU as the whole rest of the gateway. Here a request is one pre-serialized string written to a
 * pooled socket. Aborting an exchange destroys its socket, so there is no AbortController per call.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Agent as HttpsAgent } from 'node:https';
import { ResponseParser, type ResponseEvents } from './http-response-parser.ts';
import { Exchange } from './lean-exchange.ts';

/** Like node's agents: at most this many connections per origin; further requests queue. */
const MAX_SOCKETS = 256;
/** A connection attempt that has not completed by then fails its exchange. */
export const CONNECT_TIMEOUT_MS = 10_000;
const NON_ASCII = /[\x80-\xff]/;

/** Pool options (tests use small values). */
export interface LeanPoolOptions {
  maxSockets?: number;
  connectTimeoutMs?: number;
  /** https: the trusted CAs (caBundlePath: the system roots plus the bundle); default the system roots. */
  ca?: string[];
}

/** One pooled socket and the parser of the response it is receiving. */
export class Conn implements ResponseEvents {
  ex: Exchange | undefined;
  idleSince = 0;
  /** From the server's `Keep-Alive: timeout=N` hint (minus 1 s): older idle sockets are not reused. */
  idleLimitMs = Infinity;
  private readonly parser = new ResponseParser(this);
  private gone = false;

  constructor(
    private readonly pool: LeanHttpPool,
    readonly socket: net.Socket,
    connectTimeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    // A server that never completes the TCP handshake must not hold the exchange (or a pool slot) forever.
    socket.setTimeout(connectTimeoutMs, () => {
      if (socket.connecting || (socket instanceof tls.TLSSocket && !socket.authorized))
        socket.destroy(
          Object.assign(new Error(`connect timed out after ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }),
        );
    });
    // Over TLS the connection is usable once the handshake is done, and a handshake can hang too.
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => socket.setTimeout(0));
    socket.on('data', (b: Buffer) => this.onData(b));
    socket.on('end', () => this.onGone());
    socket.on('close', () => this.onGone());
    socket.on('error', (err) => this.onGone(err));
  }

  start(ex: Exchange): void {
    this.ex = ex;
    ex.conn = this;
    this.parser.reset();
    if (NON_ASCII.test(ex.head)) {
      // node:http sends header bytes as latin1; keep that for non-ASCII values.
      this.socket.cork();
      this.socket.write(ex.head, 'latin1');
      this.socket.write(ex.body);
      this.socket.uncork();
    } else this.socket.write(ex.head + ex.body);
  }

  /** Drops the exchange in flight: parsing stops and the socket is destroyed (never reused). */
  drop(): void {
    this.ex = undefined;
    this.parser.stop();
    this.socket.destroy();
  }

  onHead(status: number, text: string, lower: string): void {
    if (this.parser.idleLimitMs !== undefined) this.idleLimitMs = this.parser.idleLimitMs;
    this.ex?.onHead(status, text, lower);
  }

  onBody(bytes: Buffer): void {
    this.ex?.onBody(bytes);
  }

  private onData(buf: Buffer): void {
    const ex = this.ex;
    if (!ex) return void this.socket.destroy(); // bytes nobody asked for: the connection is unusable
    const rest = this.parser.execute(buf);
    if (rest < 0) {
      if (this.ex === ex) this.broken(ex, this.parser.error ?? 'invalid HTTP response');
      return;
    }
    if (this.parser.framing !== 'done') return;
    if (rest > 0) this.parser.keepAlive = false; // bytes after the response: out of step, never reuse
    this.finish(ex);
  }

  private broken(ex: Exchange, message: string): void {
    this.drop();
    ex.fail(new Error(message));
  }

  private finish(ex: Exchange): void {
    this.ex = undefined;
    ex.onEnd();
    if (this.parser.keepAlive && !this.gone) this.pool.release(this);
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
    if (!err && this.parser.finish()) return ex.onEnd();
    if (this.parser.framing !== 'head') return ex.fail(new Error('response aborted'));
    ex.fail(err ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
  }
}

/**
 * Keep-alive HTTP/1.1 connections to one http: or https: origin, one exchange per socket at a time.
 * Over TLS the certificate is verified as node:https does (the system roots, or `ca`; the host name
 * or IP checked), and the last session is offered on every new connection (resumption: no full
 * handshake when the server agrees).
 */
export class LeanHttpPool {
  private readonly host: string;
  private readonly port: number;
  private readonly secure: boolean;
  private readonly ca: string[] | undefined;
  /** The latest TLS session a server handed out, offered when the next connection opens. */
  private session: Buffer | undefined;
  private readonly maxSockets: number;
  private readonly connectTimeoutMs: number;
  private readonly idle: Conn[] = [];
  private readonly queue: Exchange[] = [];
  private readonly conns = new Set<Conn>();
  private closed = false;

  constructor(url: URL, opts: LeanPoolOptions = {}) {
    this.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.secure = url.protocol === 'https:';
    this.port = Number(url.port || (this.secure ? 443 : 80));
    this.ca = opts.ca;
    this.maxSockets = opts.maxSockets ?? MAX_SOCKETS;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  }

  /**
   * Sends a request: `head` is the request line and headers (ending in a blank line), `body` the
   * payload; a response body (or SSE event) over `limit` bytes fails the exchange.
   */
  request(head: string, body: string, limit = Infinity): Exchange {
    const ex = new Exchange(this, head, body, limit);
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
    if (!next) return;
    const fresh = this.take();
    if (fresh) fresh.start(next);
    else this.queue.unshift(next); // no socket free after all: it stays first in line
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

  private connect(): net.Socket {
    if (!this.secure) return net.connect({ host: this.host, port: this.port });
    const socket = tls.connect({
      host: this.host,
      port: this.port,
      // SNI carries host names only; an IP address is still checked against the certificate.
      ...(net.isIP(this.host) ? {} : { servername: this.host }),
      ...(this.ca ? { ca: this.ca } : {}),
      ...(this.session ? { session: this.session } : {}),
      ALPNProtocols: ['http/1.1'],
    });
    socket.on('session', (session: Buffer) => {
      this.session = session;
    });
    return socket;
  }

  private take(): Conn | undefined {
    for (let conn = this.idle.pop(); conn; conn = this.idle.pop()) {
      if (!conn.socket.destroyed && performance.now() - conn.idleSince < conn.idleLimitMs) {
        conn.socket.ref();
        return conn;
      }
      conn.socket.destroy(); // its 'close' runs forget(), which no longer finds it idle
    }
    if (this.conns.size >= this.maxSockets) return undefined;
    const conn = new Conn(this, this.connect(), this.connectTimeoutMs);
    this.conns.add(conn);
    return conn;
  }
}

/**
 * The lean pool for a backend's http: or https: URL (with the CAs of its caBundlePath agent), or
 * undefined for any other scheme.
 */
export function leanPoolFor(
  url: URL,
  agent: HttpsAgent | undefined,
  connectTimeoutMs: number,
): LeanHttpPool | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const ca = (agent?.options as { ca?: string[] } | undefined)?.ca;
  return new LeanHttpPool(url, { connectTimeoutMs, ...(ca ? { ca } : {}) });
}
