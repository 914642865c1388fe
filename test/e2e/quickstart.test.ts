import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

// The quickstart example, compiled by the real CLI against the real npm servers, served by the bundle.
describe('quickstart bundle over real npm MCP servers', () => {
  let gw: RunningBundle;
  let client: Client;
  beforeAll(async () => {
    const yaml = readFileSync(join(REPO, 'examples/quickstart/vmcp.yaml'), 'utf8');
    const { bundle } = await compileConfig('quickstart', yaml);
    gw = await startBundle(bundle);
    client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.url)));
  });
  afterAll(async () => {
    await client?.close();
    await gw?.stop();
  });

  it('lists the prefixed tools of both servers', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toContain('memory_create_entities');
    expect(names).toContain('memory_read_graph');
    expect(names).toContain('everything_echo');
    expect(names.every((n) => n.startsWith('memory_') || n.startsWith('everything_'))).toBe(true);
  });

  it('routes a call to server-everything under its original name', async () => {
    const r = await client.request(
      { method: 'tools/call', params: { name: 'everything_echo', arguments: { message: 'hello vmcp' } } },
      CallToolResultSchema,
    );
    expect(JSON.stringify(r.content)).toContain('hello vmcp');
  });

  it('routes a call to server-memory and reads the state back', async () => {
    await client.request(
      {
        method: 'tools/call',
        params: {
          name: 'memory_create_entities',
          arguments: { entities: [{ name: 'vmcp-e2e', entityType: 'test', observations: ['compiled'] }] },
        },
      },
      CallToolResultSchema,
    );
    const r = await client.request(
      { method: 'tools/call', params: { name: 'memory_search_nodes', arguments: { query: 'vmcp-e2e' } } },
      CallToolResultSchema,
    );
    expect(JSON.stringify(r)).toContain('vmcp-e2e');
  });

  it('serves prompts and resources of server-everything', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.length).toBeGreaterThan(0);
    const { resources } = await client.listResources();
    expect(resources.length).toBeGreaterThan(0);
    const read = await client.readResource({ uri: resources[0].uri });
    expect(read.contents[0].uri).toBe(resources[0].uri);
  });

  it('answers an unknown tool with a protocol error, and keeps serving', async () => {
    await expect(
      client.request({ method: 'tools/call', params: { name: 'nope_tool', arguments: {} } }, CallToolResultSchema),
    ).rejects.toThrow();
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(10);
  });
});
