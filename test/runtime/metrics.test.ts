/**
 * The Prometheus page after real traffic through a bundled gateway: per-request series by method,
 * catalog item and outcome, upstream errors by type, the gauges, and `promtool check metrics` on the
 * whole page. Cardinality: names a client makes up never become label values.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { requireTool } from '../support/system-tools.ts';
import { ECHO, FAULT, getJson, startGatewayOver, type RunningGateway } from './harness.ts';

let g: RunningGateway;
let client: Client;
let page = '';

beforeAll(async () => {
  g = await startGatewayOver(
    [
      { name: 'echo', args: [ECHO] },
      { name: 'silent', args: [FAULT], env: { FAULT: 'never-answers' }, timeoutMs: 300 },
    ],
    { prefix: true },
  );
  client = new Client({ name: 'metrics-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(g.url)));
  await client.listTools();
  for (let i = 0; i < 3; i++) await client.callTool({ name: 'echo_echo', arguments: { text: `hi ${i}` } });
  await client.callTool({ name: 'echo_fail', arguments: {} });
  await client.getPrompt({ name: 'echo_greet', arguments: { name: 'ann' } }).catch(() => undefined);
  await client.readResource({ uri: 'fixture://items/42' });
  await client.readResource({ uri: 'fixture://items/43' });
  // Names a client makes up: each must land in one bounded series, not a series of its own.
  for (const n of ['made_up_1', 'made_up_2', 'made_up_3'])
    await client.callTool({ name: n, arguments: {} }).catch(() => undefined);
  page = (await getJson(g, '/metrics')).body as string;
}, 60_000);
afterAll(async () => {
  await client?.close();
  await g?.stop();
});

describe('/metrics', () => {
  it('counts requests by method, catalog item and outcome', () => {
    expect(page).toMatch(
      /vmcp_requests_total\{method="tools\/call",kind="tool",name="echo_echo",outcome="success"\} 3\n/,
    );
    expect(page).toMatch(/vmcp_requests_total\{method="tools\/list",kind="",name="",outcome="success"\} 1\n/);
    expect(page).toMatch(
      /vmcp_requests_total\{method="resources\/read",kind="resourceTemplate",name="fixture:\/\/items\/\{id\}",outcome="success"\} 2\n/,
    );
    expect(page).toContain(
      'vmcp_request_duration_seconds_bucket{method="tools/call",kind="tool",name="echo_echo",le="+Inf"} 3',
    );
  });

  it('keeps names the catalog does not have out of the labels', () => {
    expect(page).not.toContain('made_up');
    expect(page).toMatch(/vmcp_requests_total\{method="tools\/call",kind="",name="",outcome="error"\} 3\n/);
  });

  it('has the gauges: in-flight calls, circuit state, drift, sessions', () => {
    for (const family of [
      'vmcp_backend_inflight_requests{backend="echo"} 0',
      'vmcp_backend_circuit_state{backend="echo"} 0',
      'vmcp_backend_drift_blocked_items{backend="echo"} 0',
      'vmcp_sessions 1',
      'vmcp_parked_calls 0',
    ])
      expect(page).toContain(family);
  });

  it('counts upstream errors by type', async () => {
    await client.callTool({ name: 'silent_hang', arguments: {} }).catch(() => undefined);
    const after = (await getJson(g, '/metrics')).body as string;
    expect(after).toMatch(/vmcp_backend_request_errors_total\{backend="silent",type="timeout"\} 1\n/);
    expect(after).toMatch(
      /vmcp_requests_total\{method="tools\/call",kind="tool",name="silent_hang",outcome="failure"\} 1\n/,
    );
  });

  it('passes promtool check metrics', () => {
    const promtool = requireTool('promtool');
    if (!promtool) return;
    // promtool exits non-zero on a malformed page; lint findings (naming advice) are printed too.
    const out = execFileSync(promtool, ['check', 'metrics'], { input: page, encoding: 'utf8' });
    expect(out).toBe('');
  });
});
