/** The per-caller list cache is keyed by who the caller is (subject and claims), never by the raw bearer token. */
import { describe, expect, it } from 'vitest';
import { Catalog, identityKey } from '../../runtime/catalog.ts';
import type { Authorizer, Principal } from '../../runtime/plugins.ts';
import type { CompiledGateway } from '../../runtime/compiled-gateway.ts';

const gw = {
  lists: {
    tools: JSON.stringify([{ name: 'a' }, { name: 'b' }]),
    prompts: '[]',
    resources: '[]',
    resourceTemplates: '[]',
  },
  backends: [],
  operational: { partialFailureMode: 'fail' },
} as unknown as CompiledGateway;

const who = (token: string, claims: Record<string, unknown>): Principal => ({
  key: 'https://idp\nalice',
  iss: 'https://idp',
  sub: 'alice',
  token,
  claims: { iss: 'https://idp', sub: 'alice', ...claims },
});

describe('per-caller list cache', () => {
  it('a refreshed token (new exp, iat, jti) reuses the entry; a changed group does not', () => {
    let decisions = 0;
    const authz: Authorizer = {
      isAllowed: (p, _a, _t, id) => {
        decisions++;
        return id === 'a' || (p?.claims.groups as string[] | undefined)?.includes('admin') === true;
      },
    };
    const catalog = new Catalog(gw, [], authz);
    const first = catalog.listFor('tools', false, who('token-1', { exp: 1, iat: 0, jti: 'x', groups: ['dev'] }));
    expect(JSON.parse(first).tools.map((t: any) => t.name)).toEqual(['a']);
    expect(decisions).toBe(2);
    catalog.listFor('tools', false, who('token-2', { exp: 2, iat: 1, jti: 'y', groups: ['dev'] }));
    expect(decisions).toBe(2); // same identity: served from the cache
    const admin = catalog.listFor('tools', false, who('token-3', { exp: 3, groups: ['dev', 'admin'] }));
    expect(decisions).toBe(4); // new claims: decided again
    expect(JSON.parse(admin).tools.map((t: any) => t.name)).toEqual(['a', 'b']);
  });

  it('the key never holds the bearer token, and claim order does not matter', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.secret-looking-token.sig';
    const k1 = identityKey(who(token, { groups: ['x'], email: 'a@example.com' }));
    const k2 = identityKey({
      ...who('other', {}),
      claims: { email: 'a@example.com', groups: ['x'], sub: 'alice', iss: 'https://idp', exp: 9 },
    });
    expect(k1).not.toContain(token);
    expect(k1).toBe(k2);
    expect(identityKey(undefined)).toBe('');
  });
});
