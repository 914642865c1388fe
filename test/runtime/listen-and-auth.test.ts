/** 2026 subscriptions/listen with list_changed, and outgoing header auth reaching an HTTP backend. */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ECHO, getJson, startGatewayOver, waitFor } from './harness.ts';

const PROBE = join(import.meta.dirname, 'fixtures', 'probe-server.mjs');
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

describe('subscriptions/listen (2026-07-28)', () => {
  it('acknowledges the filter and streams list_changed when the served catalog changes', async () => {
    const g = await startGatewayOver(
      [
        { name: 'echo', args: [ECHO] },
        { name: 'probe', args: [PROBE] },
      ],
      { operational: { partialFailureMode: 'best_effort' } },
    );
    try {
      await waitFor(async () => (await getJson(g, '/readyz')).status === 200, 10_000, 'ready');
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: 'sub-1',
        method: 'subscriptions/listen',
        params: { notifications: { toolsListChanged: true }, _meta: ENVELOPE },
      });
      let text = '';
      const req = request(
        {
          host: '127.0.0.1',
          port: g.port,
          path: '/mcp',
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'subscriptions/listen',
          },
        },
        (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          res.on('data', (c) => (text += c));
        },
      );
      req.end(body);
      await waitFor(() => text.includes('notifications/subscriptions/acknowledged'), 5000, 'ack');
      expect(text).toContain('"notifications":{"toolsListChanged":true}');
      expect(text).toContain('"io.modelcontextprotocol/subscriptionId":"sub-1"');
      const pid = (await getJson(g, '/status')).body.backends[1].pid;
      process.kill(pid, 'SIGKILL'); // probe's tools leave the best_effort catalog, then come back
      await waitFor(
        () => (text.match(/notifications\/tools\/list_changed/g) ?? []).length >= 2,
        10_000,
        'two list_changed',
      );
      req.destroy();
    } finally {
      await g.stop();
    }
  });
});

describe('outgoing auth', () => {
  it('header_injection resolves ${env:…} at start-up and sends the header on every upstream request', async () => {
    const seen: Array<string | undefined> = [];
    // A recording proxy in front of the real echo fixture's HTTP mode would need a second process;
    // a tiny MCP-speaking HTTP server is enough to see the headers.
    const server = createServer((req, res) => {
      seen.push(req.headers['x-api-key'] as string | undefined);
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        const msg = data ? JSON.parse(data) : {};
        if (msg.id === undefined) return void res.writeHead(202).end();
        const result =
          msg.method === 'initialize'
            ? { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'rec', version: '1' } }
            : msg.method === 'tools/list'
              ? { tools: [{ name: 'who', inputSchema: { type: 'object' } }] }
              : { content: [{ type: 'text', text: 'ok' }] };
        res
          .writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    const catalog = {
      capabilities: { tools: {} },
      tools: [{ name: 'who', inputSchema: { type: 'object' } }],
      prompts: [],
      resources: [],
      resourceTemplates: [],
    };
    const g = await startGatewayOver(
      [
        {
          name: 'rec',
          transport: 'streamable-http',
          url,
          catalog,
          auth: { type: 'header_injection', headerName: 'x-api-key', headerValue: 'Bearer ${env:VMCP_TEST_SECRET}' },
        },
      ],
      {},
      [],
      { ...process.env, VMCP_TEST_SECRET: 's3cr3t' },
    );
    try {
      const res = await fetch(g.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'who',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'who', _meta: ENVELOPE } }),
      });
      expect(((await res.json()) as any).result.content).toEqual([{ type: 'text', text: 'ok' }]);
      expect(seen.length).toBeGreaterThanOrEqual(3);
      expect(new Set(seen)).toEqual(new Set(['Bearer s3cr3t']));
      expect(g.logs()).not.toContain('s3cr3t');
      expect(JSON.stringify((await getJson(g, '/status')).body)).not.toContain('s3cr3t');
    } finally {
      await g.stop();
      server.close();
    }
  });
});
