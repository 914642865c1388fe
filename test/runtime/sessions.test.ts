/** 2025 sessions: server→client routing, logging, cancellation, and the HTTP guards of /mcp. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { ECHO, FAULT, startGatewayOver, waitFor, type RunningGateway } from './harness.ts';
import { request as httpRequest } from 'node:http';

const PROBE = join(import.meta.dirname, 'fixtures', 'probe-server.mjs');
let g: RunningGateway;

beforeAll(async () => {
  g = await startGatewayOver([
    { name: 'echo', args: [ECHO] },
    { name: 'probe', args: [PROBE] },
    { name: 'ask', args: [FAULT], env: { FAULT: 'elicitation' } },
    { name: 'llm', args: [FAULT], env: { FAULT: 'sampling' } },
  ]);
});
afterAll(async () => {
  await g?.stop();
});

async function connect(capabilities: Record<string, unknown> = {}): Promise<Client> {
  const c = new Client({ name: 'sessions-test', version: '1.0.0' }, { capabilities });
  await c.connect(new StreamableHTTPClientTransport(new URL(g.url)));
  return c;
}

/** A raw POST to /mcp (node:http, so Host can be forged). */
function raw(
  body: string,
  headers: Record<string, string>,
  method = 'POST',
): Promise<{ status: number; text: string; headers: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: g.port, path: '/mcp', method, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('server→client requests reach the calling session', () => {
  it('routes an elicitation to the session whose call triggered it', async () => {
    const a = await connect({ elicitation: {} });
    const b = await connect({ elicitation: {} });
    let bCalled = 0;
    a.setRequestHandler(ElicitRequestSchema, async (req) => ({
      action: 'accept',
      content: { answer: `A:${req.params.message}` },
    }));
    b.setRequestHandler(ElicitRequestSchema, async () => {
      bCalled++;
      return { action: 'decline' };
    });
    const r = await a.callTool({ name: 'ask_user', arguments: { message: 'ok?' } });
    expect(JSON.parse((r.content as any)[0].text)).toEqual({ action: 'accept', content: { answer: 'A:ok?' } });
    expect(bCalled).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });

  it('routes sampling and roots round trips', async () => {
    const c = await connect({ sampling: {}, roots: {} });
    c.setRequestHandler(CreateMessageRequestSchema, async (req: any) => ({
      role: 'assistant',
      content: { type: 'text', text: `sampled ${req.params.messages[0].content.text}` },
      model: 'm',
    }));
    c.setRequestHandler(ListRootsRequestSchema, async () => ({
      roots: [{ uri: 'file:///tmp/project', name: 'project' }],
    }));
    expect(((await c.callTool({ name: 'ask_llm', arguments: { prompt: 'p' } })).content as any)[0].text).toBe(
      'sampled p',
    );
    expect(JSON.parse(((await c.callTool({ name: 'roots', arguments: {} })).content as any)[0].text)).toEqual([
      { uri: 'file:///tmp/project', name: 'project' },
    ]);
    await c.close();
  });

  it('refuses a sampling request when the client lacks the capability (the call still answers)', async () => {
    const c = await connect({});
    await expect(c.callTool({ name: 'ask_llm', arguments: { prompt: 'p' } })).rejects.toThrow(/sampling/);
    await c.close();
  });
});

describe('logging and cancellation', () => {
  it('filters backend log messages per session level and delivers them before the result', async () => {
    const c = await connect();
    const got: string[] = [];
    c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void got.push(String(n.params.data)));
    await c.setLoggingLevel('info');
    const r = await c.callTool({ name: 'log', arguments: { count: 3 } });
    expect(r.content).toEqual([{ type: 'text', text: 'logged' }]);
    expect(got).toEqual(['message 1', 'message 2']); // message 0 is debug: filtered for this session
    await c.close();
  });

  it('delivers a client cancellation to the backend', async () => {
    const c = await connect();
    const stats = async () => ((await c.callTool({ name: 'stats', arguments: {} })).structuredContent as any).cancelled;
    const before = await stats();
    const ac = new AbortController();
    const call = c.callTool({ name: 'wait', arguments: { ms: 5000 } }, CallToolResultSchema, { signal: ac.signal });
    setTimeout(() => ac.abort('user cancelled'), 200);
    await expect(call).rejects.toThrow();
    await waitFor(async () => (await stats()) === before + 1, 3000, 'backend to count the cancellation');
    await c.close();
  });
});

describe('HTTP guards', () => {
  it('rejects a foreign Host (DNS rebinding) and a foreign Origin with 403', async () => {
    const badHost = await raw(INIT, { ...JSON_HEADERS, host: 'evil.example.com', origin: 'http://evil.example.com' });
    expect(badHost.status).toBe(403);
    const badOrigin = await raw(INIT, {
      ...JSON_HEADERS,
      host: `127.0.0.1:${g.port}`,
      origin: 'http://evil.example.com',
    });
    expect(badOrigin.status).toBe(403);
    const ok = await raw(INIT, { ...JSON_HEADERS, host: `localhost:${g.port}`, origin: `http://localhost:${g.port}` });
    expect(ok.status).toBe(200);
    expect(ok.headers['mcp-session-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 404 for an unknown session, 400 without one, and ends sessions on DELETE', async () => {
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
    expect((await raw(list, { ...JSON_HEADERS, 'mcp-session-id': 'no-such-session' })).status).toBe(404);
    expect((await raw(list, JSON_HEADERS)).status).toBe(400);
    const init = await raw(INIT, JSON_HEADERS);
    const sid = init.headers['mcp-session-id'];
    expect((await raw(list, { ...JSON_HEADERS, 'mcp-session-id': sid })).status).toBe(200);
    expect((await raw('', { 'mcp-session-id': sid }, 'DELETE')).status).toBe(200);
    expect((await raw(list, { ...JSON_HEADERS, 'mcp-session-id': sid })).status).toBe(404);
  });

  it('enforces Accept (406), Content-Type (415), JSON (400) and the body limit (413)', async () => {
    expect((await raw(INIT, { 'content-type': 'application/json', accept: 'application/json' })).status).toBe(406);
    expect((await raw(INIT, { 'content-type': 'text/plain', accept: JSON_HEADERS.accept })).status).toBe(415);
    expect((await raw('{not json', JSON_HEADERS)).status).toBe(400);
    const huge = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'x'.repeat(5 * 1024 * 1024) } },
    });
    expect((await raw(huge, JSON_HEADERS)).status).toBe(413);
    // Still serving.
    expect((await raw(INIT, JSON_HEADERS)).status).toBe(200);
  });
});
