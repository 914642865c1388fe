import { describe, expect, it } from 'vitest';
import {
  MAX_PASSTHROUGH_VALUE_BYTES,
  pickPassthrough,
  restrictedHeaderReason,
} from '../../runtime/passthrough-headers.ts';
import { forwardedLines, ownHeaderNames, withForwarded } from '../../runtime/transports/http-client.ts';

describe('restrictedHeaderReason: which client headers may never reach a backend', () => {
  const restricted = [
    'Authorization',
    'cookie',
    'Host',
    'Content-Length',
    'Transfer-Encoding',
    'Connection',
    'Keep-Alive',
    'TE',
    'Trailer',
    'Upgrade',
    'HTTP2-Settings',
    'Proxy-Authorization',
    'Proxy-Connection',
    'Mcp-Session-Id',
    'MCP-Protocol-Version',
    'Mcp-Method',
    'Mcp-Name',
    'Forwarded',
    'X-Forwarded-For',
    'X-Forwarded-Host',
    'X-Real-IP',
    'Content-Type',
    'Accept',
    'Last-Event-ID',
    'Expect',
  ];
  it.each(restricted)('%s is refused, with a reason', (name) => {
    expect(restrictedHeaderReason(name)).toMatch(/\w{4,}/);
  });
  const allowed = ['X-Tenant-Id', 'X-Api-Key', 'traceparent', 'X-Request-Id', 'Accept-Language', 'User-Agent'];
  it.each(allowed)('%s may be forwarded', (name) => {
    expect(restrictedHeaderReason(name)).toBeUndefined();
  });
});

describe('pickPassthrough: the allowlisted headers of one request', () => {
  const names = ['x-tenant-id', 'x-tag'];
  const cases: Array<{ name: string; given: Record<string, string | string[] | undefined>; want: unknown }> = [
    { name: 'none present: nothing allocated', given: { 'x-other': '1' }, want: {} },
    { name: 'one present', given: { 'x-tenant-id': 'a', 'x-other': '1' }, want: { headers: { 'x-tenant-id': 'a' } } },
    {
      name: 'both present',
      given: { 'x-tenant-id': 'a', 'x-tag': 'b' },
      want: { headers: { 'x-tenant-id': 'a', 'x-tag': 'b' } },
    },
    { name: 'repeated header joined', given: { 'x-tag': ['a', 'b'] }, want: { headers: { 'x-tag': 'a, b' } } },
    { name: 'empty value kept', given: { 'x-tag': '' }, want: { headers: { 'x-tag': '' } } },
    { name: 'control character dropped', given: { 'x-tag': 'a\u0001b' }, want: {} },
    {
      name: 'at the bound: kept',
      given: { 'x-tag': 'v'.repeat(MAX_PASSTHROUGH_VALUE_BYTES) },
      want: { headers: { 'x-tag': 'v'.repeat(MAX_PASSTHROUGH_VALUE_BYTES) } },
    },
    {
      name: 'over the bound: refused',
      given: { 'x-tag': 'v'.repeat(MAX_PASSTHROUGH_VALUE_BYTES + 1) },
      want: { tooLong: 'x-tag' },
    },
  ];
  it.each(cases)('$name', ({ given, want }) => {
    expect(pickPassthrough(names, given)).toEqual(want);
  });
});

describe('merging forwarded headers into an upstream request', () => {
  const own = ownHeaderNames({ 'X-Tag': 'config', authorization: 'Bearer gw' });
  it('configured names win, whatever their case', () => {
    expect(withForwarded({ 'x-tag': 'client', 'x-tenant-id': 't' }, { 'X-Tag': 'config' }, own)).toEqual({
      'x-tenant-id': 't',
      'X-Tag': 'config',
    });
    expect(forwardedLines({ 'x-tag': 'client', 'x-tenant-id': 't' }, own)).toBe('x-tenant-id: t\r\n');
  });
  it('returns the request headers themselves when nothing is left to forward', () => {
    const h = { 'X-Tag': 'config' };
    expect(withForwarded({ 'x-tag': 'client' }, h, own)).toBe(h);
  });
  it('the lean lines refuse a value with CR/LF (no header injection)', () => {
    expect(() => forwardedLines({ 'x-tenant-id': 'a\r\nx-evil: 1' }, own)).toThrow(TypeError);
  });
});
