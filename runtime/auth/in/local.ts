/**
 * Incoming auth `local`, as ToolHive's LocalUserMiddleware: no token is checked; every HTTP request
 * is the OS user the gateway runs as (`os.userInfo()`, "local" when it cannot be read), with
 * ToolHive's claims (`iss: toolhive-local`, `aud: toolhive`, `email: <user>@localhost`). Cedar
 * policies see that principal; sessions and per-client limits are keyed by it. Bundled only for
 * configs with `incomingAuth.type: local`.
 */
import { userInfo } from 'node:os';
import type { IncomingAuth, IncomingAuthFactory, Principal } from '../../plugins.ts';

/** The issuer ToolHive writes into local users' claims. */
export const LOCAL_ISSUER = 'toolhive-local';

/** The local principal for `username`, with ToolHive's claims. */
export function localPrincipal(username: string): Principal {
  const claims = {
    sub: username,
    iss: LOCAL_ISSUER,
    aud: 'toolhive',
    email: `${username}@localhost`,
    name: `Local User: ${username}`,
  };
  return { key: `${LOCAL_ISSUER}\n${username}`, iss: LOCAL_ISSUER, sub: username, claims, token: '' };
}

/** Reads the OS user once at start-up; every request resolves to it, whatever it carries. */
export const localAuth: IncomingAuthFactory = (_auth, log) => {
  let username = 'local';
  try {
    username = userInfo().username || 'local';
  } catch (err) {
    log.warn({ error: (err as Error).message }, 'cannot read the OS user; the local principal is "local"');
  }
  const principal = localPrincipal(username);
  log.warn(
    { user: username },
    'incomingAuth local: requests are not authenticated; every caller is served as the local OS user',
  );
  const auth: IncomingAuth = { authenticate: () => Promise.resolve(principal) };
  return auth;
};
