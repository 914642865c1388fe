/** Outgoing auth strategy `header_injection`: one static header, its value resolved at start-up. */
import { StartupError, resolveEnvRefs } from '../../env.ts';
import type { OutgoingAuthFactory } from '../../plugins.ts';

/** Injects `headerName: value`, from `headerValueEnv` or `headerValue` with `${env:NAME}` references. */
export const headerInjection: OutgoingAuthFactory = (auth, backend, env) => {
  const name = auth.headerName;
  if (!name) throw new StartupError(`backend "${backend}": header_injection needs headerName`);
  let value: string;
  if (auth.headerValueEnv !== undefined) {
    const v = env[auth.headerValueEnv];
    if (v === undefined)
      throw new StartupError(
        `environment variable ${auth.headerValueEnv} is not set (needed by backend "${backend}" outgoing auth header_injection)`,
      );
    value = v;
  } else if (auth.headerValue !== undefined) {
    value = resolveEnvRefs(auth.headerValue, env, `backend "${backend}" outgoing auth header_injection`);
  } else throw new StartupError(`backend "${backend}": header_injection needs headerValue or headerValueEnv`);
  return { headers: { [name]: value } };
};
