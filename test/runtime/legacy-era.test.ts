/** MCP 2025-11-25 through the bundled gateway, with the v1 SDK client, over a real stdio backend. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { ECHO, startGatewayOver, type RunningGateway } from './harness.ts';

let g: RunningGateway;
let client: Client;

beforeAll(async () => {
  g = await startGatewayOver([{ name: 'echo', args: [ECHO] }], { prefix: true });
  client = new Client({ name: 'legacy-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(g.url)));
});
afterAll(async () => {
  await client?.close();
  await g?.stop();
});

describe('2025-11-25 sessions', () => {
  it('initialize negotiates 2025-11-25 and advertises the compiled capabilities', () => {
    expect(client.getServerVersion()).toEqual({ name: 'test-gateway', version: '0.1.0-test' });
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, prompts: {}, resources: {} });
  });

  it('lists tools from the compiled catalog, unknown fields kept', async () => {
    const r: any = await client.request({ method: 'tools/list', params: {} }, (await import('zod')).looseObject({}));
    const names = r.tools.map((t: any) => t.name);
    expect(names).toEqual(['echo_echo', 'echo_add', 'echo_slow', 'echo_fail']);
    expect(r.tools[3]['x-fixture']).toEqual({ unknownField: true });
  });

  it('calls a tool under its original name and passes structuredContent through', async () => {
    const r = await client.callTool({ name: 'echo_echo', arguments: { text: 'héllo' } });
    expect(r).toEqual({ content: [{ type: 'text', text: 'héllo' }], structuredContent: { text: 'héllo' } });
    const sum = await client.request(
      { method: 'tools/call', params: { name: 'echo_add', arguments: { a: 2, b: 40 } } },
      CallToolResultSchema,
    );
    expect(sum.structuredContent).toEqual({ sum: 42 });
  });

  it('passes isError results through as results', async () => {
    const r = await client.callTool({ name: 'echo_fail', arguments: {} });
    expect(r.isError).toBe(true);
    expect(r.content).toEqual([{ type: 'text', text: 'this tool always fails' }]);
  });

  it('answers an unknown tool with -32602 and keeps serving', async () => {
    await expect(client.callTool({ name: 'nope', arguments: {} })).rejects.toMatchObject({ code: -32602 });
    await expect(client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toMatchObject({ code: -32602 });
    expect((await client.callTool({ name: 'echo_echo', arguments: { text: 'still up' } })).content).toEqual([
      { type: 'text', text: 'still up' },
    ]);
  });

  it('answers an unknown method with -32601', async () => {
    await expect(
      client.request({ method: 'nope/nothing', params: {} } as any, CallToolResultSchema),
    ).rejects.toMatchObject({ code: -32601 });
  });

  it('gets prompts, reads resources and template resources, completes', async () => {
    const p = await client.getPrompt({ name: 'echo_greet', arguments: { name: 'Ada' } });
    expect(p.messages[0].content).toEqual({ type: 'text', text: 'Hello, Ada!' });
    expect((await client.listPrompts()).prompts.map((x) => x.name)).toEqual(['echo_greet']);
    expect((await client.readResource({ uri: 'fixture://hello' })).contents).toEqual([
      { uri: 'fixture://hello', mimeType: 'text/plain', text: 'hello' },
    ]);
    expect(((await client.readResource({ uri: 'fixture://items/42' })).contents[0] as any).text).toBe('{"id":"42"}');
    await expect(client.readResource({ uri: 'fixture://missing' })).rejects.toMatchObject({ code: -32002 });
    expect((await client.listResourceTemplates()).resourceTemplates[0].uriTemplate).toBe('fixture://items/{id}');
    const c = await client.complete({
      ref: { type: 'ref/prompt', name: 'echo_greet' },
      argument: { name: 'name', value: 'al' },
    });
    expect(c.completion.values).toEqual(['alice', 'albert']);
  });

  it('forwards progress with the downstream token preserved, before the result', async () => {
    const seen: any[] = [];
    const r = await client.callTool({ name: 'echo_slow', arguments: { ms: 200 } }, CallToolResultSchema, {
      onprogress: (p) => seen.push(p),
    });
    expect(r.content).toEqual([{ type: 'text', text: 'slept 200 ms' }]);
    expect(seen.map((p) => p.progress)).toEqual([1, 2, 3, 4]);
    expect(seen[0].total).toBe(4);
  });

  it('serves concurrent calls from several sessions', async () => {
    const clients = await Promise.all(
      [1, 2, 3].map(async (i) => {
        const c = new Client({ name: `c${i}`, version: '1' });
        await c.connect(new StreamableHTTPClientTransport(new URL(g.url)));
        return c;
      }),
    );
    const results = await Promise.all(
      clients.flatMap((c, i) =>
        [0, 1, 2].map((j) => c.callTool({ name: 'echo_echo', arguments: { text: `${i}-${j}` } })),
      ),
    );
    expect(results.map((r: any) => r.structuredContent.text).sort()).toEqual([
      '0-0',
      '0-1',
      '0-2',
      '1-0',
      '1-1',
      '1-2',
      '2-0',
      '2-1',
      '2-2',
    ]);
    await Promise.all(clients.map((c) => c.close()));
  });
});
