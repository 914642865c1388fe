/**
 * 2025-era session rules, as decisions: which session a request names, and whether its caller may
 * use it. Pure: the HTTP front end looks the session up with this and answers the refusal as given.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ERR } from '../jsonrpc.ts';
import { LEGACY_VERSIONS } from './envelope.ts';
import type { Refusal } from './inbound.ts';

/** What the rules need to know of a session. */
export interface SessionOwner {
  /** The `(iss, sub)` key of the caller who created it; undefined for anonymous gateways. */
  principalKey: string | undefined;
}

/**
 * The session a request names, or the refusal: 400 without `Mcp-Session-Id`; 404 for an unknown id
 * and equally for another subject's session (ids can be neither probed nor hijacked with someone
 * else's token); 400 for a protocol version this era does not speak.
 */
export function lookupSession<S extends SessionOwner>(
  sessions: { get(id: string): S | undefined },
  headers: IncomingHttpHeaders,
  principalKey: string | undefined,
): { session: S } | Refusal {
  const id = headers['mcp-session-id'];
  if (typeof id !== 'string')
    return refusal(400, ERR.CONNECTION_CLOSED, 'Bad Request: Mcp-Session-Id header is required');
  const session = sessions.get(id);
  if (!session || session.principalKey !== principalKey) return refusal(404, ERR.TIMEOUT, 'Session not found');
  const version = headers['mcp-protocol-version'];
  if (typeof version === 'string' && !LEGACY_VERSIONS.includes(version)) {
    return refusal(
      400,
      ERR.CONNECTION_CLOSED,
      `Bad Request: Unsupported protocol version: ${version} (supported versions: ${LEGACY_VERSIONS.join(', ')})`,
    );
  }
  return { session };
}

function refusal(status: number, code: number, message: string): Refusal {
  return { kind: 'refuse', status, code, message };
}

/**
 * Whether one more 2025 session may open, given how many the gateway and this client hold: undefined
 * when it may, else why not (the front end answers 503 with Retry-After).
 */
export function admissionRefusal(
  held: { total: number; byClient: number },
  limits: { maxSessions: number; maxSessionsPerClient: number },
): string | undefined {
  if (held.total >= limits.maxSessions)
    return `the gateway holds its maximum of ${limits.maxSessions} sessions (operational.limits.maxSessions); retry after Retry-After, or raise the limit`;
  if (held.byClient >= limits.maxSessionsPerClient)
    return `this client holds its maximum of ${limits.maxSessionsPerClient} sessions (operational.limits.maxSessionsPerClient); end unused sessions with DELETE`;
  return undefined;
}
