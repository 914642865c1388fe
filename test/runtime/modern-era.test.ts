/** MCP 2026-07-28 (stateless) through the bundled gateway, with the v2 client in auto negotiation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { ECHO, FAULT, getJson, startGatewayOver, waitFor, type RunningGateway } from './harness.ts';

let g: RunningGateway;
let client: Client;
const META_PV = 'io.modelcontextprotocol/protocolVersion';

beforeAll(async () => {
  g = await startGatewayOver([
    { name: 'echo', args: [ECHO] },
    { name: 'ask', args: [FAULT], env: { FAULT: 'elicitation' } },
    { name: 'llm', args: [FAULT], env: { FAULT: 'sampling' } },
  ]);
  client = new Client(
    { name: 'modern-test', version: '1.0.0' },
    { versionNegotiation: { mode: 'auto' }, capabilities: { elicitation: {}, sampling: {} } },
  );
  client.setRequestHandler('elicitation/create', async (req: any) => ({
    action: 'accept',
    content: { answer: `yes to ${req.params.message}` },
  }));
  client.setRequestHandler('sampling/createMessage', async (req: any) => ({
    role: 'assistant',
    content: { type: 'text', text: `LLM says: ${req.params.messages[0].content.text}` },
    model: 'test-model',
  }));
  await client.connect(new StreamableHTTPClientTransport(new URL(g.url)));
});
afterAll(async () => {
  await client?.close();
  await g?.stop();
});

/** A raw 2026 POST with the standard headers. */
async function post(body: any, headers: Record<string, string> = {}) {
  const res = await fetch(g.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': body.method,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}
const envelope = {
  [META_PV]: '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};

describe('2026-07-28 stateless', () => {
  it('negotiates the modern era through server/discover', () => {
    expect(client.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
  });

  it('server/discover and lists carry resultType, ttlMs and cacheScope', async () => {
    const d = await post({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: envelope } });
    expect(d.status).toBe(200);
    expect(d.body.result).toMatchObject({
      supportedVersions: ['2026-07-28'],
      resultType: 'complete',
      ttlMs: 0,
      cacheScope: 'public',
    });
    const l = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: envelope } });
    expect(l.body.result).toMatchObject({ resultType: 'complete', ttlMs: 0, cacheScope: 'public' });
    expect(l.body.result.tools.map((t: any) => t.name)).toContain('echo');
  });

  it('lists and calls through the v2 client', async () => {
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(
      ['add', 'ask_user', 'ask_llm', 'echo', 'fail', 'slow'].sort(),
    );
    const r = await client.callTool({ name: 'echo', arguments: { text: 'modern' } });
    expect(r.content).toEqual([{ type: 'text', text: 'modern' }]);
    expect(r.structuredContent).toEqual({ text: 'modern' });
    const p = await client.getPrompt({ name: 'greet', arguments: { name: 'Lin' } });
    expect(p.messages[0].content).toEqual({ type: 'text', text: 'Hello, Lin!' });
    const res = await client.readResource({ uri: 'fixture://items/7' });
    expect(res.contents[0]).toMatchObject({ uri: 'fixture://items/7', text: '{"id":"7"}' });
  });

  it('forwards progress on the call stream', async () => {
    const seen: number[] = [];
    const r = await client.callTool(
      { name: 'slow', arguments: { ms: 200 } },
      { onprogress: (p: any) => seen.push(p.progress) },
    );
    expect(r.content).toEqual([{ type: 'text', text: 'slept 200 ms' }]);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('turns a backend elicitation into an input_required round trip', async () => {
    const r = await client.callTool({ name: 'ask_user', arguments: { message: 'deploy?' } });
    expect(JSON.parse((r.content as any)[0].text)).toEqual({ action: 'accept', content: { answer: 'yes to deploy?' } });
  });

  it('turns a backend sampling request into an input_required round trip', async () => {
    const r = await client.callTool({ name: 'ask_llm', arguments: { prompt: 'hi' } });
    expect((r.content as any)[0].text).toBe('LLM says: hi');
  });

  it('answers input_required with inputRequests and a requestState on the raw wire', async () => {
    const r = await post(
      {
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: {
          name: 'ask_user',
          arguments: { message: 'raw?' },
          _meta: { ...envelope, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } },
        },
      },
      { 'mcp-name': 'ask_user' },
    );
    expect(r.body.result.resultType).toBe('input_required');
    const [key, req] = Object.entries(r.body.result.inputRequests)[0] as [string, any];
    expect(req.method).toBe('elicitation/create');
    const retry = await post(
      {
        jsonrpc: '2.0',
        id: 10,
        method: 'tools/call',
        params: {
          name: 'ask_user',
          arguments: { message: 'raw?' },
          inputResponses: { [key]: { action: 'decline' } },
          requestState: r.body.result.requestState,
          _meta: envelope,
        },
      },
      { 'mcp-name': 'ask_user' },
    );
    expect(retry.body.result.resultType).toBe('complete');
    expect(JSON.parse(retry.body.result.content[0].text)).toEqual({ action: 'decline' });
  });

  it('rejects missing or mismatched standard headers with -32020', async () => {
    const call = {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'x' }, _meta: envelope },
    };
    const noName = await post(call);
    expect(noName.status).toBe(400);
    expect(noName.body.error.code).toBe(-32020);
    const wrongName = await post(call, { 'mcp-name': 'add' });
    expect(wrongName.status).toBe(400);
    const wrongMethod = await post(call, { 'mcp-name': 'echo', 'mcp-method': 'tools/list' });
    expect(wrongMethod.body.error.code).toBe(-32020);
    const b64 = await post(call, { 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=` });
    expect(b64.body.result.content).toEqual([{ type: 'text', text: 'x' }]);
  });

  it('rejects an unsupported revision with -32022 and the supported list', async () => {
    const r = await post(
      { jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: { ...envelope, [META_PV]: '2099-01-01' } } },
      { 'mcp-protocol-version': '2099-01-01' },
    );
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: -32022, data: { supported: ['2026-07-28'], requested: '2099-01-01' } });
  });

  it('answers unknown tools with -32602 and unknown methods with -32601', async () => {
    const t = await post(
      { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'nope', _meta: envelope } },
      { 'mcp-name': 'nope' },
    );
    expect(t.body.error.code).toBe(-32602);
    const m = await post({ jsonrpc: '2.0', id: 6, method: 'nope/x', params: { _meta: envelope } });
    expect(m.body.error.code).toBe(-32601);
  });
});

describe('2026-07-28 cancellation and cursors', () => {
  it('an anonymous caller cancels by closing its own request: the backend sees the call cancelled', async () => {
    const ac = new AbortController();
    const call = fetch(g.url, {
      method: 'POST',
      signal: ac.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'slow',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'slow-1',
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 8000 }, _meta: envelope },
      }),
    });
    const inflight = async () =>
      ((await getJson(g, '/status')).body.backends as any[]).find((b) => b.name === 'echo').inflight;
    await waitFor(async () => (await inflight()) === 1, 5000, 'call upstream');
    ac.abort();
    await expect(call).rejects.toThrow();
    await waitFor(async () => (await inflight()) === 0, 5000, 'upstream call cancelled');
  });

  it('an anonymous notifications/cancelled by id cannot reach a call: anyone could send it', async () => {
    const call = post(
      {
        jsonrpc: '2.0',
        id: 'slow-2',
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 300 }, _meta: envelope },
      },
      { 'mcp-name': 'slow' },
    );
    const cancel = await fetch(g.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 'slow-2', reason: 'someone else', _meta: envelope },
      }),
    });
    expect(cancel.status).toBe(202);
    const res = await call;
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body.result.content)).toContain('slept 300');
  });

  it('a list cursor vmcp never issued is invalid params, not silently ignored', async () => {
    const l = await post({
      jsonrpc: '2.0',
      id: 9,
      method: 'tools/list',
      params: { cursor: 'page-2', _meta: envelope },
    });
    expect(l.body.error).toMatchObject({ code: -32602 });
    expect(l.body.error.message).toContain('unknown cursor');
  });
});
