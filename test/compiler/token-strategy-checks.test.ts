import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.ts';

// Token strategies compile to runtime plugins; the checks that need no network catch the
// combinations that can never work, at the strategy's `type:` key, before anything is introspected.
const config = (strategy: string, transport: 'stdio' | 'streamable-http', incoming = 'anonymous') => `name: auth
backends:
  - name: web
${transport === 'stdio' ? '    transport: stdio\n    command: node' : '    transport: streamable-http\n    url: https://example.com/mcp'}
incomingAuth:
  type: ${incoming}
${incoming === 'oidc' ? '  oidc: { issuer: https://idp.example.com, audience: gw }\n' : ''}outgoingAuth:
  backends:
    web:
      type: ${strategy}
      ${strategy === 'token_exchange' ? 'tokenExchange' : 'clientCredentials'}: { tokenUrl: https://idp.example.com/token, clientId: c, clientSecretEnv: SECRET }
`;

async function run(text: string) {
  let introspected = false;
  const r = await compile({
    file: 'vmcp.yaml',
    text,
    env: { SECRET: 'x' },
    readFile: () => undefined,
    frozen: false,
    allowMissing: true,
    introspect: async (targets) => {
      introspected = true;
      return targets.map((t) => ({ name: t.name, diagnostics: [], ms: 0 }));
    },
  });
  return { r, introspected };
}

describe('outgoing token strategies at compile time', () => {
  it('token_exchange without incomingAuth oidc is an error at its type key', async () => {
    const { r, introspected } = await run(config('token_exchange', 'streamable-http'));
    expect(introspected).toBe(false);
    const d = r.diagnostics.find((x) => x.code === 'BAD_VALUE');
    expect(d).toMatchObject({ severity: 'error', line: 11, column: 13 });
    expect(d!.message).toContain('incomingAuth is not oidc');
  });

  for (const strategy of ['token_exchange', 'client_credentials']) {
    it(`${strategy} on a stdio backend is an error naming the backend`, async () => {
      const { r } = await run(config(strategy, 'stdio', 'oidc'));
      const d = r.diagnostics.find((x) => x.code === 'BAD_VALUE' && x.message.includes('needs an HTTP backend'));
      expect(d).toMatchObject({ severity: 'error', line: 12, column: 13 });
      expect(d!.message).toContain('"web"');
    });
  }

  it('token_exchange with oidc over HTTP compiles, and the bundle carries the strategy', async () => {
    // VMCP_SUBJECT_TOKEN is unset: the backend is listed without credentials (here: recorded absent).
    const { r } = await run(config('token_exchange', 'streamable-http', 'oidc'));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.value!.routerSource).toContain("import { tokenExchange } from './runtime/auth/out/token-exchange.ts'");
    expect(r.value!.routerSource).toContain("import { oidcAuth } from './runtime/auth/in/oidc.ts'");
  });
});
