/**
 * Incoming auth `oidc`: bearer JWTs validated with jose against the issuer's JWKS.
 * - JWKS from `jwksUrl`, or discovered from `${issuer}/.well-known/openid-configuration` (cached;
 *   the discovered `issuer` must match the configured one).
 * - The key set is cached by jose and refetched when a token names an unknown `kid` (with a
 *   cool-down so a flood of bad `kid`s cannot hammer the issuer).
 * - Algorithms are pinned (asymmetric by default; `none` and HMAC never pass without a key).
 * - `iss`, `aud`, `exp` (required), `nbf`, clock skew, `sub` (required) and the configured scopes.
 * - Fail closed: when discovery or the JWKS cannot be fetched, the request is refused with 401.
 * - `introspectionUrl`: tokens that are not JWTs are checked by RFC 7662 introspection
 *   (introspection.ts), as ToolHive does; JWTs are still verified locally.
 * - `caBundlePath`: discovery, JWKS and introspection trust that CA too (read at start-up).
 * Every failure is an AuthFailure with a short reason; tokens are never logged.
 */
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload } from 'jose';
import { caAgent } from '../../ca-bundle.ts';
import { StartupError } from '../../env.ts';
import { caFetch, type IdpFetch } from './ca-fetch.ts';
import { Introspector } from './introspection.ts';
import type { Logger } from '../../log.ts';
import { AuthFailure, type IncomingAuth, type IncomingAuthFactory, type Principal } from '../../plugins.ts';
import type { CompiledOidc } from '../../compiled-gateway.ts';

/** Asymmetric JWS algorithms accepted when the config does not pin a list. */
export const DEFAULT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
const FETCH_TIMEOUT_MS = 5000;
/** After a failed discovery, requests fail fast for this long before discovery is tried again. */
const DISCOVERY_RETRY_MS = 5000;
/** An unknown `kid` refetches the key set at most this often (a flood of forged kids cannot hammer the issuer). */
export const JWKS_COOLDOWN_MS = 5000;

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;
/** A compact JWS: three base64url parts (the payload may not be empty, the signature may). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** True when `url` may carry key material: https, loopback http, or http when explicitly allowed. */
function secureEnough(url: URL, insecureAllowHttp: boolean): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && (insecureAllowHttp || LOOPBACK.test(url.hostname)));
}

function parseUrl(text: string, what: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new StartupError(`incomingAuth.oidc.${what} "${text}" is not a URL`);
  }
}

/** Builds the OIDC verifier; network fetches happen lazily on the first request. */
export const oidcAuth: IncomingAuthFactory = (auth, log, env = process.env) => {
  const cfg = auth.oidc;
  if (!cfg) throw new StartupError('incomingAuth.type is oidc but the bundle has no oidc settings');
  const issuerUrl = parseUrl(cfg.issuer, 'issuer');
  if (!secureEnough(issuerUrl, cfg.insecureAllowHttp))
    throw new StartupError(
      `incomingAuth.oidc.issuer ${cfg.issuer} uses plain http on a host that is not loopback; use https or set insecureAllowHttp: true`,
    );
  if (cfg.jwksUrl !== undefined && !secureEnough(parseUrl(cfg.jwksUrl, 'jwksUrl'), cfg.insecureAllowHttp)) {
    throw new StartupError(
      `incomingAuth.oidc.jwksUrl ${cfg.jwksUrl} uses plain http on a host that is not loopback; use https or set insecureAllowHttp: true`,
    );
  }
  const fetchFn: IdpFetch | undefined = cfg.caBundlePath
    ? caFetch(caAgent(cfg.caBundlePath, 'incomingAuth.oidc.caBundlePath'))
    : undefined;
  const child = log.child({ component: 'oidc' });
  let introspector: Introspector | undefined;
  if (cfg.introspectionUrl !== undefined) {
    if (!secureEnough(parseUrl(cfg.introspectionUrl, 'introspectionUrl'), cfg.insecureAllowHttp))
      throw new StartupError(
        `incomingAuth.oidc.introspectionUrl ${cfg.introspectionUrl} uses plain http on a host that is not loopback; use https or set insecureAllowHttp: true`,
      );
    const clientSecret = cfg.clientSecretEnv === undefined ? undefined : env[cfg.clientSecretEnv];
    if (cfg.clientSecretEnv !== undefined && !clientSecret)
      throw new StartupError(
        `incomingAuth.oidc.clientSecretEnv: environment variable ${cfg.clientSecretEnv} is not set (the introspection client secret)`,
      );
    introspector = new Introspector(
      {
        url: cfg.introspectionUrl,
        issuer: cfg.issuer,
        audience: cfg.audience,
        clientId: cfg.clientId,
        clientSecret,
        clockSkewMs: cfg.clockSkewMs,
      },
      fetchFn ?? fetch,
      child,
    );
  }
  return new OidcVerifier(cfg, child, fetchFn, introspector);
};

type KeySet = ReturnType<typeof createRemoteJWKSet>;

class OidcVerifier implements IncomingAuth {
  private jwks: KeySet | undefined;
  private discovering: Promise<KeySet> | undefined;
  private discoveryFailedAt = 0;
  private discoveryError = '';
  private readonly algorithms: string[];
  private readonly clockTolerance: number;

  constructor(
    private readonly cfg: CompiledOidc,
    private readonly log: Logger,
    /** The CA bundle's fetch; undefined: the global fetch. */
    private readonly fetchFn?: IdpFetch,
    private readonly introspector?: Introspector,
  ) {
    this.algorithms = cfg.allowedAlgorithms.length > 0 ? cfg.allowedAlgorithms : DEFAULT_ALGORITHMS;
    this.clockTolerance = Math.round(cfg.clockSkewMs / 1000);
    if (cfg.jwksUrl !== undefined) this.jwks = this.keySet(new URL(cfg.jwksUrl));
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (authorization === undefined || authorization === '')
      throw new AuthFailure(401, 'invalid_request', 'missing bearer token');
    const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization);
    if (!m) throw new AuthFailure(401, 'invalid_request', 'the Authorization header must be "Bearer <token>"');
    const token = m[1];
    if (this.introspector && !JWT_SHAPE.test(token))
      return this.withScopes(await this.introspector.authenticate(token));
    const jwks = await this.keys();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: this.cfg.issuer,
        audience: this.cfg.audience,
        algorithms: this.algorithms,
        clockTolerance: this.clockTolerance,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      const reason = describe(err);
      this.log.debug({ reason }, 'bearer token rejected');
      throw new AuthFailure(401, 'invalid_token', reason);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '')
      throw new AuthFailure(401, 'invalid_token', 'the token has no "sub" claim');
    const iss = payload.iss as string;
    return this.withScopes({
      key: `${iss}\n${payload.sub}`,
      iss,
      sub: payload.sub,
      claims: payload as Record<string, unknown>,
      token,
      exp: payload.exp,
    });
  }

  /** The caller, once the configured scopes are checked (403 insufficient_scope otherwise). */
  private withScopes(p: Principal): Principal {
    const has = scopesOf(p.claims);
    const missing = this.cfg.scopes.filter((s) => !has.has(s));
    if (missing.length > 0)
      throw new AuthFailure(
        403,
        'insufficient_scope',
        `the token lacks scope ${missing.join(' ')}`,
        this.cfg.scopes.join(' '),
      );
    return p;
  }

  resourceMetadata(resourceUrl: string): Record<string, unknown> {
    return {
      resource: this.cfg.resource ?? resourceUrl,
      authorization_servers: [this.cfg.issuer],
      bearer_methods_supported: ['header'],
      ...(this.cfg.scopes.length > 0 ? { scopes_supported: this.cfg.scopes } : {}),
    };
  }

  private keySet(url: URL): KeySet {
    return createRemoteJWKSet(url, {
      timeoutDuration: FETCH_TIMEOUT_MS,
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: 10 * 60_000,
      ...(this.fetchFn ? { [customFetch]: this.fetchFn } : {}),
    });
  }

  /** The key set, discovering its location first when only the issuer is configured. */
  private keys(): Promise<KeySet> | KeySet {
    if (this.jwks) return this.jwks;
    if (Date.now() - this.discoveryFailedAt < DISCOVERY_RETRY_MS) {
      throw new AuthFailure(401, 'invalid_token', `cannot verify tokens: ${this.discoveryError}`);
    }
    this.discovering ??= this.discover().then(
      (jwks) => {
        this.jwks = jwks;
        this.discovering = undefined;
        return jwks;
      },
      (err: Error) => {
        this.discovering = undefined;
        this.discoveryFailedAt = Date.now();
        this.discoveryError = err.message;
        this.log.error(
          { issuer: this.cfg.issuer, error: err.message },
          'OIDC discovery failed; requests are refused until it succeeds',
        );
        throw new AuthFailure(401, 'invalid_token', `cannot verify tokens: ${err.message}`);
      },
    );
    return this.discovering;
  }

  private async discover(): Promise<KeySet> {
    const where = `${this.cfg.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let doc: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
      // The CA bundle's fetch follows no redirect either (it never follows one).
      const res = this.fetchFn
        ? await this.fetchFn(where, { signal })
        : await fetch(where, { signal, redirect: 'error' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = (await res.json()) as typeof doc;
    } catch (err) {
      throw new Error(`OIDC discovery at ${where} failed (${(err as Error).message})`);
    }
    if (doc.issuer !== this.cfg.issuer)
      throw new Error(`OIDC discovery at ${where} names issuer ${JSON.stringify(doc.issuer)}, not ${this.cfg.issuer}`);
    if (typeof doc.jwks_uri !== 'string') throw new Error(`OIDC discovery at ${where} has no jwks_uri`);
    let jwksUrl: URL;
    try {
      jwksUrl = new URL(doc.jwks_uri);
    } catch {
      throw new Error(`OIDC discovery at ${where}: jwks_uri is not a URL`);
    }
    if (!secureEnough(jwksUrl, this.cfg.insecureAllowHttp))
      throw new Error(`the discovered jwks_uri ${jwksUrl.href} uses plain http`);
    return this.keySet(jwksUrl);
  }
}

/** The scopes a token carries: `scope` (space-separated) or `scp` (array or string). */
function scopesOf(payload: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  for (const v of [payload.scope, payload.scp]) {
    if (typeof v === 'string') for (const s of v.split(' ')) s && out.add(s);
    else if (Array.isArray(v)) for (const s of v) typeof s === 'string' && out.add(s);
  }
  return out;
}

/** A short, safe reason for a rejected token (RFC 6750 error_description). */
function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'the token is not valid yet (nbf)';
    if (err.claim === 'iss') return 'the token was issued by another issuer';
    if (err.claim === 'aud') return 'the token is for another audience';
    if (err.reason === 'missing') return `the token has no "${err.claim}" claim`;
    return `the token's "${err.claim}" claim is invalid`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no issuer key matches the token (unknown kid)';
  if (err instanceof errors.JWKSMultipleMatchingKeys) return 'several issuer keys match the token';
  if (err instanceof errors.JWKSTimeout) return "cannot verify tokens: the issuer's key set did not answer in time";
  if (err instanceof errors.JWKSInvalid) return "cannot verify tokens: the issuer's key set is invalid";
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported)
    return 'the token is malformed';
  if (
    err instanceof TypeError ||
    (err instanceof Error && /JSON Web Key Set|fetch|ECONNREFUSED|network/i.test(err.message))
  )
    return "cannot verify tokens: the issuer's key set could not be fetched";
  return 'the token could not be verified';
}
