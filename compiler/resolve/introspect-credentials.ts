/**
 * Compile-time credentials for backends whose outgoing auth fetches tokens, so `vmcp compile` can
 * list a backend that requires them:
 * - client_credentials: the same grant the runtime uses (the secret comes from env at compile time);
 * - token_exchange: exchanges `VMCP_SUBJECT_TOKEN` when it is set (a CI identity's token);
 *   otherwise the backend is listed without credentials.
 * Tokens travel only in the introspection request headers; they never reach the lock.
 */
import { clientCredentials } from '../../runtime/auth/out/client-credentials.ts';
import { tokenExchange } from '../../runtime/auth/out/token-exchange.ts';
import type { OutgoingAuthFactory, Principal } from '../../runtime/plugins.ts';
import type { ValidConfig } from '../config/validate.ts';
import { compileAuth } from '../emit/gateway.ts';
import type { IntrospectTarget } from './introspect.ts';

const FACTORIES: Record<string, OutgoingAuthFactory> = {
  client_credentials: clientCredentials,
  token_exchange: tokenExchange,
};

/** The env variable holding a subject token for token_exchange backends at compile time. */
export const SUBJECT_TOKEN_ENV = 'VMCP_SUBJECT_TOKEN';

/** Adds fetched credentials to the targets that need them; a failure is reported per backend. */
export async function addIntrospectionCredentials(
  targets: IntrospectTarget[],
  valid: ValidConfig,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ targets: IntrospectTarget[]; failures: Array<{ name: string; message: string }> }> {
  const failures: Array<{ name: string; message: string }> = [];
  const out = await Promise.all(
    targets.map(async (t) => {
      const strategy = valid.config.outgoingAuth.backends[t.name] ?? valid.config.outgoingAuth.default;
      const factory = FACTORIES[strategy.type];
      if (!factory || t.transport === 'stdio') return t;
      let subject: Principal | undefined;
      if (strategy.type === 'token_exchange') {
        const token = env[SUBJECT_TOKEN_ENV];
        if (!token) return t;
        subject = { key: 'compile', iss: '', sub: 'compile', claims: {}, token };
      }
      try {
        const auth = factory(compileAuth(strategy), t.name, env as NodeJS.ProcessEnv);
        const headers = await auth.credentials!(subject);
        return { ...t, headers: { ...t.headers, ...headers } };
      } catch (err) {
        failures.push({ name: t.name, message: (err as Error).message });
        return t;
      }
    }),
  );
  return { targets: out, failures };
}
