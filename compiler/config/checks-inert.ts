/**
 * Keys the schema accepts (ToolHive configs carry them) but vmcp would not act on: each is refused
 * with UNSUPPORTED at its own line, so no accepted key is silently inert. An error when ignoring
 * the key would change what a user relies on (which tools are exposed, whose token is exchanged,
 * what Cedar sees); a warning when ignoring it is harmless. test/compiler/config/schema-walk.test.ts
 * proves that every key of the schema is read somewhere or reported here (or in checks.ts).
 */
import type { StrategyConfig, VmcpConfig } from '../../schemas/vmcp.ts';
import { normalizeSubjectTokenType, SUBJECT_TOKEN_TYPES } from '../auth/subject-token-type.ts';
import type { Add } from './checks.ts';
import type { ConfigPath } from './locate.ts';

/** Strategy blocks vmcp has no strategy for, with the `type` that would use them. */
const UNSUPPORTED_BLOCKS = { upstreamInject: 'upstream_inject', awsSts: 'aws_sts', obo: 'obo', xaa: 'xaa' } as const;

/** Reports the accepted keys that would have no effect. Pure. */
export function checkInertKeys(config: VmcpConfig, add: Add): void {
  config.aggregation.tools.forEach((t, i) => {
    // An MCPToolConfig holds filters and overrides: ignoring it could expose tools meant to be hidden.
    if (t.toolConfigRef !== undefined)
      add(
        'UNSUPPORTED',
        `aggregation.tools[${i}].toolConfigRef: Kubernetes MCPToolConfig references are not supported by vmcp`,
        ['aggregation', 'tools', i, 'toolConfigRef'],
        "copy the MCPToolConfig's filter and overrides into this entry, and remove toolConfigRef",
        'error',
        'key',
      );
  });

  const oa = config.outgoingAuth;
  const strategies: Array<[StrategyConfig, ConfigPath]> = [
    [oa.default, ['outgoingAuth', 'default']],
    ...Object.entries(oa.backends).map(([n, s]): [StrategyConfig, ConfigPath] => [s, ['outgoingAuth', 'backends', n]]),
  ];
  for (const [s, path] of strategies) checkStrategyKeys(s, path, add);

  const authz = config.incomingAuth.authz;
  // Cedar would judge the claims of another token than the one the user named.
  if (authz?.primaryUpstreamProvider !== undefined)
    add(
      'UNSUPPORTED',
      'incomingAuth.authz.primaryUpstreamProvider: upstream identity providers are not supported by vmcp; Cedar sees the claims of the incoming token',
      ['incomingAuth', 'authz', 'primaryUpstreamProvider'],
      'remove primaryUpstreamProvider and write the policies against the incoming token',
      'error',
      'key',
    );

  const oidc = config.incomingAuth.oidc;
  if (oidc) {
    // ToolHive refuses private addresses for OIDC fetches unless one of these is true; vmcp never
    // refuses them, so `true` is what vmcp does anyway and `false` asks for a guard vmcp lacks.
    for (const k of ['protectedResourceAllowPrivateIp', 'jwksAllowPrivateIp'] as const)
      if (oidc[k] === false)
        add(
          'UNSUPPORTED',
          `incomingAuth.oidc.${k}: false has no effect; vmcp does not refuse private addresses for discovery and JWKS fetches`,
          ['incomingAuth', 'oidc', k],
          'vmcp fetches the OIDC URLs of this config without an address filter (https unless loopback or insecureAllowHttp); remove the key',
          'warning',
          'key',
        );
  }

  const fh = config.operational.failureHandling;
  if (fh.statusReportingInterval !== undefined)
    add(
      'UNSUPPORTED',
      'operational.failureHandling.statusReportingInterval has no effect: vmcp reports status on demand (GET /status, /readyz), not on a timer',
      ['operational', 'failureHandling', 'statusReportingInterval'],
      'remove statusReportingInterval',
      'warning',
      'key',
    );
}

function checkStrategyKeys(s: StrategyConfig, path: ConfigPath, add: Add): void {
  for (const [block, type] of Object.entries(UNSUPPORTED_BLOCKS)) {
    // With the matching type, checkStrategy already refuses the type itself.
    if ((s as Record<string, unknown>)[block] !== undefined && s.type !== type)
      add(
        'UNSUPPORTED',
        `${block} configures the ${type} strategy, which vmcp does not support (and type is ${s.type})`,
        [...path, block],
        `remove ${block}`,
        'error',
        'key',
      );
  }
  const te = s.tokenExchange;
  if (!te) return;
  // The token exchanged would be the caller's, not the named provider's.
  if (te.subjectProviderName !== undefined)
    add(
      'UNSUPPORTED',
      'tokenExchange.subjectProviderName: upstream subject providers are not supported by vmcp; it exchanges the incoming token',
      [...path, 'tokenExchange', 'subjectProviderName'],
      'remove subjectProviderName to exchange the caller’s incoming token',
      'error',
      'key',
    );
  if (normalizeSubjectTokenType(te.subjectTokenType) === undefined)
    add(
      'BAD_VALUE',
      `tokenExchange.subjectTokenType "${te.subjectTokenType}" is neither an RFC 8693 URN nor one of ${Object.keys(SUBJECT_TOKEN_TYPES).join(', ')}`,
      [...path, 'tokenExchange', 'subjectTokenType'],
      'write access_token, id_token or jwt (ToolHive’s short forms), or a full urn:ietf:params:oauth:token-type:… URN',
    );
}
