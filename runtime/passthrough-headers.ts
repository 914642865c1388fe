/**
 * `passthroughHeaders`: which client request headers may be forwarded to HTTP backends, and the
 * per-request pick. The rule is shared: the compiler refuses a restricted name with a diagnostic,
 * and the runtime refuses it again at start-up (a hand-edited bundle).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Longest forwarded header value, in bytes; a longer one gets 431 (bounded per request: the list is ≤ 64 names). */
export const MAX_PASSTHROUGH_VALUE_BYTES = 8192;

/** Exact names never forwarded, with why (lowercase). */
const RESTRICTED: ReadonlyMap<string, string> = new Map([
  ['authorization', 'a credential for the gateway, never for a backend'],
  ['cookie', 'a credential for the gateway, never for a backend'],
  ['host', 'the gateway addresses the backend itself'],
  ['content-length', 'the gateway frames the upstream request (request smuggling)'],
  ['transfer-encoding', 'the gateway frames the upstream request (request smuggling)'],
  ['content-type', 'set by the gateway for the MCP message'],
  ['accept', 'set by the gateway for the MCP message'],
  ['expect', 'the gateway frames the upstream request'],
  ['connection', 'a hop-by-hop header'],
  ['keep-alive', 'a hop-by-hop header'],
  ['te', 'a hop-by-hop header'],
  ['trailer', 'a hop-by-hop header'],
  ['upgrade', 'a hop-by-hop header'],
  ['http2-settings', 'a hop-by-hop header'],
  ['last-event-id', 'the gateway resumes its own upstream streams'],
  ['forwarded', 'identity spoofing: the client could claim any origin'],
  ['x-real-ip', 'identity spoofing: the client could claim any origin'],
]);

/** Why `name` may not be forwarded, or undefined when it may. */
export function restrictedHeaderReason(name: string): string | undefined {
  const n = name.toLowerCase();
  const exact = RESTRICTED.get(n);
  if (exact) return exact;
  if (n.startsWith('proxy-')) return 'a hop-by-hop proxy header';
  if (n.startsWith('mcp-')) return 'an MCP protocol header the gateway sets per upstream session';
  if (n.startsWith('x-forwarded-')) return 'identity spoofing: the client could claim any origin';
  return undefined;
}

/** A forwarded value the lean client can write as is (node:http already refused CR, LF and NUL). */
const SAFE_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The outcome of picking: the headers to forward (absent when none are present), or the name that is too long. */
export type PassthroughPick = { headers?: Record<string, string> } | { tooLong: string };

/**
 * The allowlisted headers present on a request, by lowercase name (node:http lowercases them).
 * Only called when `passthroughHeaders` is configured; nothing is allocated when none is present.
 */
export function pickPassthrough(names: readonly string[], headers: IncomingHttpHeaders): PassthroughPick {
  let out: Record<string, string> | undefined;
  for (const name of names) {
    const raw = headers[name];
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (Buffer.byteLength(value) > MAX_PASSTHROUGH_VALUE_BYTES) return { tooLong: name };
    if (!SAFE_VALUE.test(value)) continue;
    (out ??= {})[name] = value;
  }
  return out ? { headers: out } : {};
}
