/** A required enum key that is absent is reported as missing, never as "the undefined undefined". */
import { describe, expect, it } from 'vitest';
import { HEAD, actual, load } from './helpers.ts';

describe('missing enum keys', () => {
  it.each([
    [
      'a strategy block without type',
      HEAD + 'outgoingAuth:\n  backends:\n    a:\n      headerInjection: { headerName: X, headerValueEnv: Y }\n',
      'outgoingAuth.backends.a',
    ],
    [
      'a default strategy without type',
      HEAD + 'outgoingAuth:\n  default:\n    headerInjection: { headerName: X, headerValueEnv: Y }\n',
      'outgoingAuth.default',
    ],
  ])('%s', (_name, given, where) => {
    const r = load(given);
    expect(actual(r.diagnostics, ['x']).map((d) => d.split(' ')[0])).toEqual(['MISSING_KEY']);
    expect(r.diagnostics[0].message).toBe(`missing required key "type" in ${where}`);
    expect(r.diagnostics[0].hint).toMatch(/^add `type:` with one of: unauthenticated, header_injection/);
    expect(JSON.stringify(r.diagnostics)).not.toContain('undefined');
  });
});

describe('missing type in other blocks', () => {
  it.each([
    [
      'incomingAuth without type',
      HEAD + 'incomingAuth:\n  oidc: { issuer: https://idp.example.com, audience: vmcp }\n',
      'incomingAuth',
      'anonymous, oidc, local',
    ],
    [
      'authz without type',
      HEAD + 'incomingAuth:\n  type: anonymous\n  authz:\n    policies: []\n',
      'incomingAuth.authz',
      'cedar, none',
    ],
    [
      'a per-backend strategy without type, in flow style',
      HEAD + 'outgoingAuth:\n  backends: { a: { tokenExchange: { tokenUrl: https://idp.example.com/token } } }\n',
      'outgoingAuth.backends.a',
      'unauthenticated, header_injection',
    ],
  ])('%s', (_name, given, where, values) => {
    const r = load(given);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['MISSING_KEY']);
    expect(r.diagnostics[0].message).toBe(`missing required key "type" in ${where}`);
    expect(r.diagnostics[0].hint).toContain(`add \`type:\` with one of: ${values}`);
    expect(JSON.stringify(r.diagnostics)).not.toContain('undefined');
  });
});
