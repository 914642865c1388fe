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
