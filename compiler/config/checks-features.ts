/**
 * Checks of the ToolHive features vmcp implements beyond routing: `passthroughHeaders`, OIDC token
 * introspection and CA bundles. Pure, like checks.ts, which calls them with its positioned `add`.
 */
import { restrictedHeaderReason } from '../../runtime/passthrough-headers.ts';
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import type { ResolvedBackend } from '../resolve/group.ts';
import type { Add } from './checks.ts';
import { isLoopback, safeUrl } from './checks-auth.ts';

/** Restricted or repeated header names, and a list that no backend can receive. */
export function checkPassthroughHeaders(config: VmcpConfig, backends: readonly ResolvedBackend[], add: Add): void {
  const names = config.passthroughHeaders;
  if (!names?.length) return;
  const seen = new Set<string>();
  names.forEach((name, i) => {
    const path = ['passthroughHeaders', i];
    const why = restrictedHeaderReason(name);
    if (why)
      add(
        'RESTRICTED_HEADER',
        `passthroughHeaders[${i}] "${name}" may not be forwarded to backends: ${why}`,
        path,
        name.toLowerCase() === 'authorization' || name.toLowerCase() === 'cookie'
          ? 'to give a backend a credential, use outgoingAuth (header_injection, client_credentials or token_exchange)'
          : 'remove it from passthroughHeaders',
      );
    const lower = name.toLowerCase();
    if (seen.has(lower))
      add(
        'BAD_VALUE',
        `passthroughHeaders lists "${name}" twice`,
        path,
        'header names are case-insensitive; keep one',
        'warning',
      );
    seen.add(lower);
  });
  if (backends.length > 0 && backends.every((b) => b.transport === 'stdio'))
    add(
      'PASSTHROUGH_NO_HTTP_BACKEND',
      'passthroughHeaders has no effect: every backend is stdio, and a stdio backend cannot receive request headers',
      ['passthroughHeaders'],
      'remove passthroughHeaders, or give the backend that needs them an HTTP transport',
      'warning',
      'key',
    );
}

/** Introspection needs a secure endpoint and a complete client; a CA bundle on an http:// backend does nothing. */
export function checkOidcExtras(config: VmcpConfig, add: Add): void {
  const oidc = config.incomingAuth.oidc;
  if (oidc?.introspectionUrl !== undefined) {
    const at = ['incomingAuth', 'oidc', 'introspectionUrl'];
    const u = safeUrl(oidc.introspectionUrl);
    if (u && u.protocol === 'http:' && !isLoopback(u.hostname) && !oidc.insecureAllowHttp)
      add(
        'INSECURE_ISSUER',
        `introspectionUrl ${oidc.introspectionUrl} uses plain http: every client token would cross the network in clear`,
        at,
        'use https, or set insecureAllowHttp: true for a test identity provider',
      );
    if (oidc.clientSecretEnv !== undefined && oidc.clientId === undefined)
      add(
        'MISSING_KEY',
        'incomingAuth.oidc.clientSecretEnv is set but clientId is not: the introspection call is sent without client authentication',
        ['incomingAuth', 'oidc', 'clientSecretEnv'],
        'add clientId: <the client registered for introspection>',
        'error',
        'key',
      );
  }
  config.backends.forEach((b, i) => {
    if (b.transport === 'stdio' || b.caBundlePath === undefined) return;
    if (safeUrl(b.url)?.protocol === 'http:')
      add(
        'BAD_VALUE',
        `backends[${i}].caBundlePath has no effect: ${b.url} is plain http`,
        ['backends', i, 'caBundlePath'],
        'use an https:// URL, or remove caBundlePath',
        'warning',
        'key',
      );
  });
}
