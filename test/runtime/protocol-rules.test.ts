/**
 * The protocol layer's decisions as given/want tables: no sockets, no child processes, no timers.
 * What a POST to /mcp becomes (refusal, 2025 session message, 2026 notification or request), and
 * which 2025 session a request may use and whether a new one may open, how errors map to HTTP, and
 * where the router sends each request.
 */
import { describe, expect, it } from 'vitest';
import { checkEnvelope, isModernMessage } from '../../runtime/protocol/envelope.ts';
import { checkPostHeaders, classifyPost } from '../../runtime/protocol/inbound.ts';
import { admissionRefusal, lookupSession } from '../../runtime/protocol/session-rules.ts';
import { Session } from '../../runtime/protocol/session.ts';
import { errorAnswer, httpStatusFor } from '../../runtime/protocol/errors.ts';
import { ERR, RpcError } from '../../runtime/jsonrpc.ts';
import { Router } from '../../runtime/protocol/router.ts';
import { Catalog } from '../../runtime/catalog.ts';
import { Metrics } from '../../runtime/ops/metrics.ts';
import type { CompiledGateway } from '../../runtime/compiled-gateway.ts';
import type { Backend } from '../../runtime/backend/supervisor.ts';

const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const envelope = { [PV]: '2026-07-28', [CAPS]: {} };
const JSON_OK = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
const MODERN = { ...JSON_OK, 'mcp-protocol-version': '2026-07-28' };

describe('checkPostHeaders', () => {
  it.each([
    ['both media types accepted', JSON_OK, undefined],
    ['only application/json accepted', { ...JSON_OK, accept: 'application/json' }, 406],
    ['only SSE accepted', { ...JSON_OK, accept: 'text/event-stream' }, 406],
    ['no Accept', { 'content-type': 'application/json' }, 406],
    ['form body', { ...JSON_OK, 'content-type': 'application/x-www-form-urlencoded' }, 415],
    ['JSON with a charset', { ...JSON_OK, 'content-type': 'application/json; charset=utf-8' }, undefined],
  ])('%s → %s', (_name, headers, status) => expect(checkPostHeaders(headers)?.status).toBe(status));
});

describe('classifyPost', () => {
  const cases: Array<{ name: string; headers: Record<string, string>; body: unknown; want: string }> = [
    { name: 'not JSON', headers: JSON_OK, body: '{"jsonrpc":', want: 'refuse 400 -32700' },
    { name: 'a batch', headers: JSON_OK, body: [{ jsonrpc: '2.0', id: 1, method: 'ping' }], want: 'refuse 400 -32600' },
    { name: 'no jsonrpc member', headers: JSON_OK, body: { id: 1, method: 'ping' }, want: 'refuse 400 -32600' },
    { name: 'null', headers: JSON_OK, body: null, want: 'refuse 400 -32600' },
    {
      name: '2025 initialize',
      headers: JSON_OK,
      body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} },
      want: 'legacy',
    },
    {
      name: '2025 request with a 2025 header',
      headers: { ...JSON_OK, 'mcp-protocol-version': '2025-11-25' },
      body: { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      want: 'legacy',
    },
    {
      name: 'a client response (2025)',
      headers: JSON_OK,
      body: { jsonrpc: '2.0', id: 'vmcp-1', result: {} },
      want: 'legacy',
    },
    {
      name: 'modern header but no envelope',
      headers: MODERN,
      body: { jsonrpc: '2.0', id: 3, method: 'tools/list' },
      want: 'refuse 400 -32602',
    },
    {
      name: 'initialize notification with a modern header',
      headers: MODERN,
      body: { jsonrpc: '2.0', method: 'initialize' },
      want: 'refuse 400 -32020',
    },
    {
      name: '2026 notification',
      headers: MODERN,
      body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: envelope } },
      want: 'modern-notification',
    },
    {
      name: '2026 request, headers agree',
      headers: { ...MODERN, 'mcp-method': 'tools/list' },
      body: { jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: envelope } },
      want: 'modern-request',
    },
    {
      name: '2026 tools/call without Mcp-Name',
      headers: { ...MODERN, 'mcp-method': 'tools/call' },
      body: { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'x', _meta: envelope } },
      want: 'refuse 400 -32020',
    },
    {
      name: '2026 tools/call with a renamed Mcp-Name',
      headers: { ...MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'y' },
      body: { jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'x', _meta: envelope } },
      want: 'refuse 400 -32020',
    },
    {
      name: '2026 unsupported revision',
      headers: { ...MODERN, 'mcp-method': 'tools/list' },
      body: { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: { ...envelope, [PV]: '2099-01-01' } } },
      want: 'refuse 400 -32022',
    },
    {
      name: '2026 envelope without client capabilities',
      headers: { ...MODERN, 'mcp-method': 'tools/list' },
      body: { jsonrpc: '2.0', id: 8, method: 'tools/list', params: { _meta: { [PV]: '2026-07-28' } } },
      want: 'refuse 400 -32602',
    },
  ];
  it.each(cases)('$name → $want', ({ headers, body, want }) => {
    const d = classifyPost(headers, typeof body === 'string' ? body : JSON.stringify(body));
    const got = d.kind === 'refuse' ? `refuse ${d.status} ${d.code}` : d.kind;
    expect(got).toBe(want);
    // A refusal of a request names its id, so the client can match the error to its call.
    const id = (body as { id?: unknown } | null)?.id;
    if (d.kind === 'refuse' && d.status === 400 && d.code !== -32700 && d.code !== -32600 && id !== undefined)
      expect(d.id).toBe(id);
  });

  it('era detection and envelope checks agree with the classification', () => {
    const msg = { jsonrpc: '2.0' as const, id: 1, method: 'tools/list', params: { _meta: envelope } };
    expect(isModernMessage(msg)).toBe(true);
    expect(() => checkEnvelope(msg)).not.toThrow();
    expect(isModernMessage({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: {} } })).toBe(false);
  });
});

describe('lookupSession', () => {
  const sessions = new Map([
    ['s-anon', { principalKey: undefined, name: 'anonymous' }],
    ['s-alice', { principalKey: 'idp\nalice', name: 'alice' }],
  ]);
  const cases: Array<[string, Record<string, string>, string | undefined, string]> = [
    ['no session header', {}, undefined, 'refuse 400'],
    ['unknown id', { 'mcp-session-id': 'nope' }, undefined, 'refuse 404'],
    ['anonymous session, anonymous caller', { 'mcp-session-id': 's-anon' }, undefined, 'anonymous'],
    ["alice's session, alice", { 'mcp-session-id': 's-alice' }, 'idp\nalice', 'alice'],
    ["alice's session, bob: the same 404 as an unknown id", { 'mcp-session-id': 's-alice' }, 'idp\nbob', 'refuse 404'],
    ["alice's session, no token", { 'mcp-session-id': 's-alice' }, undefined, 'refuse 404'],
    [
      'a 2025 revision header',
      { 'mcp-session-id': 's-anon', 'mcp-protocol-version': '2025-06-18' },
      undefined,
      'anonymous',
    ],
    [
      'a 2026 revision header on a session',
      { 'mcp-session-id': 's-anon', 'mcp-protocol-version': '2026-07-28' },
      undefined,
      'refuse 400',
    ],
  ];
  it.each(cases)('%s', (_name, headers, principalKey, want) => {
    const r = lookupSession(sessions, headers, principalKey);
    expect('kind' in r ? `refuse ${r.status}` : r.session.name).toBe(want);
  });
});

describe('admissionRefusal', () => {
  const limits = { maxSessions: 10, maxSessionsPerClient: 3 };
  it.each([
    [0, 0, undefined],
    [9, 2, undefined],
    [10, 0, 'maxSessions'],
    [5, 3, 'maxSessionsPerClient'],
    [10, 3, 'maxSessions'],
  ])('%i held, %i by this client → %s', (total, byClient, want) => {
    const why = admissionRefusal({ total, byClient }, limits);
    if (want === undefined) expect(why).toBeUndefined();
    else expect(why).toContain(`(operational.limits.${want})`);
  });
});

describe('error mapping', () => {
  it.each([
    [new RpcError(ERR.FORBIDDEN, 'Forbidden: no'), -32003, 403],
    [new RpcError(ERR.INVALID_PARAMS, 'Tool x not found'), -32602, 200],
    [new RpcError(ERR.TIMEOUT, 'vmcp: backend "b" did not answer'), -32001, 200],
    [new RpcError(-32002, 'Resource r not found', { uri: 'r' }), -32002, 200],
    [new Error('boom'), -32603, 200],
    ['a string', -32603, 200],
  ])('%s → code %i, HTTP %i', (err, code, status) => {
    const a = errorAnswer(err);
    expect(a.error.code).toBe(code);
    expect(a.status).toBe(status);
    expect(httpStatusFor(code)).toBe(status);
  });
});

describe('routing decisions (the router over recording backends)', () => {
  const gw = {
    tools: { a_echo: { backend: 0, name: 'echo' }, b_echo: { backend: 1, name: 'echo' } },
    prompts: { greet: { backend: 1, name: 'hello' } },
    resources: { 'file:///readme': { backend: 0, name: 'file:///readme' } },
    resourceTemplates: [{ uriTemplate: 'repo://{+path}', pattern: '^repo://(.+)$', backend: 1 }],
    lists: { tools: '[]', prompts: '[]', resources: '[]', resourceTemplates: '[]' },
    backends: [],
    operational: { partialFailureMode: 'fail' },
  } as unknown as CompiledGateway;
  const calls: string[] = [];
  const backend = (i: number) =>
    ({
      state: 'ready',
      capabilities: {},
      name: `b${i}`,
      call: async (method: string, params: any) => {
        calls.push(`${i} ${method} ${params?.name ?? params?.uri ?? params?.ref?.name ?? params?.ref?.uri}`);
        return { content: [] };
      },
    }) as unknown as Backend;
  const backends = [backend(0), backend(1)];
  const deny = { isAllowed: (_p: unknown, _a: string, _t: string, id: string) => id !== 'b_echo' };
  const router = new Router(gw, backends, new Catalog(gw, backends), new Metrics(['b0', 'b1']), undefined, deny);
  const cases: Array<[string, string, unknown, string]> = [
    ['a prefixed tool', 'tools/call', { name: 'a_echo' }, '0 tools/call echo'],
    ['a denied tool', 'tools/call', { name: 'b_echo' }, 'error -32003'],
    ['an unknown tool', 'tools/call', { name: 'nope' }, 'error -32602'],
    ['a renamed prompt', 'prompts/get', { name: 'greet' }, '1 prompts/get hello'],
    ['an exact resource', 'resources/read', { uri: 'file:///readme' }, '0 resources/read file:///readme'],
    ['a templated resource', 'resources/read', { uri: 'repo://src/a.ts' }, '1 resources/read repo://src/a.ts'],
    ['an unknown resource', 'resources/read', { uri: 'x://y' }, 'error -32002'],
    [
      'completion of a prompt',
      'completion/complete',
      { ref: { type: 'ref/prompt', name: 'greet' } },
      '1 completion/complete hello',
    ],
    ['a subscription', 'resources/subscribe', { uri: 'file:///readme' }, '0 resources/subscribe file:///readme'],
    ['an unknown method', 'tools/destroy', {}, 'error -32601'],
    ['a cursor vmcp never issued', 'tools/list', { cursor: 'p2' }, 'error -32602'],
  ];
  it.each(cases)('%s', async (_name, method, params, want) => {
    calls.length = 0;
    let got: string;
    try {
      await router.dispatch(method, { ...(params as object) }, { notify() {} }, false);
      got = calls.join('; ');
    } catch (err) {
      got = `error ${(err as RpcError).code}`;
    }
    expect(got).toBe(want);
  });

  it('ping answers from the gateway in both eras, without a backend', async () => {
    calls.length = 0;
    expect(await router.dispatch('ping', {}, { notify() {} }, false)).toBe('{}');
    expect(await router.dispatch('ping', {}, { notify() {} }, true)).toBe('{"resultType":"complete"}');
    expect(calls).toEqual([]);
  });
});

describe('2025 session: server→client requests on an injected clock', () => {
  const timers = () => {
    const due: Array<{ fn: () => void; cancelled: boolean }> = [];
    return {
      due,
      after(_ms: number, fn: () => void) {
        const e = { fn, cancelled: false };
        due.push(e);
        return () => {
          e.cancelled = true;
        };
      },
    };
  };

  it('an answered request cancels its timeout; an unanswered one fails when the clock says so', async () => {
    const t = timers();
    const s = new Session('s1', '2025-11-25', { elicitation: {} }, t);
    const sent: string[] = [];
    const answered = s.request('elicitation/create', { message: 'ok?' }, (j) => sent.push(j));
    expect(JSON.parse(sent[0])).toMatchObject({ id: 'vmcp-1', method: 'elicitation/create' });
    expect(s.resolveClient({ jsonrpc: '2.0', id: 'vmcp-1', result: { action: 'accept' } })).toBe(true);
    await expect(answered).resolves.toEqual({ action: 'accept' });
    expect(t.due[0].cancelled).toBe(true);
    const late = s.request('roots/list', {}, (j) => sent.push(j));
    t.due[1].fn();
    await expect(late).rejects.toThrow(/client did not answer roots\/list/);
    expect(s.resolveClient({ jsonrpc: '2.0', id: 'vmcp-2', result: {} })).toBe(false);
  });

  it('closing fails every waiting request and cancels their timers', async () => {
    const t = timers();
    const s = new Session('s2', '2025-11-25', {}, t);
    const waiting = [s.request('roots/list', {}, () => {}), s.request('sampling/createMessage', {}, () => {})];
    s.close();
    for (const w of waiting) await expect(w).rejects.toThrow();
    expect(t.due.every((d) => d.cancelled)).toBe(true);
  });
});
