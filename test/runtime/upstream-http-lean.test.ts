/**
 * The lean upstream HTTP client over real sockets on 127.0.0.1: smuggling defences (a connection
 * whose framing was ambiguous is never reused), the per-message size bound, the pool queue when a
 * connection closes, and the connect deadline.
 */
import net from 'node:net';
import type tls from 'node:tls';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { headerLines } from '../../runtime/transports/http-client.ts';
import { LeanHttpPool } from '../../runtime/transports/lean-http.ts';
import { MessageTooLargeError } from '../../runtime/transports/upstream-response.ts';
import { FIXTURES } from './harness.ts';
import { rawServer } from '../fixtures/servers/http-raw-server.ts';
import { makePki } from '../support/pki.ts';

const post = (pool: LeanHttpPool, url: URL, body: string, limit?: number) =>
  pool.request(
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n${headerLines({ 'content-type': 'application/json' })}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    body,
    limit,
  );
const settle = <T>(p: Promise<T>) =>
  p.then(
    (v) => ({ ok: true as const, v }),
    (e: Error) => ({ ok: false as const, e }),
  );

const pkiDir = mkdtempSync(join(tmpdir(), 'vmcp-pki-'));
const pki = makePki(pkiDir);
afterAll(() => rmSync(pkiDir, { recursive: true, force: true }));

describe.each(['http', 'https'] as const)('lean client hardening over %s', (scheme) => {
  const server = (answer: Parameters<typeof rawServer>[0]) =>
    rawServer(answer, scheme === 'https' ? { key: pki.key, cert: pki.cert } : undefined);
  const lean = (url: URL, opts: { maxSockets?: number } = {}) =>
    new LeanHttpPool(url, { ...opts, ...(scheme === 'https' ? { ca: [pki.ca] } : {}) });
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('reads Content-Length + Transfer-Encoding as chunked and never reuses that connection', async () => {
    const srv = await server((req, socket, n) => {
      // The Content-Length (5) would leave "\r\n0\r\n\r\n" behind as a smuggled second response.
      if (n === 0)
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n0\r\n\r\n',
        );
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond');
    });
    cleanup.push(srv.close);
    const pool = lean(srv.url);
    cleanup.push(() => pool.close());
    expect(await (await post(pool, srv.url, '{}').response).text()).toBe('first');
    expect(await (await post(pool, srv.url, '{}').response).text()).toBe('second');
    expect(srv.requests()).toBe(2);
    // Each ambiguous response closes its connection: every request got a socket of its own.
    const sockets = new Set<net.Socket>();
    const counting = await server((req, socket) => {
      sockets.add(socket);
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n');
    });
    cleanup.push(counting.close);
    const pool2 = lean(counting.url);
    cleanup.push(() => pool2.close());
    for (let i = 0; i < 3; i++) expect(await (await post(pool2, counting.url, '{}').response).text()).toBe('x');
    expect(sockets.size).toBe(3);
  });

  it('refuses duplicate or conflicting Content-Length and a Transfer-Encoding not ending in chunked, destroying the socket', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}',
      'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n{}',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n{}',
    ];
    const srv = await server((req, socket, n) =>
      socket.write(answers[n] ?? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
    );
    cleanup.push(srv.close);
    const pool = lean(srv.url);
    cleanup.push(() => pool.close());
    const errors: string[] = [];
    for (let i = 0; i < answers.length; i++) {
      const r = await settle(post(pool, srv.url, '{}').response);
      errors.push(r.ok ? 'accepted' : r.e.message);
    }
    expect(errors).toEqual([
      'duplicate Content-Length',
      'duplicate Content-Length',
      'invalid Content-Length',
      'unsupported Transfer-Encoding',
      'unsupported Transfer-Encoding',
    ]);
    expect(await (await post(pool, srv.url, '{}').response).text()).toBe('ok');
  });

  it('fails a body over the limit at once (Content-Length, chunked, close-delimited), resets that socket, leaves others alone', async () => {
    const big = 'x'.repeat(5000);
    const answers = [
      `HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`,
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n${big.slice(0, 1000)}\r\nfa0\r\n${big.slice(0, 4000)}\r\n0\r\n\r\n`,
      `HTTP/1.1 200 OK\r\n\r\n${big}`,
    ];
    let n = 0;
    const srv = await server((req, socket) => {
      if (req.includes('"small"')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"small"');
      else if (answers[n] !== undefined) {
        const a = answers[n++];
        if (a.includes('\r\n\r\n' + big)) socket.end(a);
        else socket.write(a);
      }
    });
    cleanup.push(srv.close);
    const pool = lean(srv.url);
    cleanup.push(() => pool.close());
    for (let i = 0; i < answers.length; i++) {
      const ok = post(pool, srv.url, '"small"', 1024);
      const ex = post(pool, srv.url, '{}', 1024);
      const res = await ex.response;
      const r = await settle(res.text());
      expect(r.ok).toBe(false);
      expect((r as any).e).toBeInstanceOf(MessageTooLargeError);
      expect((r as any).e.limit).toBe(1024);
      expect((ex as any).conn.socket.destroyed).toBe(true);
      expect(await (await ok.response).text()).toBe('"small"');
    }
  });

  it('an SSE event over the limit fails the reader and resets the socket; smaller events before it arrive', async () => {
    const srv = await server((req, socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const ev = (data: string) => {
        const frame = `event: message\ndata: ${data}\n\n`;
        socket.write(`${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`);
      };
      ev('{"n":1}');
      // Later than the head, so the reader is attached (before it attaches, any body counts whole).
      setTimeout(() => {
        ev('y'.repeat(3000));
        ev('{"n":3}');
      }, 20);
    });
    cleanup.push(srv.close);
    const pool = lean(srv.url);
    cleanup.push(() => pool.close());
    const ex = post(pool, srv.url, '{}', 1024);
    const events: string[] = [];
    const r = await settle((await ex.response).sse((e, d) => events.push(d)));
    expect(r.ok).toBe(false);
    expect((r as any).e.what).toBe('an SSE event');
    expect(events).toEqual(['{"n":1}']);
    expect((ex as any).conn.socket.destroyed).toBe(true);
  });

  it('a queued exchange is never dropped when a connection closes and no socket can be taken', async () => {
    const srv = await server((req, socket, n) => {
      if (n === 0)
        socket.destroy(); // the first exchange's connection closes under it
      else socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok:${n}`);
    });
    cleanup.push(srv.close);
    const pool = lean(srv.url, { maxSockets: 1 });
    cleanup.push(() => pool.close());
    // take() finds no socket at the moment the first connection is forgotten (the slot is spoken
    // for by then, e.g. by a connection opened in the same tick): forget() must keep the queued
    // exchange first in line instead of losing it.
    const p = pool as any;
    const take = p.take.bind(pool);
    let refuse = false;
    p.take = () => (refuse ? undefined : take());
    const first = post(pool, srv.url, '{"a":1}');
    const queued = post(pool, srv.url, '{"a":2}'); // the pool is full: it waits
    refuse = true;
    expect((await settle(first.response)).ok).toBe(false);
    refuse = false;
    expect(p.queue.length).toBe(1);
    const third = post(pool, srv.url, '{"a":3}'); // a fresh socket; when it is released, the queued one runs
    expect(await (await third.response).text()).toBe('ok:1');
    expect(await (await queued.response).text()).toBe('ok:2');
  });
});

describe('lean client over TLS', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('resumes the TLS session on a new connection instead of a full handshake', async () => {
    const reused: boolean[] = [];
    // Every answer closes its connection, so each request opens a new one.
    const srv = await rawServer(
      (req, socket) => {
        reused.push((socket as tls.TLSSocket).isSessionReused());
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      },
      { key: pki.key, cert: pki.cert },
    );
    cleanup.push(srv.close);
    const pool = new LeanHttpPool(srv.url, { ca: [pki.ca] });
    cleanup.push(() => pool.close());
    for (let i = 0; i < 3; i++) expect(await (await post(pool, srv.url, '{}').response).text()).toBe('ok');
    expect(srv.requests()).toBe(3);
    expect(reused).toEqual([false, true, true]);
  });

  it('verifies the certificate: an untrusted CA fails the exchange with the TLS error', async () => {
    const srv = await rawServer((req, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), {
      key: pki.key,
      cert: pki.cert,
    });
    cleanup.push(srv.close);
    const pool = new LeanHttpPool(srv.url); // the system roots only
    cleanup.push(() => pool.close());
    const r = await settle(post(pool, srv.url, '{}').response);
    expect(r.ok).toBe(false);
    expect((r as { e: Error }).e.message).toMatch(/certificate/);
    expect(srv.requests()).toBe(0);
  });
});

describe('lean client connect deadline', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('a connection attempt that never completes fails after the connect timeout, and the pool slot is freed', async () => {
    // The fixture listens with a backlog of 1 and never accepts; once its queue is full, the
    // kernel drops further SYNs, so connect() neither succeeds nor fails.
    const proc = spawn(process.execPath, [join(FIXTURES, 'http-no-accept.mjs')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    cleanup.push(() => void proc.kill('SIGKILL'));
    const port = await new Promise<number>((resolve, reject) => {
      let err = '';
      proc.stderr!.on('data', (c: Buffer) => {
        err += c;
        const m = /listening (\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      proc.once('exit', (code) => reject(new Error(`fixture exited ${code}: ${err}`)));
    });
    // Fill the accept queue (connections that complete but are never accepted).
    const fillers: net.Socket[] = [];
    cleanup.push(() => fillers.forEach((s) => s.destroy()));
    for (let i = 0; i < 8; i++) {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      fillers.push(s);
      const done = await Promise.race([
        new Promise((r) => s.once('connect', () => r('connected'))),
        new Promise((r) => setTimeout(() => r('pending'), 300)),
      ]);
      if (done === 'pending') break; // the queue is full: this one is stuck in SYN-SENT
    }
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    const pool = new LeanHttpPool(url, { connectTimeoutMs: 200, maxSockets: 1 });
    cleanup.push(() => pool.close());
    const r = await settle(post(pool, url, '{}').response);
    expect(r.ok).toBe(false);
    expect((r as any).e.message).toBe('connect timed out after 200 ms');
    expect((pool as any).conns.size).toBe(0);
  });
});
