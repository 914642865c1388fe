/**
 * What the token-fetching outgoing-auth strategies share: the token endpoint check, the form POST
 * (node:http/https, 10 s timeout, size cap, RFC 6749 §5.2 error parsing) and a cache with
 * singleflight. Error messages name the backend, the endpoint and its answer, never a secret.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { StartupError } from '../../env.ts';
import type { Logger } from '../../log.ts';

const TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 256 * 1024;
/** Without `expires_in` a token is reused for 5 minutes, then fetched again. */
const DEFAULT_LIFETIME_MS = 5 * 60_000;
const MAX_EARLY_MS = 60_000;
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/** Parses `auth.tokenUrl`; throws StartupError unless it is https, or http on a loopback host. */
export function checkTokenUrl(tokenUrl: string | undefined, backend: string, strategy: string): URL {
  if (!tokenUrl) throw new StartupError(`backend "${backend}": ${strategy} needs tokenUrl`);
  let url: URL;
  try {
    url = new URL(tokenUrl);
  } catch {
    throw new StartupError(`backend "${backend}": ${strategy} tokenUrl "${tokenUrl}" is not a URL`);
  }
  const ok = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname));
  if (!ok)
    throw new StartupError(
      `backend "${backend}": ${strategy} tokenUrl ${endpointOf(url)} must use https (plain http only on a loopback host), so the client secret never travels in clear`,
    );
  return url;
}

/** Reads the client secret from `auth.clientSecretEnv`; throws StartupError naming the variable. */
export function readSecret(name: string, env: NodeJS.ProcessEnv, backend: string, strategy: string): string {
  const value = env[name];
  if (value === undefined)
    throw new StartupError(
      `environment variable ${name} is not set (needed by backend "${backend}" outgoing auth ${strategy})`,
    );
  return value;
}

/** One token request; `basic` is client_secret_basic, `secrets` are redacted from any error text. */
export interface TokenRequest {
  backend: string;
  strategy: string;
  url: URL;
  form: Record<string, string>;
  basic?: { id: string; secret: string };
  secrets: string[];
  log?: Logger;
}

/** A successful token response (RFC 6749 §5.1). */
export interface TokenGrant {
  accessToken: string;
  /** Seconds, when the endpoint said. */
  expiresIn?: number;
}

/** `user:pass` for HTTP Basic per RFC 6749 §2.3.1: both parts form-urlencoded first (`a:b c` → `a%3Ab+c`). */
export function basicAuthorization(id: string, secret: string): string {
  const enc = (s: string) => new URLSearchParams({ v: s }).toString().slice(2);
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/** POSTs the form to the token endpoint and returns the access token, or rejects with a safe message. */
export async function requestToken(req: TokenRequest): Promise<TokenGrant> {
  const where = `backend "${req.backend}": ${req.strategy} token endpoint ${endpointOf(req.url)}`;
  const body = new URLSearchParams(req.form).toString();
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  };
  if (req.basic) headers.authorization = basicAuthorization(req.basic.id, req.basic.secret);
  req.log?.debug({ backend: req.backend, tokenHost: req.url.host }, `fetching ${req.strategy} token`);
  let res: { status: number; text: string };
  try {
    res = await post(req.url, headers, body);
  } catch (err) {
    // System errors (ECONNREFUSED, ENOTFOUND, ECONNRESET…) carry a code; ours (timeout, size) do not.
    const how = (err as NodeJS.ErrnoException).code !== undefined ? 'is unreachable' : 'gave no usable answer';
    throw new Error(`${where} ${how}: ${redact((err as Error).message, req.secrets)}`);
  }
  let json: any;
  try {
    json = JSON.parse(res.text);
  } catch {
    json = undefined;
  }
  if (res.status < 200 || res.status > 299) {
    const code = typeof json?.error === 'string' ? ` ${json.error}` : '';
    const desc = typeof json?.error_description === 'string' ? `: ${json.error_description.slice(0, 300)}` : '';
    throw new Error(`${where} answered HTTP ${res.status}${redact(code + desc, req.secrets)}`);
  }
  if (typeof json?.access_token !== 'string' || json.access_token === '')
    throw new Error(`${where} answered HTTP ${res.status} without an access_token`);
  if (typeof json.token_type === 'string' && json.token_type.toLowerCase() !== 'bearer') {
    throw new Error(`${where} issued token_type "${json.token_type.slice(0, 40)}"; only Bearer tokens are supported`);
  }
  const expiresIn = Number(json.expires_in);
  return {
    accessToken: json.access_token,
    expiresIn: json.expires_in !== undefined && Number.isFinite(expiresIn) ? expiresIn : undefined,
  };
}

/**
 * When a token fetched now should be fetched again: `min(60 s, 10% of its lifetime)` before it
 * expires (3600 s → 3540 s, 30 s → 27 s), or after 5 minutes when the endpoint gave no expires_in.
 */
export function refreshAt(now: number, expiresIn: number | undefined): number {
  if (expiresIn === undefined) return now + DEFAULT_LIFETIME_MS;
  const lifetime = expiresIn * 1000;
  return now + lifetime - Math.min(MAX_EARLY_MS, lifetime / 10);
}

interface Entry {
  headers: Record<string, string>;
  expiresAt: number;
}

/**
 * Cached credential headers by key, with one in-flight fetch per key. A hit returns the headers
 * synchronously; concurrent misses share one promise. The size is capped: when full, expired
 * entries go first, then the oldest inserted (tokens expire, so insertion order is close to LRU).
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Record<string, string>>>();
  /** Answers from the cache (or from a fetch already in flight), and fetches made (for /metrics). */
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly maxEntries = 10_000) {}

  /** The cached headers for `key`, or the shared fetch; `fetch` gives headers and an expiry (ms). */
  get(key: string, fetch: () => Promise<Entry>): Record<string, string> | Promise<Record<string, string>> {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      if (hit.expiresAt > Date.now()) {
        this.stats.hits++;
        return hit.headers;
      }
      this.entries.delete(key);
    }
    const pending = this.inflight.get(key);
    if (pending !== undefined) {
      this.stats.hits++;
      return pending;
    }
    this.stats.misses++;
    const p: Promise<Record<string, string>> = fetch().then(
      (entry) => {
        // Every caller gets the same object: frozen, so no caller can change another's headers.
        Object.freeze(entry.headers);
        // A delete() while fetching (the backend answered 401) means this result is already suspect.
        if (this.inflight.get(key) !== p) return entry.headers;
        this.inflight.delete(key);
        if (entry.expiresAt > Date.now()) this.store(key, entry);
        return entry.headers;
      },
      (err) => {
        if (this.inflight.get(key) === p) this.inflight.delete(key);
        throw err;
      },
    );
    this.inflight.set(key, p);
    return p;
  }

  /** Forgets `key` (and any fetch in flight for it), so the next get() fetches again. */
  delete(key: string): void {
    this.entries.delete(key);
    this.inflight.delete(key);
  }

  /** Number of cached entries (expired ones included until they are evicted). */
  get size(): number {
    return this.entries.size;
  }

  private store(key: string, entry: Entry): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const now = Date.now();
      for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
      // Still full: drop the oldest tenth at once, so a full cache of live tokens does not sweep on every insert.
      if (this.entries.size >= this.maxEntries) {
        let drop = this.entries.size - Math.floor(this.maxEntries * 0.9) + 1;
        for (const k of this.entries.keys()) {
          if (drop-- <= 0) break;
          this.entries.delete(k);
        }
      }
    }
    this.entries.set(key, entry);
  }
}

/** The URL as safe to print: no query, no fragment, no userinfo. */
function endpointOf(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function redact(text: string, secrets: string[]): string {
  for (const s of secrets) if (s !== '') text = text.split(s).join('[redacted]');
  return text;
}

function post(url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, value?: { status: number; text: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value!);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) finish(new Error(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () =>
        finish(undefined, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', (err) => finish(err));
      res.on('close', () => finish(new Error('the connection closed before the answer was complete')));
    });
    req.on('error', (err) => finish(err));
    const timer = setTimeout(() => finish(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    req.end(body);
  });
}
