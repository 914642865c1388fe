/**
 * How the HTTP transports send a POST: `postJson` picks the lean keep-alive pool (http: and https: URLs) or
 * node:http, plus the header checks the lean path needs. The parts: lean-http.ts (the pool),
 * http-response-parser.ts (its parser), node-http.ts (node:http requests and bounded readers),
 * upstream-response.ts (the response type both return).
 */
import type { Agent as HttpsAgent } from 'node:https';
import type { LeanHttpPool } from './lean-http.ts';
import { postNode } from './node-http.ts';
import type { SentRequest } from './upstream-response.ts';

const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Header names the lean client writes itself; configs that set them go through node:http. */
const RESERVED = /^(host|content-length|connection|transfer-encoding)$/i;

/**
 * POSTs `body` to `url`: on the lean pool for http: and https: URLs (when `pool` is given), else with
 * node:http. `lines` are pre-serialized header lines (headerLines) used instead of `headers`;
 * a response body or SSE event over `limit` bytes fails the request. `agent`: an https backend's own
 * agent (caBundlePath).
 */
export function postJson(
  url: URL,
  path: string,
  headers: Record<string, string>,
  body: string,
  limit: number,
  pool?: LeanHttpPool,
  lines?: string,
  agent?: HttpsAgent,
): SentRequest {
  if (pool && (lines !== undefined || leanHeadersOk(headers))) {
    const head = `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\n${lines ?? headerLines(headers)}Connection: keep-alive\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return pool.request(head, body, limit);
  }
  return postNode(url, headers, body, limit, agent);
}

/**
 * A client's passthrough headers merged under the request's own: a name the backend config or the
 * gateway sets (`own`, lowercase) is never overridden by the client. Returns `headers` itself when
 * nothing is forwarded.
 */
export function withForwarded(
  forward: Record<string, string>,
  headers: Record<string, string>,
  own: ReadonlySet<string>,
): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const k in forward) if (!own.has(k)) (out ??= {})[k] = forward[k];
  return out ? Object.assign(out, headers) : headers;
}

/** `forward` as header lines for the lean client, leaving out names in `own` (see withForwarded). */
export function forwardedLines(forward: Record<string, string>, own: ReadonlySet<string>): string {
  let out = '';
  for (const k in forward) if (!own.has(k)) out += headerLines({ [k]: forward[k] });
  return out;
}

/** The lowercase header names a backend's config and outgoing auth set: a client cannot override them. */
export function ownHeaderNames(headers: Record<string, string>): ReadonlySet<string> {
  return new Set(Object.keys(headers).map((k) => k.toLowerCase()));
}

/** True when the lean client can send `headers` as given (none of the names it writes itself). */
export function leanHeadersOk(headers: Record<string, string>): boolean {
  for (const k in headers) if (RESERVED.test(k)) return false;
  return true;
}

/** `Name: value\r\n` lines; refuses what node:http refuses (invalid names, CR/LF or NUL in values). */
export function headerLines(headers: Record<string, string>): string {
  let out = '';
  for (const k in headers) {
    const v = String(headers[k]);
    if (!TOKEN.test(k)) throw new TypeError(`Header name must be a valid HTTP token ["${k}"]`);
    if (INVALID_VALUE.test(v)) throw new TypeError(`Invalid character in header content ["${k}"]`);
    out += `${k}: ${v}\r\n`;
  }
  return out;
}
