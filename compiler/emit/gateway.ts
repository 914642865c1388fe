import type { VmcpConfig, StrategyConfig } from '../../schemas/vmcp.ts';
import { parseDuration } from '../../runtime/duration.ts';
import { parseByteSize } from '../../runtime/limits.ts';
import type {
  CompiledBackend,
  CompiledGateway,
  CompiledIncomingAuth,
  CompiledOutgoingAuth,
  Route,
} from '../../runtime/compiled-gateway.ts';
import type { Lockfile } from '../lock.ts';
import type { CompositePlan } from '../../runtime/composite/plan.ts';
import { compareStrings } from '../../runtime/canonical.ts';
import type { Catalog } from '../resolve/catalog.ts';
import type { ResolvedBackend } from '../resolve/group.ts';
import { VMCP_VERSION } from '../version.ts';
import { compileAudit, compileTelemetry } from './observability.ts';
import { compileSharedState } from './shared-state.ts';
import { compileOptimizer } from './optimizer.ts';
import { normalizeSubjectTokenType } from '../auth/subject-token-type.ts';

/** Composite tools as compiled (compiler/composite/): the plans and the tool definitions to advertise. */
export interface CompiledComposites {
  plans: CompositePlan[];
  tools: Record<string, unknown>[];
}

/** Every exposed tool definition: composites listed among the routed tools, in name order. */
export function exposedToolDefs(catalog: Catalog, composites: CompiledComposites): Record<string, unknown>[] {
  return [...catalog.tools.map((t) => t.def), ...composites.tools].sort((a, b) =>
    compareStrings(String(a.name), String(b.name)),
  );
}

/** Turns the resolved config, group, lock and catalog into the data the runtime serves. Pure. */
export function buildGateway(
  config: VmcpConfig,
  backends: readonly ResolvedBackend[],
  lock: Lockfile,
  catalog: Catalog,
  composites: CompiledComposites = { plans: [], tools: [] },
  /** The optimizer's pinned catalog vectors by tool name (compiler/optimizer/embeddings.ts), if any. */
  embeddings?: Record<string, string>,
): CompiledGateway {
  const index = new Map(backends.map((b, i) => [b.name, i]));
  const op = config.operational;
  const ms = (d: string) => parseDuration(d) ?? 0;
  const compiledBackends: CompiledBackend[] = backends.map((b) => {
    const entry = lock.backends[b.name];
    const hashes = (kind: 'tools' | 'prompts' | 'resources' | 'resourceTemplates') =>
      Object.fromEntries(Object.entries(entry?.[kind] ?? {}).map(([k, v]) => [k, v.hash]));
    const out: CompiledBackend = {
      name: b.name,
      transport: b.transport,
      timeoutMs: ms(op.timeouts.perWorkload[b.name] ?? op.timeouts.default),
      auth: compileAuth(config.outgoingAuth.backends[b.name] ?? config.outgoingAuth.default),
      catalogHash: entry?.status === 'ok' ? entry.hash : '',
      itemHashes: {
        tools: hashes('tools'),
        prompts: hashes('prompts'),
        resources: hashes('resources'),
        resourceTemplates: hashes('resourceTemplates'),
      },
    };
    if (b.transport === 'stdio')
      Object.assign(
        out,
        { command: b.command, args: b.args ?? [] },
        b.env ? { env: b.env } : {},
        b.cwd ? { cwd: b.cwd } : {},
      );
    else {
      Object.assign(out, { url: b.url }, b.headers ? { headers: b.headers } : {});
      const ca = caBundleOf(config, b.name);
      if (ca !== undefined) out.caBundlePath = ca;
    }
    if (!b.required) out.required = false;
    if (b.sessionAffinity === 'per-session') out.sessionAffinity = 'per-session';
    return out;
  });
  const route = (backend: string, name: string): Route => ({ backend: index.get(backend)!, name });
  const anyCap = (key: string) => backends.some((b) => lock.backends[b.name]?.capabilities?.[key] !== undefined);
  const capabilities: Record<string, unknown> = { logging: {} };
  if (catalog.tools.length || composites.plans.length || anyCap('tools')) capabilities.tools = { listChanged: true };
  if (catalog.prompts.length || anyCap('prompts')) capabilities.prompts = { listChanged: true };
  if (catalog.resources.length || catalog.resourceTemplates.length || anyCap('resources'))
    capabilities.resources = { listChanged: true };
  if (anyCap('completions')) capabilities.completions = {};
  const incomingAuth = compileIncoming(config.incomingAuth);
  const toolDefs = exposedToolDefs(catalog, composites);
  const optimizer = compileOptimizer(config, toolDefs, embeddings);
  const telemetry = compileTelemetry(config);
  const audit = compileAudit(config);
  return {
    name: config.name,
    vmcpVersion: VMCP_VERSION,
    capabilities,
    backends: compiledBackends,
    ...(incomingAuth ? { incomingAuth } : {}),
    ...(telemetry ? { telemetry } : {}),
    ...(audit ? { audit } : {}),
    ...compileSharedState(config),
    ...passthroughOf(config),
    tools: Object.fromEntries(catalog.tools.map((t) => [t.exposed, route(t.backend, t.original)])),
    prompts: Object.fromEntries(catalog.prompts.map((p) => [p.exposed, route(p.backend, p.original)])),
    resources: Object.fromEntries(catalog.resources.map((r) => [r.key, route(r.backend, r.key)])),
    resourceTemplates: catalog.resourceTemplates.map((t) => ({
      uriTemplate: t.key,
      pattern: t.pattern!,
      backend: index.get(t.backend)!,
    })),
    ...(composites.plans.length ? { composites: composites.plans } : {}),
    ...(optimizer ? { optimizer } : {}),
    lists: {
      tools: JSON.stringify(toolDefs),
      prompts: JSON.stringify(catalog.prompts.map((p) => p.def)),
      resources: JSON.stringify(catalog.resources.map((r) => r.def)),
      resourceTemplates: JSON.stringify(catalog.resourceTemplates.map((t) => t.def)),
    },
    operational: {
      drift: op.drift,
      partialFailureMode: op.failureHandling.partialFailureMode,
      healthCheckIntervalMs: ms(op.failureHandling.healthCheckInterval),
      healthCheckTimeoutMs: ms(op.failureHandling.healthCheckTimeout),
      ...(op.logLevel ? { logLevel: op.logLevel } : {}),
      unhealthyThreshold: op.failureHandling.unhealthyThreshold,
      circuitBreaker: {
        enabled: op.failureHandling.circuitBreaker.enabled,
        failureThreshold: op.failureHandling.circuitBreaker.failureThreshold,
        timeoutMs: ms(op.failureHandling.circuitBreaker.timeout),
      },
      limits: {
        maxMessageBytes: parseByteSize(op.limits.maxMessageSize)!,
        maxSessions: op.limits.maxSessions,
        maxSessionsPerClient: op.limits.maxSessionsPerClient,
        sessionIdleMs: ms(op.limits.sessionIdleTimeout),
        sessionMaxAgeMs: ms(op.limits.sessionMaxAge),
        maxScopedUpstreams: op.limits.maxScopedUpstreams,
        maxParkedCalls: op.limits.maxParkedCalls,
        maxStreamBufferBytes: parseByteSize(op.limits.maxStreamBuffer)!,
      },
    },
  };
}

/** Incoming auth for the runtime; undefined for anonymous gateways without authorization. */
export function compileIncoming(ia: VmcpConfig['incomingAuth']): CompiledIncomingAuth | undefined {
  const authz = ia.authz && ia.authz.type === 'cedar' ? ia.authz : undefined;
  if (ia.type === 'anonymous' && !authz) return undefined;
  const out: CompiledIncomingAuth = { type: ia.type };
  if (ia.type === 'oidc' && ia.oidc) {
    const o = ia.oidc;
    out.oidc = {
      issuer: o.issuer,
      audience: o.audience,
      scopes: o.scopes,
      allowedAlgorithms: o.allowedAlgorithms ?? [],
      clockSkewMs: parseDuration(o.clockSkew) ?? 30_000,
      insecureAllowHttp: o.insecureAllowHttp,
      ...(o.jwksUrl ? { jwksUrl: o.jwksUrl } : {}),
      ...(o.resource ? { resource: o.resource } : {}),
      ...(o.introspectionUrl ? { introspectionUrl: o.introspectionUrl } : {}),
      // The client id and secret name serve the introspection call only (the secret value stays in the env).
      ...(o.introspectionUrl && o.clientId ? { clientId: o.clientId } : {}),
      ...(o.introspectionUrl && o.clientSecretEnv ? { clientSecretEnv: o.clientSecretEnv } : {}),
      ...(o.caBundlePath ? { caBundlePath: o.caBundlePath } : {}),
    };
  }
  if (authz) {
    out.authz = {
      type: 'cedar',
      policies: authz.policies,
      entitiesJson: authz.entitiesJson,
      ...(authz.groupClaimName ? { groupClaimName: authz.groupClaimName } : {}),
      ...(authz.roleClaimName ? { roleClaimName: authz.roleClaimName } : {}),
      ...(authz.groupEntityType ? { groupEntityType: authz.groupEntityType } : {}),
    };
  }
  return out;
}

/** Flattens ToolHive's nested strategy into the runtime's shape. Only env names, never values. */
export function compileAuth(s: StrategyConfig): CompiledOutgoingAuth {
  const block = s.headerInjection ?? s.tokenExchange ?? s.clientCredentials ?? {};
  const out: CompiledOutgoingAuth = { type: s.type as CompiledOutgoingAuth['type'] };
  for (const [k, v] of Object.entries(block))
    if (v !== undefined && k !== 'clientSecret' && k !== 'subjectProviderName')
      (out as unknown as Record<string, unknown>)[k] = v;
  if (out.scopes && out.scopes.length === 0) delete out.scopes;
  // ToolHive's short forms (access_token, id_token, jwt) become their RFC 8693 URNs here, once.
  if (out.subjectTokenType !== undefined)
    out.subjectTokenType = normalizeSubjectTokenType(out.subjectTokenType) ?? out.subjectTokenType;
  return out;
}

/** The CA bundle path of an inline HTTP backend, as written (read by the runtime at start-up). */
function caBundleOf(config: VmcpConfig, name: string): string | undefined {
  const b = config.backends.find((x) => x.name === name);
  return b && b.transport !== 'stdio' ? b.caBundlePath : undefined;
}

/** `passthroughHeaders` lowercased, deduplicated and sorted; nothing when the list is absent or empty. */
function passthroughOf(config: VmcpConfig): { passthroughHeaders?: string[] } {
  const names = [...new Set((config.passthroughHeaders ?? []).map((h) => h.toLowerCase()))].sort(compareStrings);
  return names.length ? { passthroughHeaders: names } : {};
}
