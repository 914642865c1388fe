/**
 * Session floods: the gateway bounds 2025-era sessions (in all, and per client), answers 503 with
 * Retry-After when full, bounds per-session upstreams (closing the least recently used idle one),
 * drops idle sessions after the configured time, and drains scoped upstreams at shutdown.
 */
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RuntimeLimits } from '../../runtime/compiled-gateway.ts';
import { ECHO, buildGateway, bundleGateway, getJson, runBundle, waitFor, type RunningGateway } from './harness.ts';

const PROBE = join(import.meta.dirname, 'fixtures', 'probe-server.mjs');
const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'flood', version: '1' } },
});

function post(
  g: RunningGateway,
  body: string,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<{ status: number; headers: Record<string, any>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: g.port,
        path: '/mcp',
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? body : undefined);
  });
}

async function gatewayWith(limits: Partial<RuntimeLimits>, perSession = false): Promise<RunningGateway> {
  const gw = await buildGateway([{ name: 'probe', args: [PROBE] }], { operational: { limits } });
  if (perSession) gw.backends[0].sessionAffinity = 'per-session';
  return runBundle(await bundleGateway(gw));
}

describe('session limits', () => {
  let g: RunningGateway;
  afterAll(async () => {
    await g?.stop();
  });

  it('a flood of initialize stops at maxSessionsPerClient with 503 + Retry-After; DELETE frees a slot', async () => {
    g = await gatewayWith({ maxSessions: 1000, maxSessionsPerClient: 10 });
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await post(g, INIT));
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 503);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(30);
    expect(refused[0].headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(refused[0].text).error.message).toMatch(
      /maximum of 10 sessions \(operational\.limits\.maxSessionsPerClient\)/,
    );
    expect((await getJson(g, '/status')).body.sessions).toBe(10);
    // A flood of refusals is logged as a few counted lines, not one line per request.
    const logged = g.logs().match(/initialize refused/g)?.length ?? 0;
    expect(logged).toBeGreaterThanOrEqual(1);
    expect(logged).toBeLessThanOrEqual(3);
    // The sessions that were admitted still work, and ending one admits a new one.
    const sid = ok[0].headers['mcp-session-id'];
    const ping = await post(g, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }), {
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-11-25',
    });
    expect(ping.status).toBe(200);
    expect((await post(g, '', { 'mcp-session-id': sid }, 'DELETE')).status).toBe(200);
    expect((await post(g, INIT)).status).toBe(200);
    expect((await post(g, INIT)).status).toBe(503);
    // /health is unaffected by a full session table.
    expect((await getJson(g, '/health')).status).toBe(200);
    await g.stop();
  });

  it('maxSessions bounds the whole gateway', async () => {
    g = await gatewayWith({ maxSessions: 5, maxSessionsPerClient: 100 });
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await post(g, INIT)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    const last = await post(g, INIT);
    expect(last.status).toBe(503);
    expect(JSON.parse(last.text).error.message).toMatch(/maximum of 5 sessions \(operational\.limits\.maxSessions\)/);
    await g.stop();
  });

  it('sessionIdleTimeout drops an idle session (404 afterwards) and frees its slot', async () => {
    g = await gatewayWith({ maxSessionsPerClient: 1, sessionIdleMs: 1000 });
    const first = await post(g, INIT);
    expect(first.status).toBe(200);
    expect((await post(g, INIT)).status).toBe(503);
    const sid = first.headers['mcp-session-id'];
    await waitFor(async () => (await getJson(g, '/status')).body.sessions === 0, 15_000, 'idle session dropped');
    const ping = await post(g, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }), { 'mcp-session-id': sid });
    expect(ping.status).toBe(404);
    expect((await post(g, INIT)).status).toBe(200);
    await g.stop();
  });
});

describe('per-session upstreams are bounded', () => {
  let g: RunningGateway;
  const clients: Client[] = [];
  beforeAll(async () => {
    g = await gatewayWith({ maxScopedUpstreams: 3 }, true);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await g?.stop();
  });

  const connect = async () => {
    const c = new Client({ name: 'scoped', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(g.url)));
    clients.push(c);
    return c;
  };
  const scoped = async () =>
    (await getJson(g, '/status')).body.backends[0].sessionScoped as Array<{ state: string; pid: number }>;

  it('six sessions calling in turn never hold more than three children: the LRU idle one is closed', async () => {
    const pids = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const c = await connect();
      const r: any = await c.callTool({ name: 'stats', arguments: {} });
      pids.add(r.structuredContent.pid);
      expect((await scoped()).length).toBeLessThanOrEqual(3);
    }
    expect(pids.size).toBe(6); // every session had its own child
    // The first session's child was closed to make room; its next call opens a new one and works.
    const again: any = await clients[0].callTool({ name: 'stats', arguments: {} });
    expect(again.structuredContent.calls).toBe(1);
    expect((await scoped()).length).toBeLessThanOrEqual(3);
  });

  it('when every scoped upstream is busy, a new session gets a clear retryable error, and the busy calls finish', async () => {
    const busy = clients.slice(-3).map((c) => c.callTool({ name: 'wait', arguments: { ms: 3000 } }));
    const inflight = async () =>
      ((await getJson(g, '/status')).body.backends[0].sessionScoped as Array<{ inflight: number }>).reduce(
        (n, x) => n + x.inflight,
        0,
      );
    await waitFor(async () => (await inflight()) === 3, 10_000, 'three calls in flight on three scoped upstreams');
    const late = await connect();
    await expect(late.callTool({ name: 'stats', arguments: {} })).rejects.toThrow(
      /all 3 per-session\/per-subject connections are busy \(operational\.limits\.maxScopedUpstreams\)/,
    );
    for (const r of await Promise.all(busy)) expect((r as any).content[0].text).toBe('waited');
  });

  it('shutdown drains calls in flight on per-session upstreams before closing them', async () => {
    const c = clients[clients.length - 1];
    const call = c.callTool({ name: 'wait', arguments: { ms: 800 } });
    await waitFor(
      async () =>
        (await getJson(g, '/status')).body.backends[0].sessionScoped.some(
          (x: { inflight: number }) => x.inflight === 1,
        ),
      5000,
      'the call in flight upstream',
    );
    const code = g.stop('SIGTERM');
    expect(((await call) as any).content[0].text).toBe('waited');
    expect(await code).toBe(0);
  });
});

describe("the echo backend is unaffected by another gateway's flood", () => {
  it('a gateway with default limits still admits many sessions', async () => {
    const gw = await buildGateway([{ name: 'echo', args: [ECHO] }]);
    const g = await runBundle(await bundleGateway(gw));
    try {
      const statuses = [];
      for (let i = 0; i < 50; i++) statuses.push((await post(g, INIT)).status);
      expect(statuses.every((s) => s === 200)).toBe(true);
    } finally {
      await g.stop();
    }
  });
});
