/** Outgoing auth client_credentials and token_exchange against the real local token endpoint fixture. */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientCredentials } from '../../runtime/auth/out/client-credentials.ts';
import { TokenCache } from '../../runtime/auth/out/token-cache.ts';
import { tokenExchange } from '../../runtime/auth/out/token-exchange.ts';
import { StartupError } from '../../runtime/env.ts';
import type { OutgoingAuth, Principal } from '../../runtime/plugins.ts';
import type { CompiledOutgoingAuth } from '../../runtime/compiled-gateway.ts';
import { startTokenServer, type TokenServer } from '../fixtures/oauth/token-server.ts';

const SECRET = 'gateway-s3cret-value';
const ENV = { TOKEN_SECRET: SECRET };
const XCHG = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

let ts: TokenServer;
beforeAll(async () => {
  ts = await startTokenServer({ clients: { gw: SECRET, 'my:client id%': 'p@ss:w%rd 1+', spa: null } });
});
afterAll(() => ts.close());
afterEach(() => {
  vi.useRealTimers();
  ts.requests.length = 0;
  ts.setExpiresIn(3600);
  ts.setFailing(undefined);
});

function cc(extra: Partial<CompiledOutgoingAuth> = {}, env: NodeJS.ProcessEnv = ENV): OutgoingAuth {
  return clientCredentials(
    { type: 'client_credentials', tokenUrl: ts.tokenUrl, clientId: 'gw', clientSecretEnv: 'TOKEN_SECRET', ...extra },
    'api',
    env,
  );
}

function xchg(extra: Partial<CompiledOutgoingAuth> = {}, env: NodeJS.ProcessEnv = ENV): OutgoingAuth {
  return tokenExchange(
    {
      type: 'token_exchange',
      tokenUrl: ts.tokenUrl,
      clientId: 'gw',
      clientSecretEnv: 'TOKEN_SECRET',
      audience: 'backend-api',
      ...extra,
    },
    'api',
    env,
  );
}

function principal(sub: string, exp?: number): Principal {
  const token = `subject-token-of-${sub}`;
  return { key: `iss\n${sub}`, iss: 'iss', sub, claims: { sub }, token, exp };
}

const sha8 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);
const isSync = (v: unknown) => typeof (v as { then?: unknown }).then !== 'function';
// Only Date is faked: sockets and timers stay real, so the token server still answers.
const fakeClock = (now: number) => vi.useFakeTimers({ toFake: ['Date'], now });

describe('client_credentials', () => {
  it('shares one token request among 50 concurrent callers, then answers synchronously from the cache', async () => {
    const auth = cc({ audience: 'backend-api', scopes: ['read', 'write'] });
    expect(auth.headers).toEqual({});
    const all = await Promise.all(Array.from({ length: 50 }, () => auth.credentials!(undefined)));
    expect(ts.requests).toHaveLength(1);
    expect(new Set(all.map((h) => h.authorization))).toEqual(new Set(['Bearer cc-' + ts.issued.size]));
    const again = auth.credentials!(undefined);
    expect(isSync(again)).toBe(true);
    expect(again).toEqual(all[0]);
    expect(Object.isFrozen(again)).toBe(true); // shared by every caller
    expect(ts.requests).toHaveLength(1);
    expect(ts.requests[0].form).toEqual({
      grant_type: 'client_credentials',
      audience: 'backend-api',
      scope: 'read write',
    });
    expect(ts.requests[0].authorization).toBe(`Basic ${Buffer.from(`gw:${SECRET}`).toString('base64')}`);
  });

  it('refetches min(60 s, 10% of the lifetime) before expiry', async () => {
    const t0 = Date.UTC(2030, 0, 1);
    fakeClock(t0);
    ts.setExpiresIn(100); // early by 10 s → refresh at 90 s
    const auth = cc();
    const first = await auth.credentials!(undefined);
    vi.setSystemTime(t0 + 89_999);
    expect(auth.credentials!(undefined)).toEqual(first);
    vi.setSystemTime(t0 + 90_000);
    const second = auth.credentials!(undefined);
    expect(isSync(second)).toBe(false);
    expect((await second).authorization).not.toBe(first.authorization);
    expect(ts.requests).toHaveLength(2);

    ts.setExpiresIn(3600); // early by 60 s
    vi.setSystemTime(t0 + 200_000);
    auth.invalidate!(undefined);
    await auth.credentials!(undefined);
    vi.setSystemTime(t0 + 200_000 + 3_539_999);
    expect(isSync(auth.credentials!(undefined))).toBe(true);
    vi.setSystemTime(t0 + 200_000 + 3_540_000);
    const third = auth.credentials!(undefined);
    expect(isSync(third)).toBe(false);
    await third; // settle inside this test, so its request is not counted by the next one
  });

  it('caches a token without expires_in for 5 minutes', async () => {
    const t0 = Date.UTC(2030, 0, 1);
    fakeClock(t0);
    ts.setExpiresIn(undefined);
    const auth = cc();
    await auth.credentials!(undefined);
    vi.setSystemTime(t0 + 299_999);
    expect(isSync(auth.credentials!(undefined))).toBe(true);
    vi.setSystemTime(t0 + 300_000);
    await auth.credentials!(undefined);
    expect(ts.requests).toHaveLength(2);
  });

  it('invalidate() forces a refetch', async () => {
    const auth = cc();
    const first = await auth.credentials!(undefined);
    auth.invalidate!(undefined);
    const second = await auth.credentials!(undefined);
    expect(second.authorization).not.toBe(first.authorization);
    expect(ts.requests).toHaveLength(2);
  });

  it('a wrong secret fails with invalid_client, naming backend and endpoint, never the secret', async () => {
    const wrong = 'wr0ng:secret value';
    const err: Error = await Promise.resolve(cc({}, { TOKEN_SECRET: wrong }).credentials!(undefined)).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('backend "api"');
    expect(err.message).toContain(ts.tokenUrl);
    expect(err.message).toContain('HTTP 401 invalid_client');
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(SECRET);
  });

  it('a failing endpoint is not cached: the next call tries again', async () => {
    ts.setFailing(503);
    const auth = cc();
    await expect(Promise.resolve(auth.credentials!(undefined))).rejects.toThrow(
      'HTTP 503 server_error: failing on purpose',
    );
    ts.setFailing(undefined);
    expect((await auth.credentials!(undefined)).authorization).toMatch(/^Bearer cc-\d+$/);
  });

  it('an endpoint that is down gives a clear error', async () => {
    const down = await startTokenServer();
    await down.close();
    const auth = clientCredentials(
      {
        type: 'client_credentials',
        tokenUrl: `${down.tokenUrl}?tenant=x`,
        clientId: 'gw',
        clientSecretEnv: 'TOKEN_SECRET',
      },
      'api',
      ENV,
    );
    const err: Error = await Promise.resolve(auth.credentials!(undefined)).catch((e) => e);
    expect(err.message).toMatch(
      new RegExp(`^backend "api": client_credentials token endpoint ${down.tokenUrl} is unreachable: .*ECONNREFUSED`),
    );
    expect(err.message).not.toContain('tenant=x');
  });

  it('encodes ids and secrets with ":", "%" and spaces per RFC 6749 §2.3.1', async () => {
    const auth = cc({ clientId: 'my:client id%' }, { TOKEN_SECRET: 'p@ss:w%rd 1+' });
    expect((await auth.credentials!(undefined)).authorization).toMatch(/^Bearer cc-\d+$/);
    expect(ts.requests[0].authorization).toBe(
      `Basic ${Buffer.from('my%3Aclient+id%25:p%40ss%3Aw%25rd+1%2B').toString('base64')}`,
    );
    expect(ts.requests[0].clientId).toBe('my:client id%');
  });
});

describe('start-up checks', () => {
  const cases: Array<{ name: string; make: () => unknown; want: RegExp }> = [
    {
      name: 'missing secret variable (cc)',
      make: () => cc({ clientSecretEnv: 'NOPE_SECRET' }),
      want: /environment variable NOPE_SECRET is not set \(needed by backend "api" outgoing auth client_credentials\)/,
    },
    {
      name: 'missing secret variable (exchange)',
      make: () => xchg({ clientSecretEnv: 'NOPE_SECRET' }),
      want: /NOPE_SECRET is not set \(needed by backend "api" outgoing auth token_exchange\)/,
    },
    {
      name: 'http on a remote host',
      make: () => cc({ tokenUrl: 'http://auth.example.com/token' }),
      want: /tokenUrl http:\/\/auth\.example\.com\/token must use https/,
    },
    {
      name: 'http on a remote host (exchange)',
      make: () => xchg({ tokenUrl: 'http://10.0.0.5/token' }),
      want: /must use https/,
    },
    { name: 'not http at all', make: () => cc({ tokenUrl: 'ftp://127.0.0.1/token' }), want: /must use https/ },
    { name: 'not a URL', make: () => cc({ tokenUrl: 'token' }), want: /tokenUrl "token" is not a URL/ },
    { name: 'no tokenUrl', make: () => cc({ tokenUrl: undefined }), want: /client_credentials needs tokenUrl/ },
    { name: 'no clientId', make: () => cc({ clientId: undefined }), want: /client_credentials needs clientId/ },
  ];
  it.each(cases)('$name → StartupError', ({ make, want }) => {
    expect(make).toThrow(StartupError);
    expect(make).toThrow(want);
  });

  it('accepts https anywhere and http on loopback hosts', () => {
    for (const tokenUrl of [
      'https://auth.example.com/token',
      'http://localhost:9/t',
      'http://127.0.0.1/t',
      'http://[::1]:8080/t',
    ]) {
      expect(() => cc({ tokenUrl })).not.toThrow();
      expect(() => xchg({ tokenUrl })).not.toThrow();
    }
  });
});

describe('token_exchange', () => {
  it('sends the RFC 8693 form field by field, with client_secret_basic', async () => {
    const auth = xchg({ scopes: ['mcp:read', 'mcp:write'] });
    expect(auth.perSubject).toBe(true);
    const alice = principal('alice');
    const h = await auth.credentials!(alice);
    expect(h).toEqual({ authorization: `Bearer xchg-${ts.issued.size}-${sha8(alice.token)}` });
    expect(ts.requests).toHaveLength(1);
    expect(ts.requests[0].form).toEqual({
      grant_type: XCHG,
      subject_token: alice.token,
      subject_token_type: AT,
      requested_token_type: AT,
      audience: 'backend-api',
      scope: 'mcp:read mcp:write',
    });
    expect(ts.requests[0].authorization).toBe(`Basic ${Buffer.from(`gw:${SECRET}`).toString('base64')}`);
  });

  it('a public client sends client_id in the form and no Authorization; subjectTokenType is honoured', async () => {
    const jwt = 'urn:ietf:params:oauth:token-type:jwt';
    const auth = xchg({ clientId: 'spa', clientSecretEnv: undefined, audience: undefined, subjectTokenType: jwt }, {});
    const bob = principal('bob');
    await auth.credentials!(bob);
    expect(ts.requests[0].form).toEqual({
      grant_type: XCHG,
      subject_token: bob.token,
      subject_token_type: jwt,
      requested_token_type: AT,
      client_id: 'spa',
    });
    expect(ts.requests[0].authorization).toBeUndefined();
  });

  it('one exchange per subject: 50 concurrent calls of one subject share it, another subject gets its own', async () => {
    const auth = xchg();
    const alice = principal('alice');
    const bob = principal('bob');
    const [a, b] = await Promise.all([
      Promise.all(Array.from({ length: 50 }, () => auth.credentials!(alice))),
      Promise.all(Array.from({ length: 50 }, () => auth.credentials!(bob))),
    ]);
    expect(ts.requests).toHaveLength(2);
    expect(new Set(a.map((h) => h.authorization)).size).toBe(1);
    expect(new Set(b.map((h) => h.authorization)).size).toBe(1);
    expect(a[0].authorization).toMatch(new RegExp(`^Bearer xchg-\\d+-${sha8(alice.token)}$`));
    expect(b[0].authorization).toMatch(new RegExp(`^Bearer xchg-\\d+-${sha8(bob.token)}$`));
    // A new Principal object for the same token (a new request) hits the same entry, synchronously.
    const again = auth.credentials!(principal('alice'));
    expect(isSync(again)).toBe(true);
    expect(again).toEqual(a[0]);
    expect(ts.requests).toHaveLength(2);
  });

  it("never keeps an entry past the subject token's exp", async () => {
    const t0 = Date.UTC(2030, 0, 1);
    fakeClock(t0);
    const auth = xchg(); // exchanged token lives 3600 s, the subject only 30 s more
    const alice = principal('alice', t0 / 1000 + 30);
    await auth.credentials!(alice);
    vi.setSystemTime(t0 + 29_999);
    expect(isSync(auth.credentials!(alice))).toBe(true);
    vi.setSystemTime(t0 + 30_000);
    const next = auth.credentials!(alice);
    expect(isSync(next)).toBe(false);
    await next;
    expect(ts.requests).toHaveLength(2);
  });

  it('refetches shortly before the exchanged token expires', async () => {
    const t0 = Date.UTC(2030, 0, 1);
    fakeClock(t0);
    ts.setExpiresIn(20); // early by 2 s
    const auth = xchg();
    const alice = principal('alice', t0 / 1000 + 3600);
    await auth.credentials!(alice);
    vi.setSystemTime(t0 + 17_999);
    expect(isSync(auth.credentials!(alice))).toBe(true);
    vi.setSystemTime(t0 + 18_000);
    await auth.credentials!(alice);
    expect(ts.requests).toHaveLength(2);
  });

  it("invalidate(subject) drops only that subject's entry", async () => {
    const auth = xchg();
    const alice = principal('alice');
    const bob = principal('bob');
    await auth.credentials!(alice);
    await auth.credentials!(bob);
    auth.invalidate!(alice);
    expect(isSync(auth.credentials!(bob))).toBe(true);
    const next = auth.credentials!(alice);
    expect(isSync(next)).toBe(false);
    await next;
    expect(ts.requests.map((r) => r.form.subject_token)).toEqual([alice.token, bob.token, alice.token]);
  });

  it('refuses a call without an authenticated caller, without asking the endpoint', async () => {
    const auth = xchg();
    await expect(Promise.resolve(auth.credentials!(undefined))).rejects.toThrow(
      'backend "api": token_exchange needs an authenticated caller (incomingAuth oidc)',
    );
    await expect(Promise.resolve(auth.credentials!({ ...principal('x'), token: '' }))).rejects.toThrow(
      'needs an authenticated caller',
    );
    expect(ts.requests).toHaveLength(0);
  });

  it('a rejected subject gives invalid_grant without the subject token in the message', async () => {
    const strict = await startTokenServer({ clients: { gw: SECRET }, acceptSubject: () => false });
    try {
      const alice = principal('alice');
      const auth = xchg({ tokenUrl: strict.tokenUrl });
      const err: Error = await Promise.resolve(auth.credentials!(alice)).catch((e) => e);
      expect(err.message).toContain('HTTP 400 invalid_grant');
      expect(err.message).not.toContain(alice.token);
    } finally {
      await strict.close();
    }
  });

  it('redacts the secret and the subject token even when the endpoint echoes them', async () => {
    // Not the fixture: a deliberately careless endpoint that puts the request into error_description.
    const echo = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () =>
        res.writeHead(400, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: 'invalid_request',
            error_description: `got ${decodeURIComponent(body)} with ${req.headers.authorization} / ${SECRET}`,
          }),
        ),
      );
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    try {
      const alice = principal('alice');
      const auth = xchg({ tokenUrl: `http://127.0.0.1:${(echo.address() as AddressInfo).port}/token` });
      const err: Error = await Promise.resolve(auth.credentials!(alice)).catch((e) => e);
      expect(err.message).toContain('HTTP 400 invalid_request: got');
      expect(err.message).toContain('[redacted]');
      expect(err.message).not.toContain(alice.token);
      expect(err.message).not.toContain(SECRET);
    } finally {
      echo.closeAllConnections();
      await new Promise((r) => echo.close(r));
    }
  });
});

describe('TokenCache', () => {
  const entry = (v: string, expiresAt: number) => async () => ({ headers: { v }, expiresAt });

  it('evicts expired entries first, then the oldest, when full', async () => {
    const cache = new TokenCache(3);
    const now = Date.now();
    await cache.get('old', entry('old', now + 60_000));
    await cache.get('stale', entry('stale', now + 60_000));
    await cache.get('mid', entry('mid', now + 60_000));
    fakeClock(now + 1);
    // Make 'stale' expire without touching the others: re-store it with a short life.
    cache.delete('stale');
    await cache.get('stale', entry('stale', now + 2));
    vi.setSystemTime(now + 10);
    await cache.get('new', entry('new', now + 60_000));
    expect(cache.size).toBe(3);
    expect(cache.get('old', entry('x', 0))).toEqual({ v: 'old' });
    await cache.get('newer', entry('newer', now + 60_000));
    expect(cache.size).toBeLessThanOrEqual(3);
    const refetch = cache.get('old', entry('x', now + 60_000));
    expect(isSync(refetch)).toBe(false);
    await refetch;
    expect(isSync(cache.get('newer', entry('x', 0)))).toBe(true);
  });

  it('counts hits (cached, or joining a fetch in flight) and misses (fetches) for /metrics', async () => {
    const cache = new TokenCache();
    const later = Date.now() + 60_000;
    const first = cache.get('k', entry('a', later));
    const joined = cache.get('k', entry('b', later));
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
    expect(await joined).toEqual(await first);
    cache.get('k', entry('c', later));
    cache.get('other', entry('d', later));
    expect(cache.stats).toEqual({ hits: 2, misses: 2 });
  });

  it('a delete() while fetching discards the late result', async () => {
    const cache = new TokenCache();
    let release!: () => void;
    const slow = () =>
      new Promise<{ headers: Record<string, string>; expiresAt: number }>(
        (r) => (release = () => r({ headers: { v: 'late' }, expiresAt: Date.now() + 60_000 })),
      );
    const p = cache.get('k', slow);
    cache.delete('k');
    release();
    expect(await p).toEqual({ v: 'late' });
    expect(cache.size).toBe(0);
  });
});
