/**
 * Composite tools under a Cedar policy, end to end through a compiled bundle. The decision: the
 * caller needs permission for the composite, and each step that calls an advertised tool is
 * authorized again as a direct call would be; a tool hidden by `filter` is reachable only through
 * composites, so the composite's permission governs it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

const WORKFLOW = join(REPO, 'test', 'fixtures', 'servers', 'workflow-server.mjs');
const CONFIG = `
name: composite-authz
backends:
  - name: wf
    transport: stdio
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(WORKFLOW)}]
aggregation:
  tools:
    - workload: wf
      filter: [lookup, stats]
incomingAuth:
  type: anonymous
  authz:
    type: cedar
    policies:
      - 'permit(principal, action == Action::"call_tool", resource == Tool::"wf_lookup");'
      - 'permit(principal, action == Action::"call_tool", resource == Tool::"lookup_and_list");'
      - 'permit(principal, action == Action::"call_tool", resource == Tool::"lookup_and_stats");'
compositeTools:
  - name: lookup_and_list
    description: A permitted advertised tool and a hidden one
    steps:
      - id: look
        tool: wf_lookup
        arguments: { id: 7 }
      - id: ids
        tool: wf.list_ids
        arguments: { count: 2 }
    output:
      properties:
        name: { type: string, value: "{{.steps.look.output.name}}" }
        ids: { type: array, value: "{{.steps.ids.output.ids}}" }
  - name: lookup_and_stats
    description: A permitted advertised tool and one the caller may not call
    steps:
      - id: look
        tool: wf_lookup
        arguments: { id: 7 }
      - id: peek
        tool: wf_stats
        dependsOn: [look]
  - name: not_for_you
    description: No policy permits this composite
    steps:
      - id: look
        tool: wf_lookup
        arguments: { id: 1 }
`;

let gw: RunningBundle;
let client: Client;
beforeAll(async () => {
  const { bundle } = await compileConfig('composite-authz', CONFIG);
  gw = await startBundle(bundle);
  client = new Client({ name: 'composite-authz', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gw.url)));
}, 120_000);
afterAll(async () => {
  await client?.close();
  await gw?.stop();
});

describe('composite tools and authorization', () => {
  it('lists only the composites the caller may call', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['lookup_and_list', 'lookup_and_stats', 'wf_lookup']);
  });

  it('a permitted composite runs a permitted step and a hidden one', async () => {
    const r = await client.callTool({ name: 'lookup_and_list', arguments: {} });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ name: 'item-7', ids: [1, 2] });
  });

  it('a step the caller may not call directly fails like any error, naming the step', async () => {
    const r = await client.callTool({ name: 'lookup_and_stats', arguments: {} });
    expect(r.isError).toBe(true);
    const text = (r.content as any[]).map((c) => c.text).join('');
    expect(text).toContain('lookup_and_stats');
    expect(text).toContain('"peek"');
    expect(text).toMatch(/Forbidden.*wf_stats/);
    // The direct call is refused the same way.
    await expect(client.callTool({ name: 'wf_stats', arguments: {} })).rejects.toThrow(/Forbidden/);
  });

  it('a composite the caller may not call is refused before any step runs', async () => {
    await expect(client.callTool({ name: 'not_for_you', arguments: {} })).rejects.toThrow(/Forbidden/);
  });
});
