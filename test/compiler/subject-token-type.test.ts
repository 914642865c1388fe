import { describe, expect, it } from 'vitest';
import { normalizeSubjectTokenType } from '../../compiler/auth/subject-token-type.ts';
import { compileAuth } from '../../compiler/emit/gateway.ts';
import { load } from './config/helpers.ts';

const URN = 'urn:ietf:params:oauth:token-type:';

describe('tokenExchange.subjectTokenType: ToolHive short forms become RFC 8693 URNs', () => {
  it.each([
    { given: 'access_token', want: `${URN}access_token` },
    { given: 'id_token', want: `${URN}id_token` },
    { given: 'jwt', want: `${URN}jwt` },
    { given: `${URN}id_token`, want: `${URN}id_token` },
    // Other RFC 8693 types pass through (ToolHive accepts only its three).
    { given: `${URN}saml2`, want: `${URN}saml2` },
    { given: 'idtoken', want: undefined },
    { given: 'ID_TOKEN', want: undefined },
    { given: 'constructor', want: undefined },
  ])('$given → $want', ({ given, want }) => {
    expect(normalizeSubjectTokenType(given)).toBe(want);
  });

  it('compileAuth writes the URN into the bundle data', () => {
    const yaml = [
      'name: gw',
      'backends:',
      '  - name: a',
      '    transport: streamable-http',
      '    url: https://a.example.com/mcp',
      'incomingAuth:',
      '  type: oidc',
      '  oidc: {issuer: "https://id.example.com", audience: gw}',
      'outgoingAuth:',
      '  default:',
      '    type: token_exchange',
      '    tokenExchange: {tokenUrl: "https://sts.example.com/token", subjectTokenType: id_token}',
    ].join('\n');
    const result = load(yaml);
    expect(result.diagnostics).toEqual([]);
    expect(compileAuth(result.value!.config.outgoingAuth.default)).toEqual({
      type: 'token_exchange',
      tokenUrl: 'https://sts.example.com/token',
      subjectTokenType: `${URN}id_token`,
    });
  });

  it('a value that is neither is refused where it is written', () => {
    const result = load(
      'name: gw\nbackends:\n  - name: a\n    transport: streamable-http\n    url: https://a.example.com/mcp\n' +
        'incomingAuth:\n  type: oidc\n  oidc: {issuer: "https://id.example.com", audience: gw}\n' +
        'outgoingAuth:\n  default:\n    type: token_exchange\n    tokenExchange:\n      tokenUrl: https://sts.example.com/token\n      subjectTokenType: idtoken\n',
    );
    expect(result.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual(['BAD_VALUE 14:25']);
  });
});
