/**
 * The audit-log plugin in process: one ToolHive-format line per audited event with the right type
 * and outcome, the filters, request/response data only on opt-in and bounded, no secret in the
 * output (planted tokens grepped for), file output, write errors and backpressure drops.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditLog, auditLog } from '../../runtime/audit/audit.ts';
import { traceIdOf } from '../../runtime/audit/event-fields.ts';
import { AuditSink, openAuditFile } from '../../runtime/audit/sink.ts';
import type { CompiledAudit, CompiledGateway } from '../../runtime/compiled-gateway.ts';
import { StartupError } from '../../runtime/env.ts';
import { createLogger } from '../../runtime/log.ts';
import type { RequestStart } from '../../runtime/observe.ts';
import type { Principal } from '../../runtime/plugins.ts';
import { RawJson } from '../../runtime/raw-json.ts';

const TOKEN = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.PLANTED-principal-token-7f3a';
const HEADER_SECRET = 'planted-authz-header-9c1d';

const ALICE: Principal = {
  key: 'https://idp.example\nalice',
  iss: 'https://idp.example',
  sub: 'alice',
  claims: { sub: 'alice', email: 'alice@example.com', groups: ['eng', 'ops'], tenant: 'acme' },
  token: TOKEN,
};

const CONFIG: CompiledAudit = {
  component: 'gw-test',
  eventTypes: [],
  excludeEventTypes: [],
  includeRequestData: false,
  includeResponseData: false,
  detectApplicationErrors: false,
  maxDataSize: 1024,
  claims: ['groups', 'tenant'],
};

/** A writable that keeps what it is given. */
function memoryOut(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return Object.assign(out, { text: () => chunks.join('') });
}

function recordingLog() {
  const lines: Record<string, any>[] = [];
  return { log: createLogger({}, 'info', (l) => void lines.push(JSON.parse(l))), lines };
}

const CLOCK = { now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 678), monotonic: () => 0, newId: () => 'id-1' };

function setup(cfg: Partial<CompiledAudit> = {}) {
  const out = memoryOut();
  const { log, lines: logs } = recordingLog();
  const audit = new AuditLog({ ...CONFIG, ...cfg }, new AuditSink(out, log, false), CLOCK);
  const events = () =>
    out
      .text()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
  return { audit, out, logs, events };
}

const CALL: RequestStart = {
  method: 'tools/call',
  target: 'github_list_issues',
  targetKind: 'tool',
  backend: 'github',
  original: 'list_issues',
  requestId: 7,
  sessionId: 'sess-1',
  principal: ALICE,
  modern: false,
  remoteAddress: '10.0.0.7',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  params: { name: 'github_list_issues', arguments: { repo: 'vmcp' } },
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('audit events', () => {
  it('writes one ToolHive-format line for a tool call', () => {
    const { audit, events } = setup();
    audit.request(CALL).end({ outcome: 'success', result: '{"content":[]}' });
    expect(events()).toEqual([
      {
        time: '2026-01-02T03:04:05.678Z',
        level: 'INFO+2',
        msg: 'audit_event',
        audit_id: 'id-1',
        type: 'mcp_tool_call',
        logged_at: '2026-01-02T03:04:05.678Z',
        outcome: 'success',
        component: 'gw-test',
        source: { type: 'network', value: '10.0.0.7', extra: { request_id: '7', session_id: 'sess-1' } },
        subjects: {
          user: 'alice@example.com',
          user_id: 'alice',
          iss: 'https://idp.example',
          groups: '["eng","ops"]',
          tenant: 'acme',
        },
        target: {
          type: 'tool',
          method: 'tools/call',
          name: 'github_list_issues',
          backend: 'github',
          original_name: 'list_issues',
        },
        metadata: {
          extra: {
            duration_ms: 0,
            transport: 'http',
            mcp_version: '2025-11-25',
            trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
            backend_name: 'github',
          },
        },
      },
    ]);
  });

  it.each([
    ['success', undefined],
    ['failure', 'timeout'],
    ['denied', 'forbidden'],
    ['error', 'rpc_32602'],
  ] as const)('gives a request that ends in %s exactly one event with that outcome', (outcome, errorType) => {
    const { audit, events } = setup();
    audit.request(CALL).end({ outcome, errorType, message: outcome === 'success' ? undefined : `it was ${outcome}` });
    const got = events();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: 'mcp_tool_call', outcome });
    if (errorType)
      expect(got[0].metadata.extra).toMatchObject({ error_type: errorType, error_message: `it was ${outcome}` });
  });

  it.each([
    ['initialize', 'mcp_initialize', 'endpoint'],
    ['tools/list', 'mcp_tools_list', 'endpoint'],
    ['resources/read', 'mcp_resource_read', 'resource'],
    ['resources/list', 'mcp_resources_list', 'endpoint'],
    ['prompts/get', 'mcp_prompt_get', 'prompt'],
    ['prompts/list', 'mcp_prompts_list', 'endpoint'],
    ['ping', 'mcp_ping', 'endpoint'],
    ['logging/setLevel', 'mcp_logging', 'endpoint'],
    ['completion/complete', 'mcp_completion', 'endpoint'],
    ['resources/templates/list', 'mcp_request', 'endpoint'],
  ])('names %s as ToolHive does (%s)', (method, type, targetType) => {
    const { audit, events } = setup();
    audit.request({ method, modern: true }).end({ outcome: 'success' });
    expect(events()).toMatchObject([
      {
        type,
        target: { type: targetType, method },
        source: { type: 'local', value: 'stdio' },
        subjects: { user: 'anonymous' },
        metadata: { extra: { transport: 'stdio', mcp_version: '2026-07-28' } },
      },
    ]);
  });

  it('records the name a client asked for even when the catalog does not have it', () => {
    const { audit, events } = setup();
    audit
      .request({ method: 'tools/call', modern: false, params: { name: 'x'.repeat(1000) } })
      .end({ outcome: 'error' });
    expect(events()[0].target.name).toBe(`${'x'.repeat(256)}…`);
  });

  it('audits a tool result with isError as a failure when detectApplicationErrors is on', () => {
    const { audit, events } = setup({ detectApplicationErrors: true });
    const failed = '{"content":[{"type":"text","text":"boom"}],"isError":true}';
    const large = new RawJson([
      '{"content":[{"type":"text","text":"',
      Buffer.from('x'.repeat(100_000)),
      '"}], "isError": true}',
    ]);
    audit.request(CALL).end({ outcome: 'success', result: failed });
    audit.request(CALL).end({ outcome: 'success', result: large });
    audit.request(CALL).end({ outcome: 'success', result: '{"content":[],"isError":false}' });
    audit.request({ ...CALL, method: 'prompts/get' }).end({ outcome: 'success', result: failed });
    expect(events().map((e) => `${e.outcome} ${e.metadata.extra.error_type}`)).toEqual([
      'failure tool_error',
      'failure tool_error',
      'success undefined',
      'success undefined',
    ]);
    const off = setup();
    off.audit.request(CALL).end({ outcome: 'success', result: failed });
    expect(off.events()[0].outcome).toBe('success');
  });

  it('audits an authentication failure as auth_failure, denied', () => {
    const { audit, events } = setup();
    audit.event({ type: 'auth_failure', remoteAddress: '192.0.2.1', reason: `invalid_token: bad Bearer ${TOKEN}` });
    const [e] = events();
    expect(e).toMatchObject({
      type: 'auth_failure',
      outcome: 'denied',
      source: { type: 'network', value: '192.0.2.1' },
      subjects: { user: 'anonymous' },
    });
    expect(e.metadata.extra.reason).toBe('invalid_token: bad Bearer [redacted]');
  });

  it('audits session start and end under vmcp_ names', () => {
    const { audit, events } = setup();
    audit.event({ type: 'session_start', sessionId: 's1', principal: ALICE, remoteAddress: '::1' });
    audit.event({ type: 'session_end', sessionId: 's1', reason: 'idle' });
    expect(events()).toMatchObject([
      { type: 'vmcp_session_start', outcome: 'success', source: { extra: { session_id: 's1' } } },
      { type: 'vmcp_session_end', metadata: { extra: { reason: 'idle' } } },
    ]);
  });

  it('reads the trace id of a valid traceparent only', () => {
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    expect(traceIdOf('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(traceIdOf('garbage')).toBeUndefined();
    expect(traceIdOf(undefined)).toBeUndefined();
  });
});

describe('workflow events', () => {
  const COMPOSITE: RequestStart = {
    ...CALL,
    target: 'weather_journal',
    targetKind: 'composite',
    backend: undefined,
    original: undefined,
    params: { name: 'weather_journal', arguments: { city: 'Oslo' } },
  };

  it('reports a run as started, its steps, completed, then the tool call', () => {
    const { audit, events } = setup({ includeRequestData: true });
    const span = audit.request(COMPOSITE);
    span.workflow?.({ workflow: 'weather_journal', step: 'fetch', outcome: 'success', seconds: 0.012 });
    span.workflow?.({ workflow: 'weather_journal', step: 'store', outcome: 'failure', seconds: 0.003, message: 'no' });
    span.workflow?.({ workflow: 'weather_journal', outcome: 'success', seconds: 0.02 });
    span.end({ outcome: 'success', result: '{}' });
    const got = events();
    expect(got.map((e) => `${e.type} ${e.outcome}`)).toEqual([
      'vmcp_workflow_started success',
      'vmcp_workflow_step_completed success',
      'vmcp_workflow_step_failed failure',
      'vmcp_workflow_completed success',
      'mcp_tool_call success',
    ]);
    expect(got[0]).toMatchObject({
      target: { workflow_id: 'id-1', workflow_name: 'weather_journal', type: 'workflow' },
      data: { request: { city: 'Oslo' } },
    });
    expect(got[1]).toMatchObject({
      target: { workflow_id: 'id-1', step_id: 'fetch', type: 'workflow_step' },
      metadata: { extra: { duration_ms: 12 } },
    });
    expect(got[3].metadata.extra).toMatchObject({ duration_ms: 20, step_count: 2 });
    expect(got[4].target).toMatchObject({ type: 'tool', name: 'weather_journal', composite: 'true' });
  });

  it('tells a timed-out run from a failed one', () => {
    const { audit, events } = setup({ eventTypes: ['vmcp_workflow_failed', 'vmcp_workflow_timed_out'] });
    audit
      .request(COMPOSITE)
      .workflow?.({ workflow: 'w', outcome: 'failure', seconds: 1, message: 'the workflow timed out after 1s' });
    audit.request(COMPOSITE).workflow?.({ workflow: 'w', outcome: 'failure', seconds: 1, message: 'step x failed' });
    expect(events().map((e) => e.type)).toEqual(['vmcp_workflow_timed_out', 'vmcp_workflow_failed']);
  });
});

describe('filters', () => {
  it('keeps only eventTypes, and excludeEventTypes wins over it', () => {
    const { audit, events } = setup({
      eventTypes: ['mcp_tool_call', 'mcp_tools_list'],
      excludeEventTypes: ['mcp_tools_list'],
    });
    audit.request({ method: 'tools/list', modern: false }).end({ outcome: 'success' });
    audit.request({ method: 'ping', modern: false }).end({ outcome: 'success' });
    audit.request(CALL).end({ outcome: 'success' });
    audit.event({ type: 'auth_failure' });
    expect(events().map((e) => e.type)).toEqual(['mcp_tool_call']);
  });

  it('does no JSON work for a filtered-out event type', () => {
    const { audit, events } = setup({ excludeEventTypes: ['mcp_tool_call'], includeRequestData: true });
    const stringify = vi.spyOn(JSON, 'stringify');
    const span = audit.request(CALL);
    span.upstream('github', 'streamable-http', 'tools/call', 'list_issues').end({ outcome: 'success' });
    span.end({ outcome: 'success', result: new RawJson(['{"content":[]}']) });
    expect(stringify).not.toHaveBeenCalled();
    expect(audit.request({ ...CALL, requestId: 8 })).toBe(span); // the shared no-op span
    expect(events()).toEqual([]);
  });
});

describe('request and response data', () => {
  it('leaves data out unless opted in', () => {
    const { audit, events } = setup();
    audit.request(CALL).end({ outcome: 'success', result: '{"content":[]}' });
    expect(events()[0].data).toBeUndefined();
  });

  it('records params and the result when opted in (string or raw bytes)', () => {
    const { audit, events } = setup({ includeRequestData: true, includeResponseData: true });
    audit.request(CALL).end({ outcome: 'success', result: '{"content":[{"type":"text","text":"ok"}]}' });
    audit.request(CALL).end({ outcome: 'success', result: new RawJson(['{"content":', Buffer.from('[]}')]) });
    const [a, b] = events();
    expect(a.data).toEqual({
      request: { name: 'github_list_issues', arguments: { repo: 'vmcp' } },
      response: { content: [{ type: 'text', text: 'ok' }] },
    });
    expect(a.metadata.extra.response_size_bytes).toBe(41);
    expect(b.data.response).toEqual({ content: [] });
  });

  it('cuts data to maxDataSize bytes and says so', () => {
    const { audit, events } = setup({ includeRequestData: true, includeResponseData: true, maxDataSize: 64 });
    const big = JSON.stringify({ content: [{ type: 'text', text: 'é'.repeat(5000) }] });
    audit
      .request({ ...CALL, params: { name: 'n', arguments: { text: 'y'.repeat(5000) } } })
      .end({ outcome: 'success', result: new RawJson([Buffer.from(big)]) });
    const [e] = events();
    expect(typeof e.data.request).toBe('string');
    expect(typeof e.data.response).toBe('string');
    expect(Buffer.byteLength(e.data.request)).toBeLessThanOrEqual(64);
    expect(Buffer.byteLength(e.data.response)).toBeLessThanOrEqual(64);
    expect(e.data.response.startsWith('{"content":[{"type":"text","text":"éé')).toBe(true);
    expect(e.data.response).not.toContain('\uFFFD');
    expect(e.metadata.extra).toMatchObject({
      request_data_truncated: true,
      response_data_truncated: true,
      response_size_bytes: Buffer.byteLength(big),
    });
  });
});

describe('secrets', () => {
  const planted = {
    name: 'github_list_issues',
    arguments: {
      headers: { Authorization: `Bearer ${HEADER_SECRET}`, 'X-Api-Key': HEADER_SECRET },
      nested: [{ client_secret: HEADER_SECRET, note: `use Basic ${HEADER_SECRET}` }],
      echoed: `the token is ${TOKEN}`,
      jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.sig-planted-jwt',
      url: `https://api.example/v1?access_token=${HEADER_SECRET}&page=2`,
    },
    _meta: { authorization: HEADER_SECRET },
  };

  it.each([1024, 40, 90])('never writes the token or an Authorization value (maxDataSize %i)', (maxDataSize) => {
    const { audit, out } = setup({
      includeRequestData: true,
      includeResponseData: true,
      maxDataSize,
      claims: ['groups', 'token'],
    });
    const principal = { ...ALICE, claims: { ...ALICE.claims, token: TOKEN } };
    audit
      .request({ ...CALL, principal, params: planted })
      .end({ outcome: 'success', result: JSON.stringify({ authorization: `Bearer ${HEADER_SECRET}`, ...planted }) });
    audit
      .request({ ...CALL, principal, params: planted })
      .end({ outcome: 'failure', message: `backend said: Authorization: Bearer ${HEADER_SECRET}` });
    audit.event({ type: 'auth_failure', principal, reason: `token ${TOKEN} expired` });
    const text = out.text();
    expect(text.split('\n').filter((l) => l).length).toBe(3);
    expect(text).not.toContain(HEADER_SECRET);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('PLANTED');
    expect(text).not.toContain('planted-jwt');
  });

  it('redacts a secret whose value the size cut splits', () => {
    const { audit, out } = setup({ includeResponseData: true, maxDataSize: 30 });
    audit.request(CALL).end({ outcome: 'success', result: `{"authorization":"${HEADER_SECRET}${'z'.repeat(100)}"}` });
    expect(out.text()).not.toContain(HEADER_SECRET.slice(0, 8));
  });
});

describe('output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-audit-'));

  it('appends lines to logFile, opened at start-up', async () => {
    const file = join(dir, 'audit.jsonl');
    writeFileSync(file, '{"earlier":true}\n');
    const { log } = recordingLog();
    const gw = { audit: { ...CONFIG, logFile: file } } as unknown as CompiledGateway;
    const observer = auditLog(gw, log);
    observer.request(CALL).end({ outcome: 'success' });
    observer.event?.({ type: 'auth_failure', remoteAddress: '192.0.2.1' });
    await observer.close?.();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).type ?? 'earlier')).toEqual(['earlier', 'mcp_tool_call', 'auth_failure']);
  });

  it('stops start-up when logFile cannot be opened', () => {
    const { log } = recordingLog();
    expect(() => openAuditFile(join(dir, 'missing', 'audit.jsonl'), log)).toThrow(StartupError);
  });

  it('survives a write error: logged once, later events dropped and counted', async () => {
    const failing = new Writable({
      write(_c, _e, done) {
        done(new Error('EIO: disk gone'));
      },
    });
    const { log, lines } = recordingLog();
    const sink = new AuditSink(failing, log, true);
    const audit = new AuditLog(CONFIG, sink, CLOCK);
    audit.request(CALL).end({ outcome: 'success' });
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 3; i++) expect(() => audit.request(CALL).end({ outcome: 'success' })).not.toThrow();
    await audit.close();
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0].error).toContain('EIO');
    expect(lines.find((l) => l.dropped !== undefined)?.dropped).toBe(3);
  });

  it('drops and counts events while the stream is backed up, then logs the count', async () => {
    const pending: (() => void)[] = [];
    const stalled = new Writable({
      highWaterMark: 256,
      write(_c, _e, done) {
        pending.push(done); // the disk never answers until released
      },
    });
    const { log, lines } = recordingLog();
    const sink = new AuditSink(stalled, log, false, 2048);
    const audit = new AuditLog(CONFIG, sink, CLOCK);
    for (let i = 0; i < 50; i++) audit.request(CALL).end({ outcome: 'success' });
    expect(pending).toHaveLength(1); // the first line went to the stream; the rest queued behind it
    expect(stalled.writableLength).toBeLessThan(2048 + 1024);
    expect(sink.droppedCount).toBeGreaterThan(30);
    const dropped = sink.droppedCount;
    while (pending.length > 0) pending.shift()?.();
    await new Promise((r) => setImmediate(r));
    expect(lines.find((l) => l.dropped !== undefined)?.dropped).toBe(dropped);
    expect(sink.droppedCount).toBe(0);
  });

  /** A stream that records each write it is handed. */
  function countingOut() {
    const writes: string[] = [];
    const out = new Writable({
      write(chunk, _e, done) {
        writes.push(chunk.toString());
        done();
      },
    });
    return { out, writes };
  }

  it('gathers the lines of one window into one write, in order', async () => {
    vi.useFakeTimers();
    try {
      const { out, writes } = countingOut();
      const { log } = recordingLog();
      const sink = new AuditSink(out, log, false, undefined, 5);
      for (const n of [1, 2, 3]) sink.write(`line ${n}\n`);
      expect(writes).toEqual([]); // nothing before the window closes
      await vi.advanceTimersByTimeAsync(5);
      expect(writes).toEqual(['line 1\nline 2\nline 3\n']);
      sink.write('line 4\n');
      await vi.advanceTimersByTimeAsync(5);
      expect(writes).toEqual(['line 1\nline 2\nline 3\n', 'line 4\n']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes a 64 KiB batch at once, and what is gathered at close', async () => {
    const { out, writes } = countingOut();
    const { log } = recordingLog();
    const sink = new AuditSink(out, log, false, undefined, 60_000);
    const big = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 64; i++) sink.write(big);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toBe(big.repeat(64));
    sink.write('last\n');
    expect(writes).toHaveLength(1);
    await sink.close();
    expect(writes).toEqual([big.repeat(64), 'last\n']);
  });

  it('drops and counts every line of a batch the backed-up stream cannot take', async () => {
    const pending: (() => void)[] = [];
    const stalled = new Writable({
      highWaterMark: 256,
      write(_c, _e, done) {
        pending.push(done);
      },
    });
    const { log } = recordingLog();
    const sink = new AuditSink(stalled, log, false, 100, 60_000);
    sink.write(`${'a'.repeat(200)}\n`);
    sink.flush(); // taken: the stream held nothing yet
    for (let i = 0; i < 7; i++) sink.write('b\n');
    sink.flush(); // 201 bytes unwritten > 100: all seven are dropped
    expect(pending).toHaveLength(1);
    expect(sink.droppedCount).toBe(7);
    while (pending.length > 0) pending.shift()?.();
  });

  it('a line that comes after close is dropped and counted, not written or reported as a failure', async () => {
    const { out, writes } = countingOut();
    const { log, lines } = recordingLog();
    const sink = new AuditSink(out, log, true, undefined, 5);
    sink.write('before\n');
    await sink.close();
    sink.write('after\n');
    sink.flush();
    expect(writes).toEqual(['before\n']);
    expect(sink.droppedCount).toBe(1);
    expect(lines.filter((l) => l.level === 50)).toEqual([]);
  });

  it('a process that exits with lines still gathered writes them to the file first', () => {
    const file = join(dir, 'exit.jsonl');
    const sinkModule = join(import.meta.dirname, '../../runtime/audit/sink.ts');
    const logModule = join(import.meta.dirname, '../../runtime/log.ts');
    const code = `
      const { openAuditFile } = await import(${JSON.stringify(sinkModule)});
      const { createLogger } = await import(${JSON.stringify(logModule)});
      const sink = openAuditFile(${JSON.stringify(file)}, createLogger({}, 'silent', () => {}));
      sink.write('{"n":1}\\n');
      sink.write('{"n":2}\\n');
      process.exit(3);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(3);
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
  });
});
