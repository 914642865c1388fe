/** Real npm MCP servers behind the bundled gateway: server-memory and server-everything over stdio. */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { REPO, startGatewayOver, type RunningGateway } from './harness.ts';

const MCP = join(REPO, 'node_modules', '@modelcontextprotocol');
let g: RunningGateway & { gateway: any };
let client: Client;

const MEMORY_FILE = join(tmpdir(), `vmcp-memory-${process.pid}.jsonl`);

beforeAll(async () => {
  g = await startGatewayOver(
    [
      {
        name: 'memory',
        args: [join(MCP, 'server-memory', 'dist', 'index.js')],
        env: { MEMORY_FILE_PATH: MEMORY_FILE },
      },
      { name: 'everything', args: [join(MCP, 'server-everything', 'dist', 'index.js'), 'stdio'] },
    ],
    { prefix: true },
  );
  client = new Client({ name: 'npm-servers', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(g.url)));
}, 60_000);
afterAll(async () => {
  await client?.close();
  await g?.stop();
  rmSync(MEMORY_FILE, { force: true });
});

describe('server-memory', () => {
  it('creates and reads back entities', async () => {
    const name = `vmcp-${Date.now()}`;
    await client.callTool({
      name: 'memory_create_entities',
      arguments: { entities: [{ name, entityType: 'test', observations: ['via gateway'] }] },
    });
    const r = await client.callTool({ name: 'memory_open_nodes', arguments: { names: [name] } });
    expect(JSON.stringify(r)).toContain('via gateway');
  });
});

describe('server-everything', () => {
  it('echo, sum and structured content pass through unchanged', async () => {
    expect((await client.callTool({ name: 'everything_echo', arguments: { message: 'hi' } })).content).toEqual([
      { type: 'text', text: 'Echo: hi' },
    ]);
    const sum = await client.callTool({ name: 'everything_get-sum', arguments: { a: 2, b: 3 } });
    expect(JSON.stringify(sum.content)).toContain('5');
    const sc = await client.request(
      {
        method: 'tools/call',
        params: { name: 'everything_get-structured-content', arguments: { location: 'New York' } },
      },
      CallToolResultSchema,
    );
    expect(sc.structuredContent).toBeTruthy();
  });

  it('image content passes through', async () => {
    const r = await client.callTool({ name: 'everything_get-tiny-image', arguments: {} });
    const image = (r.content as any[]).find((c) => c.type === 'image');
    expect(image.mimeType).toBe('image/png');
    expect(image.data.length).toBeGreaterThan(50);
  });

  it('long-running operation reports progress with our token', async () => {
    const seen: number[] = [];
    await client.callTool(
      { name: 'everything_trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
      CallToolResultSchema,
      { onprogress: (p) => seen.push(p.progress) },
    );
    expect(seen.length).toBe(3);
  });

  it('prompts, resources, templates and completion', async () => {
    const p = await client.getPrompt({ name: 'everything_args-prompt', arguments: { city: 'Paris' } });
    expect(JSON.stringify(p.messages)).toContain('Paris');
    const list = await client.listResources();
    const first = list.resources[0];
    expect((await client.readResource({ uri: first.uri })).contents[0].uri).toBe(first.uri);
    const t = await client.readResource({ uri: 'demo://resource/dynamic/text/7' });
    expect(t.contents[0].uri).toBe('demo://resource/dynamic/text/7');
    const c = await client.complete({
      ref: { type: 'ref/prompt', name: 'everything_completable-prompt' },
      argument: { name: 'department', value: 'E' },
    });
    expect(Array.isArray(c.completion.values)).toBe(true);
  });

  it('the 2026 era reaches the same backends', async () => {
    const v2 = new ClientV2({ name: 'npm-v2', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await v2.connect(new TransportV2(new URL(g.url)));
    expect(v2.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
    expect((await v2.callTool({ name: 'everything_echo', arguments: { message: 'modern' } })).content).toEqual([
      { type: 'text', text: 'Echo: modern' },
    ]);
    await v2.close();
  });
});
