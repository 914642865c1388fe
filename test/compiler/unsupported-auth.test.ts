import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.ts';

// Strategies the config language accepts but the runtime does not implement yet must fail the
// compile with a positioned diagnostic, never reach the bundler.
const config = (strategy: string) => `name: auth
backends:
  - name: web
    transport: streamable-http
    url: https://example.com/mcp
outgoingAuth:
  backends:
    web:
      type: ${strategy}
      ${strategy === 'token_exchange' ? 'tokenExchange' : 'clientCredentials'}: { tokenUrl: https://idp.example.com/token, clientId: c, clientSecretEnv: SECRET }
`;

describe('outgoing auth strategies without a runtime implementation', () => {
  for (const strategy of ['token_exchange', 'client_credentials']) {
    it(`${strategy} is UNSUPPORTED at its type key, and nothing is introspected`, async () => {
      let introspected = false;
      const r = await compile({
        file: 'vmcp.yaml', text: config(strategy), env: { SECRET: 'x' }, readFile: () => undefined, frozen: false, allowMissing: false,
        introspect: async () => { introspected = true; return []; },
      });
      expect(r.value).toBeUndefined();
      expect(introspected).toBe(false);
      const d = r.diagnostics.find((x) => x.code === 'UNSUPPORTED');
      expect(d).toMatchObject({ severity: 'error', line: 9, column: 13 });
      expect(d!.message).toContain(strategy);
    });
  }
});
