/** Resilience: circuit breaker states, health checks and unhealthy threshold, best_effort catalog. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { ERR } from '../../runtime/jsonrpc.ts';
import { ECHO, FAULT, backendStatus, getJson, startGatewayOver, waitFor } from './harness.ts';

const PROBE = join(import.meta.dirname, 'fixtures', 'probe-server.mjs');
const state = backendStatus;

async function connect(url: string): Promise<Client> {
  const c = new Client({ name: 'resilience', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  return c;
}

describe('circuit breaker', () => {
  it('opens after N infrastructure failures, fails fast, half-opens after its timeout and closes on success', async () => {
    const g = await startGatewayOver([{ name: 'probe', args: [PROBE], timeoutMs: 300 }], {
      operational: { circuitBreaker: { enabled: true, failureThreshold: 2, timeoutMs: 1000 } },
    });
    try {
      const c = await connect(g.url);
      await waitFor(async () => (await state(g, 'probe')).state === 'ready', 10_000, 'ready');
      for (let i = 0; i < 2; i++)
        await expect(c.callTool({ name: 'wait', arguments: { ms: 2000 } })).rejects.toThrow(/did not answer/);
      expect((await state(g, 'probe')).circuit).toBe('open');
      // Fails fast: refused by the open circuit without reaching the backend (its call counter shows it).
      await expect(c.callTool({ name: 'stats', arguments: {} })).rejects.toMatchObject({
        code: ERR.CONNECTION_CLOSED,
        message: expect.stringContaining('circuit open'),
        data: { backend: 'probe', circuit: 'open' },
      });
      await new Promise((r) => setTimeout(r, 1100));
      // Half-open: one trial goes through; it succeeds, so the circuit closes. The probe has seen
      // the two timed-out waits and this call, never the refused one.
      expect((await c.callTool({ name: 'stats', arguments: {} })).structuredContent).toMatchObject({ calls: 3 });
      expect((await state(g, 'probe')).circuit).toBe('closed');
      // A tool error is not an infrastructure failure.
      await c.close();
    } finally {
      await g.stop();
    }
  });
});

describe('health checks', () => {
  it('marks a frozen backend unhealthy after the threshold without restarting it, and recovers', async () => {
    const g = await startGatewayOver(
      [
        { name: 'echo', args: [ECHO], timeoutMs: 1000 },
        { name: 'probe', args: [PROBE], timeoutMs: 1000 },
      ],
      {
        operational: { healthCheckIntervalMs: 200, unhealthyThreshold: 2 },
      },
    );
    try {
      const c = await connect(g.url);
      const before = await waitFor(
        async () => {
          const b = await state(g, 'echo');
          return b.state === 'ready' && b;
        },
        10_000,
        'ready',
      );
      process.kill(before.pid, 'SIGSTOP');
      try {
        await waitFor(async () => (await state(g, 'echo')).state === 'unhealthy', 10_000, 'unhealthy');
        // Fails fast: refused before any wait ("after 0 ms"), not after the 1 s call budget.
        await expect(c.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow(
          /backend "echo" is not available \(unhealthy\) after 0 ms/,
        );
        expect((await c.callTool({ name: 'stats', arguments: {} })).structuredContent).toBeTruthy();
      } finally {
        process.kill(before.pid, 'SIGCONT');
      }
      const after = await waitFor(
        async () => {
          const b = await state(g, 'echo');
          return b.state === 'ready' && b;
        },
        10_000,
        'healthy again',
      );
      expect(after.pid).toBe(before.pid); // never re-initialized or restarted
      expect(after.restarts).toBe(0);
      expect((await c.callTool({ name: 'echo', arguments: { text: 'back' } })).content).toEqual([
        { type: 'text', text: 'back' },
      ]);
      await c.close();
    } finally {
      await g.stop();
    }
  });
});

describe('partialFailureMode', () => {
  it("best_effort: a down backend's items leave the catalog (list_changed sent) and come back after restart", async () => {
    const dead = {
      capabilities: { tools: {} },
      tools: [{ name: 'gone', inputSchema: { type: 'object' } }],
      prompts: [],
      resources: [],
      resourceTemplates: [],
    };
    const g = await startGatewayOver(
      [
        { name: 'echo', args: [ECHO] },
        { name: 'probe', args: [PROBE] },
        { name: 'dead', args: [FAULT], env: { FAULT: 'exit-at-start' }, catalog: dead },
      ],
      { operational: { partialFailureMode: 'best_effort' } },
    );
    try {
      const c = await connect(g.url);
      let changed = 0;
      c.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
      await waitFor(async () => (await getJson(g, '/readyz')).status === 200, 10_000, 'ready (best effort)');
      const names = async () => (await c.listTools()).tools.map((t) => t.name);
      await waitFor(async () => !(await names()).includes('gone'), 5000, 'dead backend hidden');
      expect(await names()).toContain('wait');
      const pid = (await state(g, 'probe')).pid;
      const changedBefore = changed;
      process.kill(pid, 'SIGKILL');
      await waitFor(async () => !(await names()).includes('wait'), 5000, 'probe hidden while down');
      await waitFor(async () => (await names()).includes('wait'), 10_000, 'probe back after restart');
      expect(changed).toBeGreaterThanOrEqual(changedBefore + 2);
      await c.close();
    } finally {
      await g.stop();
    }
  });
});
