/**
 * Keeps secrets out of audit data and bounds its size. A value under a credential-shaped key
 * (`Authorization`, `token`, `client_secret`, `password`, `api_key`, …, any case, `-`/`_` ignored)
 * becomes "[redacted]" at any depth; `Bearer …`/`Basic …` credentials, JWTs and `?access_token=…`
 * inside strings are cut out too. Data over the size bound is kept as the first bytes of its JSON text, as a string,
 * scrubbed again as text (the cut may have split a key from its value).
 */
import type { Json } from '../raw-json.ts';

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/** Credential-shaped keys, lower-cased with `-` and `_` removed. */
const SECRET_KEYS: ReadonlySet<string> = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'subjecttoken',
  'bearertoken',
  'clientsecret',
  'secret',
  'password',
  'passwd',
  'apikey',
  'xapikey',
  'privatekey',
]);

/** Nesting kept before a subtree is replaced by "[too deep]". */
const MAX_DEPTH = 32;

/** `"Authorization": "…"` in JSON text; the value may be cut short by truncation (no closing quote). */
const SECRET_MEMBER =
  /"((?:proxy[-_]?)?authorization|(?:set[-_]?)?cookie|(?:(?:access|refresh|id|subject|bearer)[-_]?)?token|client[-_]?secret|secret|passw(?:or)?d|(?:x[-_]?)?api[-_]?key|private[-_]?key)"(\s*:\s*)"(?:[^"\\]|\\.)*(?:"|\\?$)/gi;
/** An HTTP credential inside a string: `Bearer abc.def` → `Bearer [redacted]`. */
const CREDENTIAL = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
/** A credential in a URL's query: `?access_token=abc` → `?access_token=[redacted]`. */
const QUERY_SECRET = /([?&](?:access[-_]?token|token|api[-_]?key|key|secret|password|sig|signature|code)=)[^&#\s"]+/gi;
/** A JWT (three base64url parts, the first two JSON objects). */
const JWT = /\beyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

/** True for keys whose values are never written (`Authorization`, `x-api-key`, `client_secret`, …). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));
}

/** A string with HTTP credentials, JWTs and credentials in URL queries cut out. */
export function scrubString(s: string): string {
  if (s.length < 8) return s; // shorter than `Bearer x`: nothing to cut
  return s.replace(CREDENTIAL, `$1 ${REDACTED}`).replace(JWT, REDACTED).replace(QUERY_SECRET, `$1${REDACTED}`);
}

/** JSON text (possibly cut short) with secret members and credentials cut out. */
export function scrubText(text: string): string {
  return scrubString(text.replace(SECRET_MEMBER, `"$1"$2"${REDACTED}"`));
}

/**
 * A copy of `value` with secrets replaced; strings longer than `maxChars` are cut (the result is
 * truncated later anyway, and this bounds the serialization work for a huge argument).
 */
export function scrubValue(value: unknown, maxChars: number, depth = 0): unknown {
  if (typeof value === 'string') return scrubString(value.length > maxChars ? `${value.slice(0, maxChars)}…` : value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, maxChars, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : scrubValue(v, maxChars, depth + 1);
  return out;
}

/** Audit data ready to embed: serialized JSON, and whether it was cut to the size bound. */
export interface BoundedData {
  json: string;
  truncated: boolean;
}

/** The first `max` bytes of `text` as a JSON string, scrubbed (a split character at the end is dropped). */
function cutToString(head: Buffer, max: number): BoundedData {
  const text = head
    .subarray(0, max)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return { json: JSON.stringify(scrubText(text)), truncated: true };
}

/** A parsed value (request params) as bounded, scrubbed JSON. */
export function boundValue(value: unknown, max: number): BoundedData {
  const text = JSON.stringify(scrubValue(value, max)) ?? 'null';
  if (text.length <= max && Buffer.byteLength(text) <= max) return { json: text, truncated: false };
  return cutToString(Buffer.from(text), max);
}

/**
 * A serialized result (a string, or raw bytes from a backend) as bounded, scrubbed JSON. Only the
 * first `max` bytes of a large result are ever decoded: a 50 MB relay costs nothing more here.
 */
export function boundJson(result: Json, max: number): BoundedData {
  if (typeof result === 'string') {
    if (Buffer.byteLength(result) <= max) return reserialize(result, max);
    return cutToString(Buffer.from(result.slice(0, max)), max);
  }
  if (result.bytes <= max) return reserialize(result.text(), max);
  const parts: Buffer[] = [];
  let n = 0;
  for (const s of result.segments) {
    const b = typeof s === 'string' ? Buffer.from(s) : s;
    parts.push(b);
    n += b.length;
    if (n >= max) break;
  }
  return cutToString(Buffer.concat(parts), max);
}

/** Small JSON text parsed, scrubbed by key and written again (text scrubbing when it does not parse). */
function reserialize(text: string, max: number): BoundedData {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { json: JSON.stringify(scrubText(text)), truncated: false };
  }
  return boundValue(value, max);
}

/** What decides an event's `data` (the audit block's opt-ins and bound). */
export interface DataPolicy {
  includeRequestData: boolean;
  includeResponseData: boolean;
  maxDataSize: number;
}

/**
 * An event's `data` member, `{"request":…,"response":…}`, as serialized JSON, or undefined when
 * nothing is opted in. Notes a cut and the response size in `extra` (ToolHive's metadata keys).
 */
export function eventData(
  policy: DataPolicy,
  request: unknown,
  response: Json | undefined,
  extra: Record<string, unknown>,
): string | undefined {
  const max = policy.maxDataSize;
  if (max <= 0) return undefined;
  const parts: string[] = [];
  if (policy.includeRequestData && request !== undefined) {
    const req = boundValue(request, max);
    parts.push(`"request":${req.json}`);
    if (req.truncated) extra.request_data_truncated = true;
  }
  if (policy.includeResponseData && response !== undefined && response !== null) {
    extra.response_size_bytes = typeof response === 'string' ? Buffer.byteLength(response) : response.bytes;
    const res = boundJson(response, max);
    parts.push(`"response":${res.json}`);
    if (res.truncated) extra.response_data_truncated = true;
  }
  return parts.length > 0 ? `{${parts.join(',')}}` : undefined;
}
