/**
 * Backends that hang instead of failing: a server that accepts TCP and never answers is bounded by
 * the connect deadline and retried with backoff; a stdio child that stays hung after it was marked
 * unhealthy is restarted after a further failure budget. Backoffs are jittered.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { jittered, restartBudget, withDeadline } from '../../runtime/backend/supervisor.ts';
import {
  ECHO,
  buildGateway,
  bundleGateway,
  runBundle,
  startGatewayOver,
  waitFor,
  type Catalog,
  backendStatus,
  pidAlive,
} from './harness.ts';

const state = backendStatus;
const alive = pidAlive;

describe('backoff and deadlines (units)', () => {
  it('jitter keeps a delay within [delay/2, delay]', () => {
    expect(jittered(1000, () => 0)).toBe(500);
    expect(jittered(1000, () => 0.5)).toBe(750);
    expect(jittered(1000, () => 0.999999)).toBe(1000);
    const seen = new Set(Array.from({ length: 50 }, () => jittered(1000)));
    expect(seen.size).toBeGreaterThan(1); // really random by default
    for (const d of seen) expect(d >= 500 && d <= 1000).toBe(true);
  });

  it('a connection that opens after its deadline is closed, not leaked', async () => {
    let late: string | undefined;
    let open!: (v: string) => void;
    const p = withDeadline(new Promise<string>((r) => (open = r)), 20, 'connecting timed out', (v) => (late = v));
    await expect(p).rejects.toThrow('connecting timed out');
    open('wire');
    await new Promise((r) => setImmediate(r));
    expect(late).toBe('wire');
  });

  it('an unhealthy backend gets as many further checks as made it unhealthy', () => {
    expect(restartBudget(3)).toBe(3);
    expect(restartBudget(0)).toBe(1);
  });
});

describe('a backend that accepts TCP and never answers', () => {
  let silent: net.Server;
  const sockets = new Set<net.Socket>();
  let port = 0;
  beforeAll(async () => {
    silent = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    port = (silent.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  const catalog: Catalog = {
    capabilities: { tools: {} },
    tools: [{ name: 'never', inputSchema: { type: 'object' } }],
    prompts: [],
    resources: [],
    resourceTemplates: [],
  };

  it.each(['sse', 'streamable-http'] as const)(
    '%s: connecting is bounded, then retried with backoff; other backends serve',
    async (transport) => {
      const gw = await buildGateway([
        { name: 'silent', transport, url: `http://127.0.0.1:${port}/mcp`, catalog, timeoutMs: 300 },
        { name: 'echo', args: [ECHO] },
      ]);
      gw.backends[0].connectTimeoutMs = 300;
      gw.backends[0].required = false;
      const g = await runBundle(await bundleGateway(gw));
      try {
        const s = await waitFor(
          async () => {
            const b = await state(g, 'silent');
            return b.restarts >= 2 && b;
          },
          20_000,
          'two reconnect attempts',
        );
        expect(s.lastError).toMatch(/timed out after 300 ms|did not answer initialize within 300 ms/);
        const c = new Client({ name: 'hung', version: '1' });
        await c.connect(new StreamableHTTPClientTransport(new URL(g.url)));
        expect((await c.callTool({ name: 'echo', arguments: { text: 'fine' } })).content).toEqual([
          { type: 'text', text: 'fine' },
        ]);
        await expect(c.callTool({ name: 'never', arguments: {} })).rejects.toThrow(/backend "silent" is not available/);
        await c.close();
      } finally {
        await g.stop();
      }
    },
  );
});

describe('a stdio child that hangs (SIGSTOP) and stays hung', () => {
  it('is marked unhealthy, then restarted after the further failure budget, and serves again', async () => {
    const g = await startGatewayOver([{ name: 'echo', args: [ECHO], timeoutMs: 500 }], {
      operational: { healthCheckIntervalMs: 200, unhealthyThreshold: 2 },
    });
    let frozen: number | undefined;
    try {
      const before = await waitFor(
        async () => {
          const b = await state(g, 'echo');
          return b.state === 'ready' && b;
        },
        10_000,
        'ready',
      );
      frozen = before.pid as number;
      process.kill(frozen, 'SIGSTOP');
      await waitFor(async () => (await state(g, 'echo')).state === 'unhealthy', 15_000, 'unhealthy');
      const after = await waitFor(
        async () => {
          const b = await state(g, 'echo');
          return b.state === 'ready' && b.restarts >= 1 && b;
        },
        20_000,
        'restarted and ready',
      );
      expect(after.pid).not.toBe(frozen);
      await waitFor(() => !alive(frozen!), 10_000, 'the hung child is gone');
      const c = new Client({ name: 'hung', version: '1' });
      await c.connect(new StreamableHTTPClientTransport(new URL(g.url)));
      expect((await c.callTool({ name: 'echo', arguments: { text: 'back' } })).content).toEqual([
        { type: 'text', text: 'back' },
      ]);
      await c.close();
      expect(g.logs()).toMatch(/backend still unhealthy; restarting it/);
    } finally {
      if (frozen && alive(frozen)) process.kill(frozen, 'SIGKILL');
      await g.stop();
    }
  });
});
