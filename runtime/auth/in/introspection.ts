/**
 * RFC 7662 token introspection for bearer tokens that are not JWTs, as ToolHive does when
 * `introspectionUrl` is set: POST `token=…&token_type_hint=access_token`, HTTP Basic with
 * `clientId` and the secret from `clientSecretEnv` when both are given. The answer must say
 * `active: true` and carry `exp` (in the future), `sub`, an `aud` that includes the gateway's
 * audience, and, when it has `iss`, the configured issuer.
 *
 * Active answers are cached by the SHA-256 of the token, at most MAX_CACHED entries (the oldest is
 * dropped), each until the earlier of its `exp` and CACHE_TTL_MS; identical tokens in flight share
 * one call. Inactive tokens and endpoint failures are not cached and fail closed with 401. Tokens
 * are never logged; failures log the endpoint and the reason only.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../log.ts';
import { AuthFailure, type Principal } from '../../plugins.ts';
import type { IdpFetch } from './ca-fetch.ts';

/** Cached active tokens held at once. */
export const MAX_CACHED = 10_000;
/** Longest an introspection answer is trusted (the token's `exp` may cut it shorter). */
export const CACHE_TTL_MS = 5 * 60_000;
const FETCH_TIMEOUT_MS = 5000;

/** What the introspector needs from the OIDC settings. */
export interface IntrospectionSettings {
  url: string;
  issuer: string;
  audience: string;
  clientId?: string;
  clientSecret?: string;
  clockSkewMs: number;
}

interface Entry {
  principal: Principal;
  until: number;
}

/** Checks opaque tokens at the introspection endpoint, with a bounded cache. */
export class Introspector {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Principal>>();
  private readonly basic: string | undefined;

  constructor(
    private readonly s: IntrospectionSettings,
    private readonly fetchFn: IdpFetch,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    if (s.clientId !== undefined && s.clientSecret !== undefined)
      this.basic = `Basic ${Buffer.from(`${encodeURIComponent(s.clientId)}:${encodeURIComponent(s.clientSecret)}`).toString('base64')}`;
  }

  /** Entries cached now (for tests and /status). */
  get size(): number {
    return this.cache.size;
  }

  /** The caller behind `token`, or AuthFailure 401. */
  authenticate(token: string): Promise<Principal> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(key);
    if (hit) {
      if (hit.until > this.now()) return Promise.resolve(hit.principal);
      this.cache.delete(key);
    }
    let p = this.inflight.get(key);
    if (!p) {
      p = this.introspect(token).then(
        (entry) => {
          this.inflight.delete(key);
          this.remember(key, entry);
          return entry.principal;
        },
        (err) => {
          this.inflight.delete(key);
          throw err;
        },
      );
      this.inflight.set(key, p);
    }
    return p;
  }

  private remember(key: string, entry: Entry): void {
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, entry);
  }

  private async introspect(token: string): Promise<Entry> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.basic) headers.authorization = this.basic;
    let doc: Record<string, unknown>;
    try {
      const res = await this.fetchFn(this.s.url, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = (await res.json()) as Record<string, unknown>;
      if (!doc || typeof doc !== 'object') throw new Error('the answer is not a JSON object');
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? 'no answer in time' : (err as Error).message;
      this.log.error({ introspectionUrl: this.s.url, reason }, 'token introspection failed; the request is refused');
      throw new AuthFailure(
        401,
        'invalid_token',
        `cannot verify tokens: the introspection endpoint failed (${reason})`,
      );
    }
    return this.check(doc, token);
  }

  private check(doc: Record<string, unknown>, token: string): Entry {
    const fail = (why: string): never => {
      this.log.debug({ reason: why }, 'opaque bearer token rejected');
      throw new AuthFailure(401, 'invalid_token', why);
    };
    if (doc.active !== true) fail('the token is not active');
    const now = this.now();
    const exp = doc.exp;
    if (typeof exp !== 'number') fail('the token has no "exp"');
    if ((exp as number) * 1000 + this.s.clockSkewMs <= now) fail('the token has expired');
    if (typeof doc.iss === 'string' && doc.iss.trim() !== this.s.issuer) fail('the token was issued by another issuer');
    const aud = Array.isArray(doc.aud) ? doc.aud : [doc.aud];
    if (!aud.includes(this.s.audience)) fail('the token is for another audience');
    const sub = typeof doc.sub === 'string' ? doc.sub.trim() : '';
    if (!sub) fail('the token has no "sub"');
    const iss = typeof doc.iss === 'string' ? doc.iss.trim() : this.s.issuer;
    const { active: _active, ...claims } = doc;
    return {
      principal: { key: `${iss}\n${sub}`, iss, sub, claims, token, exp: exp as number },
      until: Math.min((exp as number) * 1000, now + CACHE_TTL_MS),
    };
  }
}
