/**
 * Outgoing auth strategy `token_exchange` (RFC 8693): the caller's token (from incomingAuth oidc) is
 * exchanged at `tokenUrl` for an access token to this backend. One cache entry per caller, keyed
 * by a sha256 of the subject token (never the token itself), living until shortly before the
 * exchanged token expires and never past the subject token's own `exp`.
 */
import { createHash } from 'node:crypto';
import { StartupError } from '../../env.ts';
import type { OutgoingAuthFactory, Principal } from '../../plugins.ts';
import { TokenCache, checkTokenUrl, readSecret, refreshAt, requestToken } from './token-cache.ts';

const STRATEGY = 'token_exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Exchanges each caller's token for a backend token; upstream connections are opened per subject. */
export const tokenExchange: OutgoingAuthFactory = (auth, backend, env, log) => {
  const url = checkTokenUrl(auth.tokenUrl, backend, STRATEGY);
  let basic: { id: string; secret: string } | undefined;
  if (auth.clientSecretEnv) {
    if (!auth.clientId) throw new StartupError(`backend "${backend}": ${STRATEGY} has clientSecretEnv but no clientId`);
    basic = { id: auth.clientId, secret: readSecret(auth.clientSecretEnv, env, backend, STRATEGY) };
  }
  const base: Record<string, string> = {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token_type: auth.subjectTokenType ?? ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
  };
  if (auth.audience) base.audience = auth.audience;
  if (auth.scopes?.length) base.scope = auth.scopes.join(' ');
  // A public client (no secret) identifies itself in the form (RFC 6749 §3.2.1).
  if (!basic && auth.clientId) base.client_id = auth.clientId;
  const cache = new TokenCache();
  // Principals are reused across a session's calls: hash each token once.
  const keys = new WeakMap<Principal, string>();
  const keyOf = (subject: Principal) => {
    let key = keys.get(subject);
    if (key === undefined) {
      key = `${backend}\n${createHash('sha256').update(subject.token).digest('base64url')}\n${auth.audience ?? ''}`;
      keys.set(subject, key);
    }
    return key;
  };
  const exchange = async (subject: Principal) => {
    const form = { ...base, subject_token: subject.token };
    const secrets = basic ? [basic.secret, subject.token] : [subject.token];
    const grant = await requestToken({ backend, strategy: STRATEGY, url, form, basic, secrets, log });
    const until = refreshAt(Date.now(), grant.expiresIn);
    return {
      headers: { authorization: `Bearer ${grant.accessToken}` },
      expiresAt: subject.exp === undefined ? until : Math.min(until, subject.exp * 1000),
    };
  };
  return {
    headers: {},
    cacheStats: cache.stats,
    perSubject: true,
    credentials(subject) {
      if (!subject?.token) {
        return Promise.reject(
          new Error(
            `backend "${backend}": token_exchange needs an authenticated caller (incomingAuth oidc), and this request has none`,
          ),
        );
      }
      return cache.get(keyOf(subject), () => exchange(subject));
    },
    invalidate(subject) {
      if (subject?.token) cache.delete(keyOf(subject));
    },
  };
};
