/** examples/composite, compiled by the real CLI and served by its bundle, over the npm servers it names. */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

const MEMORY_FILE = join(tmpdir(), `vmcp-composite-example-${process.pid}.jsonl`);
let gw: RunningBundle;
let client: Client;
let reply: (message: string) => any = () => ({ action: 'cancel' });
const asked: string[] = [];

beforeAll(async () => {
  const yaml = readFileSync(join(REPO, 'examples/composite/vmcp.yaml'), 'utf8');
  const { bundle } = await compileConfig('composite-example', yaml);
  // The example's memory server writes where MEMORY_FILE_PATH says; keep it out of the repository.
  gw = await startBundle(bundle, [], { ...process.env, MEMORY_FILE_PATH: MEMORY_FILE });
  client = new Client({ name: 'composite-example', version: '1' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params.message);
    return reply(req.params.message);
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(gw.url)));
}, 180_000);
afterAll(async () => {
  await client?.close();
  await gw?.stop();
  rmSync(MEMORY_FILE, { force: true });
});

describe('examples/composite: weather_journal', () => {
  it('reads the weather, asks, records the place and tags it', async () => {
    reply = () => ({ action: 'accept', content: { note: 'sunny walk' } });
    const r = await client.callTool({
      name: 'weather_journal',
      arguments: { location: 'Chicago', tags: ['trip', 'spring'] },
    });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ location: 'Chicago', recorded: true, tagged: 2 });
    expect(typeof (r.structuredContent as any).temperature).toBe('number');
    expect(asked.at(-1)).toContain('Chicago. Record it?');
    const graph = await client.callTool({ name: 'memory_open_nodes', arguments: { names: ['Chicago'] } });
    const observations = (graph.structuredContent as any).entities[0].observations;
    expect(observations).toEqual(expect.arrayContaining(['note: sunny walk', 'tag: trip', 'tag: spring']));
  });

  it('record: false skips the writes, with the skipped steps’ defaults in the output', async () => {
    reply = () => ({ action: 'accept', content: { note: 'just looking' } });
    const r = await client.callTool({ name: 'weather_journal', arguments: { location: 'New York', record: false } });
    expect(r.structuredContent).toMatchObject({ location: 'New York', recorded: false, tagged: 0 });
    const graph = await client.callTool({ name: 'memory_open_nodes', arguments: { names: ['New York'] } });
    expect((graph.structuredContent as any).entities).toEqual([]);
  });

  it('declining skips the rest of the workflow', async () => {
    reply = () => ({ action: 'decline' });
    const r = await client.callTool({ name: 'weather_journal', arguments: { location: 'Los Angeles', tags: ['x'] } });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ location: 'Los Angeles', recorded: false, tagged: 0 });
  });
});
