/**
 * Observability end to end (issue 16): a config with ToolHive's `telemetry` and `audit` blocks,
 * compiled by the real CLI, served by the bundle, called by the real SDK client with OIDC tokens
 * from a local issuer. A real OTLP/HTTP receiver decodes what the official exporters send; the
 * workflow fixture reports the `traceparent` each call arrived with (the header over HTTP, `_meta`
 * over stdio). `/metrics` is checked with the real `promtool`; the audit log is read from its file.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startIssuer, type Issuer } from '../fixtures/oauth/issuer.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { requireTool } from '../support/system-tools.ts';
import { waitFor } from '../runtime/harness.ts';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

const WORKFLOW = join(REPO, 'test', 'fixtures', 'servers', 'workflow-server.mjs');
const AUDIENCE = 'vmcp-observability';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const SERVER = 2;
const CLIENT = 3;

/** Starts the workflow fixture over Streamable HTTP on a free port. */
function startHttpFixture(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [WORKFLOW, '--http', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening (\d+)/.exec(err);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}/mcp`, proc });
    });
    proc.once('exit', (c) => reject(new Error(`fixture exited with ${c}:\n${err}`)));
  });
}

let receiver: OtlpReceiver;
let issuer: Issuer;
let web: { url: string; proc: ChildProcess };
let gw: RunningBundle;
let dir: string;
let client: Client;
let sessionId: string;
const tokens: string[] = [];

const mint = async (sub: string) => {
  const t = await issuer.mint({ sub, aud: AUDIENCE, name: `${sub} example`, groups: ['eng'] });
  tokens.push(t);
  return t;
};

async function connect(token: string, traceparent?: string): Promise<Client> {
  const c = new Client({ name: 'observability-test', version: '1' });
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (traceparent) headers.traceparent = traceparent;
  const transport = new StreamableHTTPClientTransport(new URL(gw.url), { requestInit: { headers } });
  await c.connect(transport);
  sessionId = transport.sessionId ?? sessionId;
  return c;
}

const auditEvents = (): any[] =>
  readFileSync(join(dir, 'audit.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const toolEvents = (name: string) => auditEvents().filter((e) => e.type === 'mcp_tool_call' && e.target?.name === name);
const spansNamed = (name: string) => receiver.spans.filter((s) => s.name === name);

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  issuer = await startIssuer();
  web = await startHttpFixture();
  const node = JSON.stringify(process.execPath);
  const yaml = `
name: observed
backends:
  - name: web
    transport: streamable-http
    url: ${web.url}
  - name: local
    transport: stdio
    command: ${node}
    args: [${JSON.stringify(WORKFLOW)}]
  - name: doomed
    transport: stdio
    command: ${node}
    args: [${JSON.stringify(WORKFLOW)}]
aggregation:
  conflictResolution: prefix
  tools:
    - workload: doomed
      filter: [crash]
incomingAuth:
  type: oidc
  oidc:
    issuer: ${issuer.issuer}
    audience: ${AUDIENCE}
  authz:
    type: cedar
    policies:
      - 'permit(principal, action, resource);'
      - 'forbid(principal, action == Action::"call_tool", resource == Tool::"local_lookup");'
telemetry:
  endpoint: ${receiver.hostPort}
  insecure: true
  tracingEnabled: true
  metricsEnabled: true
  samplingRate: "1.0"
  serviceName: vmcp-under-test
  customAttributes:
    deployment.environment: e2e
audit:
  enabled: true
  component: observed-gateway
  includeRequestData: true
  detectApplicationErrors: true
  claims: [groups]
  logFile: audit.log
`;
  const compiled = await compileConfig('observability', yaml);
  dir = compiled.dir;
  gw = await startBundle(compiled.bundle, [], process.env, dir);
  client = await connect(await mint('alice'), `00-${TRACE_ID}-${CLIENT_SPAN}-01`);
}, 120_000);

afterAll(async () => {
  await client?.close().catch(() => {});
  await gw?.stop();
  web?.proc.kill();
  await Promise.all([receiver?.close(), issuer?.close()]);
});

describe('tracing', () => {
  it('one trace id from the client through vmcp to an HTTP backend (header) and a stdio one (_meta)', async () => {
    const viaHttp = (await client.callTool({ name: 'web_trace', arguments: {} })).structuredContent as any;
    const viaStdio = (await client.callTool({ name: 'local_trace', arguments: {} })).structuredContent as any;
    const httpParent = new RegExp(`^00-${TRACE_ID}-([0-9a-f]{16})-01$`).exec(viaHttp.header)?.[1];
    const stdioParent = new RegExp(`^00-${TRACE_ID}-([0-9a-f]{16})-01$`).exec(viaStdio.meta)?.[1];
    expect(httpParent, `header the HTTP backend got: ${viaHttp.header}`).toBeDefined();
    expect(stdioParent, `_meta the stdio backend got: ${viaStdio.meta}`).toBeDefined();
    // The backend's parent is the gateway's client span, not the caller's span.
    expect(httpParent).not.toBe(CLIENT_SPAN);

    const server = await waitFor(() => spansNamed('tools/call web_trace')[0], 15_000, 'the web_trace server span');
    expect(server.kind).toBe(SERVER);
    expect(server.traceId).toBe(TRACE_ID);
    expect(server.parentSpanId).toBe(CLIENT_SPAN);
    expect(server.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'web_trace',
      'mcp.session.id': sessionId,
      'network.transport': 'tcp',
      'target.workload_name': 'web',
    });
    expect(server.attributes['jsonrpc.request.id']).toMatch(/^\d+$/);
    expect(server.resource).toMatchObject({ 'service.name': 'vmcp-under-test', 'deployment.environment': 'e2e' });

    const upstream = async (parent: string): Promise<ReceivedSpan> =>
      (await waitFor(() => receiver.spans.find((s) => s.spanId === parent), 15_000, `the client span ${parent}`))!;
    const httpClient: ReceivedSpan = await upstream(httpParent!);
    expect(httpClient).toMatchObject({ kind: CLIENT, traceId: TRACE_ID, parentSpanId: server.spanId });
    expect(httpClient.name).toBe('tools/call trace');
    expect(httpClient.attributes).toMatchObject({
      'target.workload_name': 'web',
      'target.transport_type': 'streamable-http',
      'gen_ai.tool.name': 'trace',
    });
    const stdioClient = await upstream(stdioParent!);
    expect(stdioClient).toMatchObject({ kind: CLIENT, traceId: TRACE_ID });
    expect(stdioClient.attributes).toMatchObject({ 'target.workload_name': 'local', 'target.transport_type': 'stdio' });
  });

  it('a request without trace context starts its own trace, still passed on', async () => {
    const other = await connect(await mint('bob'));
    const got = (await other.callTool({ name: 'web_trace', arguments: {} })).structuredContent as any;
    await other.close();
    const m = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(got.header);
    expect(m, got.header).not.toBeNull();
    expect(m![1]).not.toBe(TRACE_ID);
    await waitFor(() => receiver.spans.some((s) => s.traceId === m![1] && s.kind === SERVER), 15_000, 'a root span');
  });

  it('failures carry error status and error.type: a tool error, a Cedar denial', async () => {
    const r = await client.callTool({ name: 'web_flaky', arguments: { key: 'always', failures: 99 } });
    expect(r.isError).toBe(true);
    await expect(client.callTool({ name: 'local_lookup', arguments: { id: 1 } })).rejects.toThrow(/Forbidden/);
    const failed = await waitFor(() => spansNamed('tools/call web_flaky')[0], 15_000, 'the web_flaky span');
    expect(failed.status.code).toBe(2);
    expect(failed.attributes['error.type']).toBe('tool_error');
    const denied = await waitFor(() => spansNamed('tools/call local_lookup')[0], 15_000, 'the denied span');
    expect(denied.status.code).toBe(2);
    expect(denied.attributes['error.type']).toBe('forbidden');
    // A denied call never reaches a backend: no client span under it.
    expect(receiver.spans.filter((s) => s.parentSpanId === denied.spanId)).toEqual([]);
  });
});

describe('audit log', () => {
  it('allowed, denied, failed and unauthenticated requests: exactly one event each, right outcome', async () => {
    await client.callTool({ name: 'web_lookup', arguments: { id: 5 } });
    await expect(client.callTool({ name: 'doomed_crash', arguments: {} })).rejects.toThrow();
    const bad = 'Bearer not.a-valid.token-planted-in-the-test';
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: {
        authorization: bad,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    tokens.push(bad);

    // The sink writes the file asynchronously: wait for both events, not only the call's.
    await waitFor(
      () => toolEvents('doomed_crash').length > 0 && auditEvents().some((e) => e.type === 'auth_failure'),
      10_000,
      'the failed call and the auth failure events',
    );
    const allowed = toolEvents('web_lookup');
    const denied = toolEvents('local_lookup');
    const failed = toolEvents('doomed_crash');
    const authFailures = auditEvents().filter((e) => e.type === 'auth_failure');
    expect(allowed.map((e) => e.outcome)).toEqual(['success']);
    expect(denied.map((e) => e.outcome)).toEqual(['denied']);
    expect(failed.map((e) => e.outcome)).toEqual(['failure']);
    expect(authFailures.map((e) => e.outcome)).toEqual(['denied']);

    const e = allowed[0];
    expect(e).toMatchObject({ msg: 'audit_event', component: 'observed-gateway' });
    expect(e.subjects).toMatchObject({ user_id: 'alice', user: 'alice example', iss: issuer.issuer });
    expect(e.subjects.groups).toContain('eng');
    expect(e.source).toMatchObject({ type: 'network', value: '127.0.0.1' });
    expect(e.metadata.extra).toMatchObject({ backend_name: 'web', trace_id: TRACE_ID, transport: 'http' });
    expect(e.metadata.extra.duration_ms).toBeGreaterThanOrEqual(0);
    expect(e.data.request).toMatchObject({ name: 'web_lookup', arguments: { id: 5 } });
    expect(authFailures[0].source.value).toBe('127.0.0.1');
    // The tool error of the tracing test is an application error under detectApplicationErrors.
    expect(toolEvents('web_flaky').map((x) => x.outcome)).toEqual(['failure']);
  });

  it('sessions and lists are audited, and no token appears anywhere in the log', async () => {
    await client.listTools();
    await waitFor(() => auditEvents().some((e) => e.type === 'mcp_tools_list'), 10_000, 'the tools/list event');
    const types = new Set(auditEvents().map((e) => e.type));
    for (const t of ['mcp_initialize', 'vmcp_session_start', 'mcp_tools_list', 'mcp_tool_call', 'auth_failure'])
      expect(types, t).toContain(t);
    const text = readFileSync(join(dir, 'audit.log'), 'utf8');
    expect(tokens.length).toBeGreaterThan(2);
    for (const t of tokens) expect(text).not.toContain(t.replace(/^Bearer /, ''));
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
});

describe('metrics', () => {
  it('/metrics after real traffic: per-tool series and outcomes, and it passes promtool', async () => {
    const text = await (await fetch(gw.url.replace(/\/mcp$/, '/metrics'))).text();
    expect(text).toMatch(
      /vmcp_requests_total\{method="tools\/call",kind="tool",name="web_trace",outcome="success"\} [1-9]/,
    );
    expect(text).toMatch(
      /vmcp_requests_total\{method="tools\/call",kind="tool",name="local_lookup",outcome="denied"\} 1/,
    );
    expect(text).toMatch(/vmcp_backend_request_errors_total\{backend="doomed",type="connection"\} 1/);
    // A name that is not in the catalog never becomes a label.
    await expect(client.callTool({ name: 'no_such_tool_x1', arguments: {} })).rejects.toThrow();
    const after = await (await fetch(gw.url.replace(/\/mcp$/, '/metrics'))).text();
    expect(after).not.toContain('no_such_tool_x1');
    const promtool = requireTool('promtool');
    if (!promtool) return;
    const out = execFileSync(promtool, ['check', 'metrics'], { input: after, encoding: 'utf8' });
    expect(out).toBe('');
  });

  it('on shutdown the OTLP exporters flush: the MCP duration histograms arrive', async () => {
    await client.close();
    expect(await gw.stop()).toBe(0);
    await waitFor(
      () =>
        receiver.metricNames.has('mcp.server.operation.duration') &&
        receiver.metricNames.has('mcp.client.operation.duration'),
      15_000,
      'OTLP metrics',
    );
    expect(auditEvents().some((e) => e.type === 'vmcp_session_end' || e.type === 'mcp_tool_call')).toBe(true);
  });
});
