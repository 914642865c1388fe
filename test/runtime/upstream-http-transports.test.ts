/**
 * The HTTP transports driven through WireHooks against backends on 127.0.0.1: the message size
 * bound on every upstream message (JSON bodies on both clients, POST-response SSE, the GET stream,
 * the legacy SSE stream), the GET stream re-opened after it drops (Last-Event-ID, retry:, 405),
 * the legacy endpoint origin check, and connect deadlines.
 */
import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { sseTransport } from '../../runtime/transports/sse.ts';
import { streamableHttpTransport } from '../../runtime/transports/streamable-http.ts';
import type { Wire } from '../../runtime/plugins.ts';
import {
  httpBackend,
  httpServer,
  rawServer,
  recordingHooks,
  sseFrame,
  until,
} from '../fixtures/servers/http-raw-server.ts';

const LIMIT = 4096;
const BIG = 'z'.repeat(LIMIT + 100);
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function readJson(req: http.IncomingMessage): Promise<any> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body ? JSON.parse(body) : undefined));
  });
}

const rpc = (id: number, method: string) => JSON.stringify({ jsonrpc: '2.0', id, method, params: {} });
const result = (id: number, value: unknown) => JSON.stringify({ jsonrpc: '2.0', id, result: value });

/** A Streamable HTTP backend: POST answers by method; GET is handled by `onGet`. */
async function streamableBackend(onGet: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void) {
  let gets = 0;
  const srv = await httpServer(async (req, res) => {
    if (req.method === 'GET') return onGet(req, res, gets++);
    if (req.method === 'DELETE') return void res.writeHead(200).end();
    const msg = await readJson(req);
    if (msg.id === undefined) return void res.writeHead(202).end();
    if (msg.method === 'big')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(result(msg.id, { text: BIG }));
    if (msg.method === 'bigchunked') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(result(msg.id, { text: BIG }).slice(0, 2000));
      return void res.end(result(msg.id, { text: BIG }).slice(2000));
    }
    if (msg.method === 'bigsse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        sseFrame(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } })),
      );
      return void res.end(sseFrame(result(msg.id, { text: BIG })));
    }
    res
      .writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'sess-1' })
      .end(result(msg.id, { ok: msg.method }));
  });
  cleanup.push(srv.close);
  return { url: new URL('/mcp', srv.url).href, gets: () => gets };
}

async function open(url: string, extra: Parameters<typeof httpBackend>[2] = {}) {
  const log = recordingHooks();
  const wire: Wire = await streamableHttpTransport(
    httpBackend('web', url, { maxMessageBytes: LIMIT, ...extra }),
    log.hooks,
  );
  cleanup.push(() => wire.close());
  return { log, wire };
}

const answerTo = (log: ReturnType<typeof recordingHooks>, id: number) => log.messages.find((m) => m.msg.id === id)?.msg;

describe('message size bound (streamable HTTP)', () => {
  for (const [method, client, extra] of [
    ['big', 'lean client, Content-Length', {}],
    ['bigchunked', 'lean client, chunked', {}],
    ['big', 'node:http', { resolvedHeaders: { connection: 'keep-alive' } }],
    ['bigsse', 'lean client, SSE event', {}],
  ] as const) {
    it(`${method} over ${client}: the call fails naming the backend and the limit; other calls go on`, async () => {
      const be = await streamableBackend((req, res) => res.writeHead(405).end());
      const { log, wire } = await open(be.url, extra);
      wire.send(rpc(1, method), 1);
      wire.send(rpc(2, 'small'), 2);
      await until(() => answerTo(log, 1) && answerTo(log, 2), 'both answers');
      expect(answerTo(log, 1).error).toEqual({
        code: -32000,
        message: expect.stringMatching(
          /^vmcp: backend "web" sent (a response body|an SSE event) larger than the limit of 4 KiB; the message was dropped/,
        ),
        data: { vmcpTransport: true },
      });
      expect(answerTo(log, 2).result).toEqual({ ok: 'small' });
      if (method === 'bigsse')
        expect(log.messages.some((m) => m.msg.method === 'notifications/progress' && m.related === 1)).toBe(true);
    });
  }
});

describe('GET stream (streamable HTTP)', () => {
  it("is re-opened after it drops, with Last-Event-ID and the server's retry:, so later notifications arrive", async () => {
    const lastIds: Array<string | undefined> = [];
    const be = await streamableBackend((req, res, n) => {
      lastIds.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (n === 0) {
        res.write('retry: 20\n\n');
        res.end(
          sseFrame(
            JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'before the drop' } }),
            'message',
            'id: ev-1\n',
          ),
        );
      } else if (n === 1)
        res.write(
          sseFrame(
            JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }),
            'message',
            'id: ev-2\n',
          ),
        );
    });
    const { log, wire } = await open(be.url);
    wire.send(rpc(1, 'initialize'), 1);
    await until(() => !!answerTo(log, 1), 'initialize');
    wire.setProtocolVersion!('2025-11-25');
    await until(
      () => log.messages.some((m) => m.msg.method === 'notifications/tools/list_changed'),
      'the notification on the re-opened stream',
    );
    expect(log.messages.filter((m) => m.msg.method).map((m) => m.msg.method)).toEqual([
      'notifications/message',
      'notifications/tools/list_changed',
    ]);
    expect(lastIds).toEqual([undefined, 'ev-1']);
    expect(log.closes).toEqual([]);
  });

  it('is not re-opened after 405 (GET not offered), nor after close()', async () => {
    const be = await streamableBackend((req, res) => res.writeHead(405).end());
    const { log, wire } = await open(be.url);
    wire.setProtocolVersion!('2025-11-25');
    await until(() => be.gets() === 1, 'the GET');
    // Calls still work, and a few round trips later there was no second GET.
    for (let i = 2; i < 6; i++) {
      wire.send(rpc(i, 'small'), i);
      await until(() => !!answerTo(log, i), `answer ${i}`);
    }
    expect(be.gets()).toBe(1);

    const dropping = await streamableBackend((req, res) =>
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end('retry: 30000\n\n'),
    );
    const second = await open(dropping.url);
    second.wire.setProtocolVersion!('2025-11-25');
    await until(() => dropping.gets() === 1, 'the GET');
    await second.wire.close(); // a re-open is pending (30 s): close() cancels it; the timer is unref'd anyway
    expect(dropping.gets()).toBe(1);
  });

  it('an event over the limit is dropped with a warning naming the backend and limit; the stream is reset and re-opened', async () => {
    const be = await streamableBackend((req, res, n) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('retry: 10\n\n');
      if (n === 0)
        res.write(sseFrame(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { data: BIG } })));
      else
        res.write(
          sseFrame(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'small' } })),
        );
    });
    const { log, wire } = await open(be.url);
    wire.setProtocolVersion!('2025-11-25');
    await until(() => log.messages.length > 0, 'the small notification');
    expect(log.messages.map((m) => m.msg.params.data)).toEqual(['small']);
    expect(be.gets()).toBe(2);
    expect(log.warnings.join('\n')).toMatch(
      /backend "web" sent an SSE event larger than the limit of 4 KiB.*GET stream reset/,
    );
  });
});

/** A legacy SSE backend: GET /sse announces `endpoint()`, POST /messages answers on the stream. */
async function legacyBackend(endpoint: (origin: string) => string, onStream?: (res: http.ServerResponse) => void) {
  const posts: string[] = [];
  let stream: http.ServerResponse | undefined;
  const srv = await httpServer(async (req, res) => {
    if (req.method === 'GET') {
      stream = res;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: endpoint\ndata: ${endpoint(`http://${req.headers.host}`)}\n\n`);
      onStream?.(res);
      return;
    }
    const msg = await readJson(req);
    posts.push(msg.method);
    res.writeHead(202).end('Accepted');
    stream?.write(sseFrame(result(msg.id, { ok: msg.method })));
  });
  cleanup.push(srv.close);
  return { url: new URL('/sse', srv.url).href, posts };
}

describe('legacy SSE transport', () => {
  it('refuses an endpoint on another origin: no request (and no credential) goes there', async () => {
    const other = await legacyBackend(() => '/unused');
    const be = await legacyBackend(() => new URL('/messages', other.url).href);
    const log = recordingHooks();
    const backend = httpBackend('legacy', be.url, {
      transport: 'sse',
      maxMessageBytes: LIMIT,
      resolvedHeaders: { 'x-api-key': 'secret' },
    });
    const err = await sseTransport(backend, log.hooks).then(
      () => undefined,
      (e: Error) => e,
    );
    const otherOrigin = new URL(other.url).origin;
    expect(err?.message).toBe(
      `vmcp: backend "legacy": the SSE stream at ${new URL(be.url).origin}/sse offered the endpoint ${otherOrigin}/messages, on another origin; refused`,
    );
    expect(other.posts).toEqual([]);
    // The same-origin case works.
    const ok = await legacyBackend(() => '/messages?session=1');
    const wire = await sseTransport(
      httpBackend('legacy', ok.url, { transport: 'sse', maxMessageBytes: LIMIT }),
      log.hooks,
    );
    cleanup.push(() => wire.close());
    wire.send(rpc(7, 'ping'), 7);
    await until(() => !!answerTo(log, 7), 'the answer on the stream');
    expect(ok.posts).toEqual(['ping']);
  });

  it('an event over the limit on the stream: dropped, warned, and the wire closes so the supervisor reconnects', async () => {
    const be = await legacyBackend(
      () => '/messages',
      (res) =>
        setTimeout(
          () =>
            res.write(
              sseFrame(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { data: BIG } })),
            ),
          20,
        ),
    );
    const log = recordingHooks();
    const wire = await sseTransport(
      httpBackend('legacy', be.url, { transport: 'sse', maxMessageBytes: LIMIT }),
      log.hooks,
    );
    cleanup.push(() => wire.close());
    await until(() => log.closes.length > 0, 'onclose');
    expect(log.closes).toEqual([
      expect.stringMatching(
        /^vmcp: backend "legacy" sent an SSE event larger than the limit of 4 KiB.*; SSE stream reset$/,
      ),
    ]);
    expect(log.messages).toEqual([]);
    expect(log.warnings.join('\n')).toMatch(/backend "legacy" sent an SSE event larger than the limit of 4 KiB/);
  });

  it('connect never hangs: a server that accepts and never answers, or never sends the endpoint, fails the connect and is hung up on', async () => {
    let hungUp = 0;
    const silent = await rawServer((req, socket) => socket.on('close', () => hungUp++));
    cleanup.push(silent.close);
    const log = recordingHooks();
    const e1 = await sseTransport(
      httpBackend('legacy', silent.url.href, { transport: 'sse', connectTimeoutMs: 200 }),
      log.hooks,
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(e1?.message).toBe('timed out after 200 ms waiting for a response');
    const mute = await rawServer((req, socket) => {
      socket.on('close', () => hungUp++);
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
    });
    cleanup.push(mute.close);
    const e2 = await sseTransport(
      httpBackend('legacy', mute.url.href, { transport: 'sse', connectTimeoutMs: 200 }),
      log.hooks,
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(e2?.message).toBe('no endpoint event on the SSE stream within 200 ms');
    await until(() => hungUp === 2, 'both connections closed by the client');
  });
});
