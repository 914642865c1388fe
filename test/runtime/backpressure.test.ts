/**
 * Downstream SSE backpressure: a client that stops reading is cut off at
 * operational.limits.maxStreamBufferBytes instead of making the gateway buffer without limit, and
 * other clients are unaffected. Real GatewayCore and node:http in this process; the stalled reader
 * is a raw TCP socket that never reads, so the kernel buffers fill and node starts queueing.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unauthenticated } from '../../runtime/auth/out/unauthenticated.ts';
import { stdioTransport } from '../../runtime/transports/stdio.ts';
import type { CallContext } from '../../runtime/call-context.ts';
import { GatewayCore } from '../../runtime/gateway.ts';
import { notificationJson } from '../../runtime/jsonrpc.ts';
import { createLogger } from '../../runtime/log.ts';
import type { RuntimePlugins } from '../../runtime/plugins.ts';
import { resolveBackends } from '../../runtime/resolve-backends.ts';
import { startHttp, type HttpFrontEnd } from '../../runtime/server/http.ts';
import { buildGateway, waitFor } from './harness.ts';

const PROBE = join(import.meta.dirname, 'fixtures', 'probe-server.mjs');
const LIMIT = 64 * 1024;
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
/** One log message of about 1 KB. */
const LOG_PARAMS = { level: 'info', logger: 'bp', data: 'x'.repeat(1000) };
const LOG = notificationJson('notifications/message', LOG_PARAMS);
/** Far more than the kernel socket buffers (a few MB on loopback) plus LIMIT: the loops below never need it. */
const MAX_PUSHES = 40_000;

let core: GatewayCore;
let http: HttpFrontEnd;
const logs: any[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  const gw = await buildGateway([{ name: 'probe', args: [PROBE] }], {
    operational: { limits: { maxStreamBufferBytes: LIMIT } },
  });
  const log = createLogger({}, 'info', (line) => void logs.push(JSON.parse(line)));
  const plugins: RuntimePlugins = { transports: { stdio: stdioTransport }, outgoingAuth: { unauthenticated } };
  core = new GatewayCore(gw, resolveBackends(gw, plugins, process.env, log), plugins, log);
  http = await startHttp(core, '127.0.0.1', 0);
  core.start();
  await waitFor(() => core.ready(), 15_000, 'backend ready');
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await http?.close(200);
  await core?.close();
});

/** Sends one HTTP request on a raw socket that never reads its response. */
function stalledRequest(method: string, headers: Record<string, string>, body = ''): Socket {
  const s = connect(http.port, '127.0.0.1');
  s.pause();
  sockets.push(s);
  const head = Object.entries({
    host: `127.0.0.1:${http.port}`,
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  s.write(`${method} /mcp HTTP/1.1\r\n${head}\r\n${body}`);
  return s;
}

/** A request whose response is read as it comes; `text()` is everything received so far. */
function readingRequest(method: string, headers: Record<string, string>, body = '') {
  let text = '';
  let ended = false;
  const req = request({ host: '127.0.0.1', port: http.port, path: '/mcp', method, headers }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('end', () => (ended = true));
  });
  req.end(body);
  return { text: () => text, ended: () => ended, destroy: () => req.destroy() };
}

/** Resolves when the stalled socket has been ended by the gateway (read it out: everything up to FIN). */
function drainUntilClosed(s: Socket): Promise<number> {
  let bytes = 0;
  s.on('data', (c: Buffer) => (bytes += c.length));
  s.resume();
  return new Promise((resolve) => s.once('close', () => resolve(bytes)));
}

/** Calls `push` until `gone()` (yielding so I/O runs), at most MAX_PUSHES times; returns the pushes made. */
async function pushUntil(push: () => void, gone: () => boolean): Promise<number> {
  let n = 0;
  while (n < MAX_PUSHES && !gone()) {
    push();
    if (++n % 50 === 0) await tick();
  }
  return n;
}

async function newSession(): Promise<string> {
  const res = await fetch(http.url, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bp', version: '1' } },
    }),
  });
  await res.text();
  return res.headers.get('mcp-session-id')!;
}

const cutFor = (stream: string) =>
  logs.filter((l) => l.stream === stream && l.msg.startsWith('downstream client is not reading'));

describe('downstream SSE backpressure', () => {
  it('ends a 2025 GET stream whose reader stalled, with bounded buffering; another session keeps its stream', async () => {
    const stalledId = await newSession();
    const readingId = await newSession();
    const stalled = stalledRequest('GET', { accept: 'text/event-stream', 'mcp-session-id': stalledId });
    const reader = readingRequest('GET', { accept: 'text/event-stream', 'mcp-session-id': readingId });
    await waitFor(
      () => core.sessions.get(stalledId)?.push && core.sessions.get(readingId)?.push,
      5000,
      'both GET streams open',
    );

    const pushes = await pushUntil(
      () => core.broadcast(LOG),
      () => core.sessions.get(stalledId)?.push === undefined,
    );
    expect(core.sessions.get(stalledId)?.push).toBeUndefined(); // the stream was ended (its close handler ran)
    expect(pushes).toBeLessThan(MAX_PUSHES);
    const [cut] = cutFor('2025 GET');
    expect(cut).toMatchObject({ session: stalledId, limit: LIMIT, level: 40 });
    // Memory stayed bounded: node held at most the limit plus the one message that crossed it.
    expect(cut.buffered).toBeGreaterThan(LIMIT);
    expect(cut.buffered).toBeLessThanOrEqual(LIMIT + LOG.length + 40);
    expect(cutFor('2025 GET')).toHaveLength(1);
    await drainUntilClosed(stalled);

    // The reading session got every message and its stream is still open.
    expect(core.sessions.get(readingId)?.push).toBeDefined();
    core.broadcast(notificationJson('notifications/message', { level: 'info', data: 'after' }));
    await waitFor(() => reader.text().includes('"data":"after"'), 5000, 'the reader still receives');
    expect(reader.text().split('"logger":"bp"').length - 1).toBe(pushes);
    reader.destroy();
  });

  it('ends a 2026 subscriptions/listen stream whose reader stalled; another listener is unaffected', async () => {
    const body = (id: string) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'subscriptions/listen',
        params: { notifications: { toolsListChanged: true }, _meta: ENVELOPE },
      });
    const headers = { ...JSON_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' };
    const before = core.listeners.size;
    const stalled = stalledRequest('POST', headers, body('stalled'));
    await waitFor(() => core.listeners.size === before + 1, 5000, 'stalled listener');
    const reader = readingRequest('POST', headers, body('reading'));
    await waitFor(() => core.listeners.size === before + 2, 5000, 'reading listener');
    const stalledListener = [...core.listeners][before];
    const changed = notificationJson('notifications/tools/list_changed', {});

    const pushes = await pushUntil(
      () => {
        for (const l of core.listeners) l('tools', changed);
      },
      () => !core.listeners.has(stalledListener),
    );
    expect(core.listeners.has(stalledListener)).toBe(false);
    expect(pushes).toBeLessThan(MAX_PUSHES);
    const [cut] = cutFor('2026 subscriptions/listen');
    expect(cut).toMatchObject({ subscription: 'stalled', limit: LIMIT });
    expect(cut.buffered).toBeLessThanOrEqual(LIMIT + 200);
    await drainUntilClosed(stalled);

    expect(core.listeners.size).toBe(before + 1);
    await waitFor(
      () => reader.text().split('notifications/tools/list_changed').length - 1 === pushes,
      5000,
      'the reader got every notification',
    );
    expect(reader.ended()).toBe(false);
    reader.destroy();
  });

  it('ends a 2026 call stream whose reader stalled and cancels the call upstream', async () => {
    const probe = core.backends[0];
    const call = JSON.stringify({
      jsonrpc: '2.0',
      id: 'stalled',
      method: 'tools/call',
      params: {
        name: 'wait',
        arguments: { ms: 30_000 },
        _meta: { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': 'info' },
      },
    });
    const stalled = stalledRequest(
      'POST',
      { ...JSON_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'wait' },
      call,
    );
    await waitFor(() => probe.peer?.pending.size === 1, 5000, 'call upstream');
    const ctx = [...probe.peer!.pending.values()][0].ctx as CallContext;

    // What the gateway does with each of the backend's log messages for this call: ctx.notify.
    const pushes = await pushUntil(
      () => ctx.notify('notifications/message', LOG_PARAMS),
      () => ctx.cancelled === true,
    );
    expect(ctx.cancelled).toBe(true);
    expect(pushes).toBeLessThan(MAX_PUSHES);
    const [cut] = cutFor('2026 call');
    expect(cut.limit).toBe(LIMIT);
    expect(cut.buffered).toBeLessThanOrEqual(LIMIT + LOG.length + 40);
    await waitFor(() => probe.peer?.pending.size === 0, 5000, 'upstream call cancelled');
    await drainUntilClosed(stalled);

    // The backend saw the cancellation; another client's call works.
    const stats = await fetch(http.url, {
      method: 'POST',
      headers: {
        ...JSON_HEADERS,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'stats',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'stats', arguments: {}, _meta: ENVELOPE },
      }),
    });
    expect(((await stats.json()) as any).result.structuredContent.cancelled).toBe(1);
  });

  // handleLegacyPost builds its HttpExchange without a bound yet, so this stream is cut at the
  // default maxStreamBufferBytes (8 MiB), not LIMIT; the pushes still stop far short of MAX_PUSHES.
  it('ends a 2025 call stream whose reader stalled and cancels the call upstream', async () => {
    const probe = core.backends[0];
    const id = await newSession();
    const cancelledBefore = probe.peer!.pending.size;
    const call = JSON.stringify({
      jsonrpc: '2.0',
      id: 'stalled-2025',
      method: 'tools/call',
      params: { name: 'wait', arguments: { ms: 30_000 } },
    });
    const stalled = stalledRequest(
      'POST',
      { ...JSON_HEADERS, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
      call,
    );
    await waitFor(() => probe.peer?.pending.size === cancelledBefore + 1, 5000, 'call upstream');
    const ctx = [...probe.peer!.pending.values()].at(-1)!.ctx as CallContext;
    expect(ctx.sessionId).toBe(id);

    const pushes = await pushUntil(
      () => ctx.notify('notifications/message', LOG_PARAMS),
      () => ctx.cancelled === true,
    );
    expect(ctx.cancelled).toBe(true);
    expect(pushes).toBeLessThan(MAX_PUSHES);
    await waitFor(() => probe.peer?.pending.size === cancelledBefore, 5000, 'upstream call cancelled');
    await drainUntilClosed(stalled);
    expect(core.sessions.get(id)?.inflight.size).toBe(0);
  });
});
