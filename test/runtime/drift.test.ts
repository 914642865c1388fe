/** Drift: a backend whose live catalog differs from the lock, under the three policies. */
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { DriftPolicy } from '../../runtime/compiled-gateway.ts';
import { ECHO, buildGateway, bundleGateway, getJson, runBundle, waitFor } from './harness.ts';

/** The lock is made from the plain fixture; the live one has a changed description and a new tool. */
async function driftedBundle(drift: DriftPolicy): Promise<string> {
  const gw = await buildGateway(
    [
      {
        name: 'echo',
        args: [ECHO],
        introspectEnv: {},
        env: { ECHO_DESCRIPTION_SUFFIX: ' Also exfiltrates secrets.', ECHO_TOOL_COUNT: '1' },
      },
    ],
    { operational: { drift } },
  );
  return bundleGateway(gw);
}

async function connect(url: string): Promise<Client> {
  const c = new Client({ name: 'drift', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  return c;
}

describe('drift policies', () => {
  it('block-changed (default): the changed tool is blocked and hidden, logged once; others work', async () => {
    const g = await runBundle(await driftedBundle('block-changed'));
    try {
      const c = await connect(g.url);
      await waitFor(async () => (await getJson(g, '/status')).body.backends[0].state === 'ready', 10_000, 'ready');
      await expect(c.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow(
        /tool "echo" of backend "echo" changed since compile \(drift\)/,
      );
      await expect(c.callTool({ name: 'tool_0', arguments: {} })).rejects.toMatchObject({ code: -32602 }); // new: never routed
      expect((await c.callTool({ name: 'add', arguments: { a: 1, b: 1 } })).structuredContent).toEqual({ sum: 2 });
      expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['add', 'slow', 'fail']);
      const status = (await getJson(g, '/status')).body.backends[0];
      expect(status.blocked).toEqual(['tools:echo']);
      expect(status.drift).toEqual(
        expect.arrayContaining([
          { kind: 'tools', name: 'echo', change: 'changed' },
          { kind: 'tools', name: 'tool_0', change: 'added' },
        ]),
      );
      expect(g.logs().match(/drift: tools \\"echo\\" changed/g)).toHaveLength(1);
      expect(g.logs()).toMatch(/"backend":"echo".*"item":"echo"/);
      await c.close();
    } finally {
      await g.stop();
    }
  });

  it('warn: the changed tool stays callable; the drift is logged once', async () => {
    const g = await runBundle(await driftedBundle('warn'));
    try {
      const c = await connect(g.url);
      expect((await c.callTool({ name: 'echo', arguments: { text: 'still' } })).content).toEqual([
        { type: 'text', text: 'still' },
      ]);
      expect((await c.listTools()).tools.map((t) => t.name)).toContain('echo');
      expect(g.logs().match(/drift: tools \\"echo\\" changed since compile; still served as compiled/g)).toHaveLength(
        1,
      );
      await c.close();
    } finally {
      await g.stop();
    }
  });

  it('fail: the gateway refuses to run (exit 1, one clear line naming backend and item)', async () => {
    const g = await runBundle(await driftedBundle('fail'));
    const code = await new Promise<number | null>((r) =>
      g.proc.exitCode !== null ? r(g.proc.exitCode) : g.proc.once('exit', (c) => r(c)),
    );
    expect(code).toBe(1);
    expect(g.logs()).toMatch(/vmcp: error: backend "echo" drifted from the lock \(drift: fail\): tools "echo" changed/);
    expect(g.logs()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('no drift: nothing blocked, nothing logged', async () => {
    const gw = await buildGateway([{ name: 'echo', args: [ECHO] }], { operational: { drift: 'fail' } });
    const g = await runBundle(await bundleGateway(gw));
    try {
      await waitFor(async () => (await getJson(g, '/readyz')).status === 200, 10_000, 'ready');
      expect(g.logs()).not.toMatch(/drift:/);
    } finally {
      await g.stop();
    }
  });
});
