/**
 * The hot-path pieces behind the gateway's per-call cost: the Peer's shared deadline timer
 * (timeouts still fire, never early, still cancel upstream) and the lean upstream HTTP client
 * (framing, keep-alive reuse, aborts) against a raw TCP server that answers byte by byte.
 */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CallContext } from '../../runtime/call-context.ts';
import { cancelCall } from '../../runtime/call-context.ts';
import { ERR, RpcError } from '../../runtime/jsonrpc.ts';
import { SseParser } from '../../runtime/transports/deliver.ts';
import { headerLines } from '../../runtime/transports/http-client.ts';
import { LeanHttpPool } from '../../runtime/transports/lean-http.ts';
import { Peer } from '../../runtime/backend/peer.ts';

/** A Peer on a wire that records what is sent and aborted, never answering by itself. */
function peerOnFakeWire() {
  const sent: any[] = [];
  const aborted: number[] = [];
  const peer = new Peer('be', { onNotification() {}, onServerRequest() {} });
  peer.wire = { send: (data) => sent.push(JSON.parse(data)), abort: (id) => aborted.push(id), close: async () => {} };
  return { peer, sent, aborted };
}

const settle = (p: Promise<unknown>) =>
  p.then(
    (v) => ({ ok: true as const, v }),
    (e) => ({ ok: false as const, e }),
  );
/** Whether `p` has settled yet. */
function watch(p: Promise<unknown>): () => boolean {
  let done = false;
  void p.finally(() => (done = true));
  return () => done;
}
/** Deadlines read performance.now() and arm setTimeout: both run on vitest's clock until the test ends. */
function useFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
}

describe('Peer deadlines (one timer per peer)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('times a call out when due, never early: the error names the backend and the limit, upstream gets notifications/cancelled', async () => {
    useFakeClock();
    const { peer, sent, aborted } = peerOnFakeWire();
    const r = settle(peer.request('tools/call', { name: 'x' }, 80));
    const settled = watch(r);
    await vi.advanceTimersByTimeAsync(79);
    expect(settled()).toBe(false); // 79 ms on the injected clock: not yet due
    expect(sent.map((m) => m.method)).toEqual(['tools/call']);
    await vi.advanceTimersByTimeAsync(2); // the timer is armed 1 ms past the deadline
    expect(settled()).toBe(true);
    const got = await r;
    expect(got.ok).toBe(false);
    const e = (got as { e: RpcError }).e;
    expect(e.code).toBe(ERR.TIMEOUT);
    expect(e.message).toBe('vmcp: backend "be" did not answer tools/call within 80 ms');
    expect(e.data).toEqual({ backend: 'be', timeoutMs: 80 });
    expect(sent.map((m) => m.method)).toEqual(['tools/call', 'notifications/cancelled']);
    expect(sent[1].params).toEqual({ requestId: sent[0].id, reason: 'timeout' });
    expect(aborted).toEqual([sent[0].id]);
    expect(peer.pending.size).toBe(0);
  });

  it('a later, shorter deadline re-arms the timer; answered calls never time out', async () => {
    useFakeClock();
    const { peer, sent } = peerOnFakeWire();
    const long = settle(peer.request('tools/call', {}, 400));
    const longSettled = watch(long);
    const answered = settle(peer.request('tools/call', {}, 60));
    const short = settle(peer.request('ping', {}, 50));
    const shortSettled = watch(short);
    peer.onMessage({ jsonrpc: '2.0', id: sent[1].id, result: { ok: 1 } });
    // The short one is due at 50 ms on the injected clock, while the long one still waits.
    await vi.advanceTimersByTimeAsync(51);
    expect(shortSettled()).toBe(true);
    expect(longSettled()).toBe(false);
    const s = await short;
    expect(s.ok).toBe(false);
    expect((s as any).e.message).toContain('did not answer ping within 50 ms');
    expect(await answered).toEqual({ ok: true, v: { ok: 1 } });
    await vi.advanceTimersByTimeAsync(399 - 51);
    expect(longSettled()).toBe(false); // re-armed for the long one, and never early
    await vi.advanceTimersByTimeAsync(2);
    expect(longSettled()).toBe(true);
    const l = await long;
    expect((l as any).e.message).toContain('within 400 ms');
    // A response after the timeout is ignored.
    peer.onMessage({ jsonrpc: '2.0', id: sent[0].id, result: {} });
    expect(peer.pending.size).toBe(0);
  });

  it('many calls answered in time leave no timeout behind, and a stale wake-up re-arms for what is left', async () => {
    useFakeClock();
    const { peer, sent } = peerOnFakeWire();
    for (let i = 0; i < 200; i++) {
      const p = peer.request('tools/call', { i }, 40);
      peer.onMessage({ jsonrpc: '2.0', id: sent[sent.length - 1].id, result: { i } });
      expect(await p).toEqual({ i });
    }
    await vi.advanceTimersByTimeAsync(30);
    const late = settle(peer.request('tools/call', {}, 60)); // due at 90, after the first deadline's wake-up (41)
    await vi.advanceTimersByTimeAsync(30);
    expect(sent.filter((m) => m.method === 'notifications/cancelled')).toEqual([]);
    await vi.advanceTimersByTimeAsync(31);
    expect((await late).ok).toBe(false);
    expect(sent.filter((m) => m.method === 'notifications/cancelled')).toHaveLength(1);
  });

  it('client cancellation cancels upstream at once; failAll rejects everything and stops the timer', async () => {
    const { peer, sent, aborted } = peerOnFakeWire();
    const ctx: CallContext = { notify() {} };
    const p = settle(peer.request('tools/call', {}, 10_000, ctx));
    cancelCall(ctx);
    const r = await p;
    expect((r as any).e.message).toBe('request cancelled by the client');
    expect(sent[1]).toMatchObject({
      method: 'notifications/cancelled',
      params: { requestId: sent[0].id, reason: 'cancelled by the client' },
    });
    expect(aborted).toEqual([sent[0].id]);
    const a = settle(peer.request('tools/call', {}, 10_000));
    const b = settle(peer.request('tools/call', {}, 20_000));
    peer.failAll(new RpcError(ERR.CONNECTION_CLOSED, 'gone'));
    expect((await a).ok).toBe(false);
    expect((await b).ok).toBe(false);
    expect((peer as any).timer).toBeUndefined();
  });
});

/** A raw HTTP server: `answer(requestText, socket)` writes whatever bytes the test wants. */
async function rawServer(answer: (req: string, socket: net.Socket, n: number) => void) {
  const sockets = new Set<net.Socket>();
  let requests = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = '';
    socket.on('data', (c) => {
      buf += c.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const req = buf.slice(0, end + 4 + len);
        buf = buf.slice(end + 4 + len);
        answer(req, socket, requests++);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/mcp`);
  return {
    url,
    connections: () => sockets.size,
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Writes `bytes` one byte per write, so every parser state sees a split. */
async function dribble(socket: net.Socket, bytes: Buffer): Promise<void> {
  for (const b of bytes) {
    socket.write(Buffer.from([b]));
    await new Promise((r) => setImmediate(r));
  }
}

const head = (pool: LeanHttpPool, url: URL, body: string) =>
  pool.request(
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n${headerLines({ 'content-type': 'application/json' })}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    body,
  );

describe('lean upstream HTTP client', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f();
  });

  it('reads Content-Length and chunked bodies, split anywhere (multi-byte UTF-8 too), and reuses the connection', async () => {
    const sse = 'event: message\ndata: {"text":"é✓ ok"}\n\n';
    const chunked = `HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nX-Two: a\r\nx-two: b\r\n\r\n${Buffer.byteLength(sse, 'utf8').toString(16)};ext=1\r\n${sse}\r\n0\r\nTrailer: x\r\n\r\n`;
    const srv = await rawServer((req, socket, n) => {
      if (n === 0)
        socket.write(
          'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 13\r\nMcp-Session-Id: s1\r\n\r\n{"a":"é✓"}',
        );
      else void dribble(socket, Buffer.from(chunked, 'utf8'));
    });
    cleanup.push(srv.close);
    const pool = new LeanHttpPool(srv.url);
    cleanup.push(() => pool.close());
    const r1 = await head(pool, srv.url, '{"x":1}').response;
    expect(r1.status).toBe(200);
    expect(r1.header('mcp-session-id')).toBe('s1');
    expect(await r1.text()).toBe('{"a":"é✓"}');
    const r2 = await head(pool, srv.url, '{"x":2}').response;
    expect(r2.header('x-two')).toBe('a, b');
    const events: string[] = [];
    await r2.sse((event, data) => events.push(`${event}:${data}`));
    expect(events).toEqual(['message:{"text":"é✓ ok"}']);
    expect(srv.requests()).toBe(2);
    expect(srv.connections()).toBe(1);
  });

  it('Connection: close and close-delimited bodies are not reused; 204 has no body', async () => {
    const srv = await rawServer((req, socket, n) => {
      if (n === 0) socket.write('HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else if (n === 1) socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"until":"close"}');
      else socket.write('HTTP/1.1 204 No Content\r\n\r\n');
    });
    cleanup.push(srv.close);
    const pool = new LeanHttpPool(srv.url);
    cleanup.push(() => pool.close());
    const r1 = await head(pool, srv.url, '{}').response;
    expect(r1.status).toBe(202);
    r1.discard();
    expect(await (await head(pool, srv.url, '{}').response).text()).toBe('{"until":"close"}');
    const r3 = await head(pool, srv.url, '{}').response;
    expect(r3.status).toBe(204);
    expect(await r3.text()).toBe('');
  });

  it('abort destroys the exchange (its socket is never reused); a server that hangs up fails the request', async () => {
    const srv = await rawServer((req, socket, n) => {
      if (n === 0)
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n'); // never ends
      else if (n === 1) socket.destroy();
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}');
    });
    cleanup.push(srv.close);
    const pool = new LeanHttpPool(srv.url);
    cleanup.push(() => pool.close());
    const ex = head(pool, srv.url, '{}');
    const res = await ex.response;
    const streaming = res.sse(() => {});
    ex.abort();
    await streaming; // resolves: the stream broke off
    const hung = await settle(head(pool, srv.url, '{}').response);
    expect(hung.ok).toBe(false);
    expect((hung as any).e.message).toBe('socket hang up');
    expect(await (await head(pool, srv.url, '{}').response).text()).toBe('{}');
    // The server sees the two dead sockets close in its own time: wait for that event, not 50 ms.
    for (let i = 0; i < 500 && srv.connections() > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(srv.connections()).toBe(1);
  });

  it('refuses header values that would inject lines, like node:http', () => {
    expect(() => headerLines({ 'x-key': 'a\r\nx-evil: 1' })).toThrow(/Invalid character in header content \["x-key"\]/);
    expect(() => headerLines({ 'bad name': 'v' })).toThrow(/valid HTTP token/);
  });

  it('parses SSE lines ending in LF or CRLF, split across pushes, multi-line data', () => {
    const got: string[] = [];
    const p = new SseParser((e, d) => got.push(`${e}|${d}`));
    for (const piece of [
      'event: endpoint\r\ndata: /messages?s',
      'ession=1\r\n\r',
      '\ndata: a\ndata:b\n\n: comment\n\n',
    ])
      p.push(piece);
    expect(got).toEqual(['endpoint|/messages?session=1', 'message|a\nb']);
  });
});
