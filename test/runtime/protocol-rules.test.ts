/**
 * The protocol layer's decisions as given/want tables: no sockets, no child processes, no timers.
 * What a POST to /mcp becomes (refusal, 2025 session message, 2026 notification or request), and
 * which 2025 session a request may use.
 */
import { describe, expect, it } from 'vitest';
import { checkEnvelope, isModernMessage } from '../../runtime/protocol/envelope.ts';
import { checkPostHeaders, classifyPost } from '../../runtime/protocol/inbound.ts';
import { lookupSession } from '../../runtime/protocol/session-rules.ts';

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
