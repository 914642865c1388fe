/**
 * Outgoing auth strategy `client_credentials` (RFC 6749 §4.4): the gateway's own access token,
 * fetched from `tokenUrl` with client_secret_basic and shared by every caller. Cached until
 * shortly before it expires (see `refreshAt`); concurrent misses share one request.
 */
import { StartupError } from '../../env.ts';
import type { OutgoingAuthFactory } from '../../plugins.ts';
import { TokenCache, checkTokenUrl, readSecret, refreshAt, requestToken } from './token-cache.ts';

const STRATEGY = 'client_credentials';

/** Sends `authorization: Bearer <token>` from a client credentials grant; no per-caller state. */
export const clientCredentials: OutgoingAuthFactory = (auth, backend, env, log) => {
  const url = checkTokenUrl(auth.tokenUrl, backend, STRATEGY);
  if (!auth.clientId) throw new StartupError(`backend "${backend}": ${STRATEGY} needs clientId`);
  if (!auth.clientSecretEnv) throw new StartupError(`backend "${backend}": ${STRATEGY} needs clientSecretEnv`);
  const basic = { id: auth.clientId, secret: readSecret(auth.clientSecretEnv, env, backend, STRATEGY) };
  const form: Record<string, string> = { grant_type: 'client_credentials' };
  if (auth.audience) form.audience = auth.audience;
  if (auth.scopes?.length) form.scope = auth.scopes.join(' ');
  const cache = new TokenCache(1);
  const fetch = async () => {
    const grant = await requestToken({ backend, strategy: STRATEGY, url, form, basic, secrets: [basic.secret], log });
    return {
      headers: { authorization: `Bearer ${grant.accessToken}` },
      expiresAt: refreshAt(Date.now(), grant.expiresIn),
    };
  };
  return {
    headers: {},
    cacheStats: cache.stats,
    credentials: () => cache.get(STRATEGY, fetch),
    invalidate: () => cache.delete(STRATEGY),
  };
};
