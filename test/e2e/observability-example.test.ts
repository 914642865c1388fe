/**
 * examples/observability/ works as its README says: its vmcp.yaml (telemetry, audit) compiles and
 * serves, with its two npm backends swapped for fixture servers under the same names and its
 * collector address pointed at a real OTLP receiver in the test; every query of its Grafana dashboard
 * and every alert rule parses (`promtool check rules`) and reads only metrics that a live `/metrics`
 * page has or docs/observability.md lists; prometheus.yml passes `promtool check config`; and the
 * metric table in docs/observability.md names every family the page serves.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { requireTool } from '../support/system-tools.ts';
import { waitFor } from '../runtime/harness.ts';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

const EXAMPLE = join(REPO, 'examples', 'observability');
const WORKFLOW = join(REPO, 'test', 'fixtures', 'servers', 'workflow-server.mjs');
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

let receiver: OtlpReceiver;
let gw: RunningBundle;
let dir: string;
let page: string;
let scratch: string;

/** Metric families on a Prometheus page (from its TYPE lines). */
function families(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1], m[2]);
  return out;
}

/** Every `vmcp_*` metric a PromQL expression reads, with histogram suffixes taken off. */
function metricsRead(expr: string): string[] {
  return [...expr.matchAll(/\bvmcp_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
}

/** The metric names in docs/observability.md's metric table (first column). */
function documentedMetrics(): Set<string> {
  const doc = readFileSync(join(REPO, 'docs', 'observability.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Prometheus metrics'), doc.indexOf('### From ToolHive'));
  const names = new Set<string>();
  for (const line of table.split('\n'))
    if (line.startsWith('| `vmcp_')) for (const m of line.split('|')[1].matchAll(/`(vmcp_[a-z_]+)`/g)) names.add(m[1]);
  return names;
}

const dashboard = () => JSON.parse(readFileSync(join(EXAMPLE, 'grafana-dashboard.json'), 'utf8'));
const dashboardExprs = (): string[] =>
  dashboard().panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr as string));
/** The queries of the dashboard's variables (`label_values(<metric>, <label>)`, not PromQL). */
const variableQueries = (): string[] =>
  dashboard()
    .templating.list.filter((v: any) => v.type === 'query')
    .flatMap((v: any) => [v.query?.query as string, v.definition as string]);
const alertExprs = (): string[] =>
  parse(readFileSync(join(EXAMPLE, 'alerts.yml'), 'utf8')).groups.flatMap((g: any) =>
    g.rules.map((r: any) => r.expr as string),
  );

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const config = parse(readFileSync(join(EXAMPLE, 'vmcp.yaml'), 'utf8'));
  // The same names as the example's npm servers, served by a fixture (no network in tests).
  config.backends = config.backends.map((b: { name: string }) => ({
    name: b.name,
    transport: 'stdio',
    command: process.execPath,
    args: [WORKFLOW],
  }));
  config.telemetry.endpoint = receiver.hostPort;
  const compiled = await compileConfig('observability-example', stringify(config));
  dir = compiled.dir;
  gw = await startBundle(compiled.bundle, [], process.env, dir);
  // A client whose trace is sampled: parent-based sampling follows it whatever samplingRate says.
  const client = new Client({ name: 'example-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gw.url), {
      requestInit: { headers: { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` } },
    }),
  );
  for (let id = 1; id <= 3; id++) await client.callTool({ name: 'memory_lookup', arguments: { id } });
  await client.callTool({ name: 'everything_flaky', arguments: { key: 'k', failures: 1 } }).catch(() => {});
  await client.ping();
  await client.close();
  page = await (await fetch(gw.url.replace(/\/mcp$/, '/metrics'))).text();
  scratch = mkdtempSync(join(tmpdir(), 'vmcp-example-rules-'));
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await receiver?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('examples/observability/vmcp.yaml', () => {
  it('traces reach the collector: a sampled caller is followed through to the backend call', async () => {
    await waitFor(() => receiver.spans.some((s) => s.name === 'tools/call lookup'), 15_000);
    const server = receiver.spans.filter((s) => s.name === 'tools/call memory_lookup');
    expect(server).toHaveLength(3);
    expect(new Set(server.map((s) => s.traceId))).toEqual(new Set([TRACE_ID]));
    expect(server[0].resource).toMatchObject({
      'service.name': 'vmcp-observability',
      'service.version': '1.0.0',
      'deployment.environment': 'dev',
    });
  });

  it('the audit log is written where the README says, without the excluded mcp_ping', async () => {
    await waitFor(() => {
      try {
        return readFileSync(join(dir, 'audit.log'), 'utf8').includes('memory_lookup');
      } catch {
        return false;
      }
    }, 10_000);
    const events = readFileSync(join(dir, 'audit.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const calls = events.filter((e) => e.type === 'mcp_tool_call' && e.target?.name === 'memory_lookup');
    expect(calls).toHaveLength(3);
    expect(calls[0]).toMatchObject({
      component: 'vmcp-observability',
      outcome: 'success',
      data: { request: { name: 'memory_lookup', arguments: { id: 1 } } },
    });
    expect(events.filter((e) => e.type === 'mcp_initialize')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'mcp_ping')).toEqual([]);
  });
});

describe('the dashboard, the alerts and the docs agree with /metrics', () => {
  it('docs/observability.md lists every metric family the live page serves, and no other', () => {
    const live = [...families(page).keys()];
    const documented = documentedMetrics();
    expect(live.filter((n) => !documented.has(n))).toEqual([]);
    // Families that appear only with what needs them: token exchange or client credentials backends,
    // rateLimiting, sessionStorage redis, replicas (VMCP_SESSION_KEY), the optimizer.
    const conditional = new Set([
      'vmcp_token_cache_hits_total',
      'vmcp_token_cache_misses_total',
      'vmcp_rate_limited_total',
      'vmcp_shared_store_up',
      'vmcp_shared_store_errors_total',
      'vmcp_relayed_requests_total',
      'vmcp_optimizer_find_tool_requests_total',
      'vmcp_optimizer_find_tool_duration_seconds',
      'vmcp_optimizer_find_tool_results',
      'vmcp_optimizer_token_savings_percent',
      'vmcp_optimizer_call_tool_requests_total',
      'vmcp_optimizer_embedding_errors_total',
    ]);
    expect([...documented].filter((n) => !live.includes(n) && !conditional.has(n))).toEqual([]);
  });

  it('every metric the dashboard and the alert rules read is a documented family', () => {
    const documented = documentedMetrics();
    const read = [...dashboardExprs(), ...variableQueries(), ...alertExprs()].flatMap(metricsRead);
    expect(read.length).toBeGreaterThan(20);
    expect([...new Set(read)].filter((n) => !documented.has(n))).toEqual([]);
    // Histogram suffixes are used only on histograms.
    const types = families(page);
    for (const expr of [...dashboardExprs(), ...alertExprs()])
      for (const m of expr.matchAll(/\b(vmcp_[a-z_]+)_(bucket|sum|count)\b/g))
        expect(types.get(m[1]), `${m[0]} in ${expr}`).toBe('histogram');
  });

  it('every dashboard query parses as PromQL (promtool check rules)', () => {
    const promtool = requireTool('promtool');
    if (!promtool) return;
    // Grafana's variables, as Grafana would substitute them.
    const rules = dashboardExprs().map((expr, i) => ({
      record: `dashboard:panel_query_${i}`,
      expr: expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.*').replaceAll('$backend', '.*'),
    }));
    const file = join(scratch, 'dashboard-rules.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const out = execFileSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
    expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('alerts.yml and prometheus.yml pass promtool', () => {
    const promtool = requireTool('promtool');
    if (!promtool) return;
    const rules = execFileSync(promtool, ['check', 'rules', join(EXAMPLE, 'alerts.yml')], { encoding: 'utf8' });
    expect(rules).toContain(`SUCCESS: ${alertExprs().length} rules found`);
    const config = execFileSync(promtool, ['check', 'config', join(EXAMPLE, 'prometheus.yml')], { encoding: 'utf8' });
    expect(config).toContain('SUCCESS');
  });

  it('the dashboard is importable: unique panel ids, a Prometheus data source variable, no hard-coded data source', () => {
    const d = dashboard();
    const ids = d.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(d.templating.list.find((v: any) => v.type === 'datasource')).toMatchObject({ query: 'prometheus' });
    for (const p of d.panels.filter((p: any) => p.type !== 'row'))
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
  });
});
