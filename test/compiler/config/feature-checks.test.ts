import { describe, expect, it } from 'vitest';
import { actual, HEAD, HEAD2, load, type BadCase } from './helpers.ts';

// The checks of passthroughHeaders, OIDC introspection, CA bundles and incomingAuth local.
const OIDC = 'incomingAuth:\n  type: oidc\n  oidc:\n    issuer: https://idp.example.com\n    audience: gw\n';
const CASES: BadCase[] = [
  {
    name: 'passthroughHeaders: Authorization is refused with the way to give a backend a credential',
    given: HEAD2 + 'passthroughHeaders: [X-Tenant-Id, Authorization]\n',
    want: [
      'RESTRICTED_HEADER 9:35 hint=to give a backend a credential, use outgoingAuth (header_injection, client_credentials or token_exchange)',
    ],
    message:
      'passthroughHeaders[1] "Authorization" may not be forwarded to backends: a credential for the gateway, never for a backend',
  },
  {
    name: 'passthroughHeaders: hop-by-hop, MCP and spoofable headers, each at its item',
    given:
      HEAD2 + 'passthroughHeaders:\n  - Connection\n  - Mcp-Session-Id\n  - X-Forwarded-For\n  - Proxy-Authorization\n',
    want: ['RESTRICTED_HEADER 10:5', 'RESTRICTED_HEADER 11:5', 'RESTRICTED_HEADER 12:5', 'RESTRICTED_HEADER 13:5'],
  },
  {
    name: 'passthroughHeaders: a name that is not an HTTP token',
    given: HEAD2 + 'passthroughHeaders: ["X Tenant"]\n',
    want: ['BAD_VALUE 9:22'],
  },
  {
    name: 'passthroughHeaders: a name listed twice',
    given: HEAD2 + 'passthroughHeaders: [X-Tenant-Id, x-tenant-id]\n',
    want: ['warning BAD_VALUE 9:35'],
  },
  {
    name: 'passthroughHeaders with only stdio backends has no effect',
    given: HEAD + 'passthroughHeaders: [X-Tenant-Id]\n',
    want: ['warning PASSTHROUGH_NO_HTTP_BACKEND 6:1'],
  },
  {
    name: 'introspectionUrl over plain http to another host',
    given: HEAD + OIDC + '    introspectionUrl: http://idp.example.com/introspect\n',
    want: ['INSECURE_ISSUER 11:23'],
  },
  {
    name: 'introspection clientSecretEnv without clientId',
    given: HEAD + OIDC + '    introspectionUrl: https://idp.example.com/introspect\n    clientSecretEnv: S\n',
    env: { S: 'x' },
    want: ['MISSING_KEY 12:5'],
  },
  {
    name: 'caBundlePath on a plain http backend has no effect',
    given:
      'name: gw\nbackends:\n  - name: a\n    transport: streamable-http\n    url: http://a.example.com/mcp\n    caBundlePath: /etc/ca.pem\n',
    want: ['warning BAD_VALUE 6:5'],
  },
];

describe('feature checks: every diagnostic, with its exact line:column', () => {
  it.each(CASES)('$name', (c) => {
    const result = load(c.given, { env: c.env });
    expect(actual(result.diagnostics, c.want)).toEqual(c.want);
    if (c.message !== undefined) expect(result.diagnostics[0].message).toBe(c.message);
    expect(result.value === undefined).toBe(result.diagnostics.some((d) => d.severity === 'error'));
  });

  const good: Array<[string, string]> = [
    ['passthroughHeaders on an HTTP backend', HEAD2 + 'passthroughHeaders: [X-Tenant-Id, traceparent]\n'],
    ['incomingAuth local', HEAD + 'incomingAuth:\n  type: local\n'],
    [
      'introspection with a client and a CA bundle',
      `${HEAD}${OIDC}    introspectionUrl: https://idp.example.com/introspect\n    clientId: gw\n    clientSecretEnv: S\n    caBundlePath: /etc/idp-ca.pem\n`,
    ],
    [
      'caBundlePath on an https backend',
      'name: gw\nbackends:\n  - name: a\n    transport: sse\n    url: https://a.example.com/sse\n    caBundlePath: ${env:CA}\n',
    ],
  ];
  it.each(good)('%s validates with no diagnostic', (_, text) => {
    const result = load(text, { env: { S: 'x', CA: '/etc/ca.pem' } });
    expect(result.diagnostics).toEqual([]);
    expect(result.value).toBeDefined();
  });
});
