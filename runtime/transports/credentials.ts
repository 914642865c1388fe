/** Per-request credentials for HTTP upstreams (client_credentials, token_exchange). */
import type { ResolvedBackend } from '../plugins.ts';

/** The strategy could not produce credentials (token endpoint refused or unreachable). */
export class CredentialsError extends Error {}

/**
 * Adds the strategy's current credentials to `headers`. Cached tokens come back synchronously,
 * so the common path adds no network round trip; a failure names the backend, never a secret.
 */
export async function withCredentials(backend: ResolvedBackend, headers: Record<string, string>): Promise<void> {
  const outgoing = backend.outgoing;
  if (!outgoing?.credentials) return;
  let extra: Record<string, string>;
  try {
    const got = outgoing.credentials(backend.subject?.current);
    extra = got instanceof Promise ? await got : got;
  } catch (err) {
    throw new CredentialsError(
      `vmcp: backend "${backend.name}": cannot obtain credentials (${backend.auth.type}): ${(err as Error).message}`,
    );
  }
  // Header names are case-insensitive: a strategy's Authorization replaces a configured one.
  for (const k of Object.keys(extra)) {
    for (const h of Object.keys(headers)) if (h.toLowerCase() === k.toLowerCase()) delete headers[h];
    headers[k] = extra[k];
  }
}
