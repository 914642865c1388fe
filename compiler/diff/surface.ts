import { compareStrings } from '../../runtime/canonical.ts';
import type { CompiledBackend, CompiledGateway, CompiledOutgoingAuth } from '../../runtime/compiled-gateway.ts';
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import type { Manifest } from '../emit/manifest.ts';
import { workflowsOf, type WorkflowSurface } from './diff-workflows.ts';
import { CATALOG_KINDS, type Lockfile } from '../lock.ts';

/** The four kinds of catalog item a client sees. */
export type ItemKind = 'tool' | 'prompt' | 'resource' | 'template';
/** Item kinds in report order. */
export const ITEM_KINDS: readonly ItemKind[] = ['tool', 'prompt', 'resource', 'template'];

/** One exposed item: its public name (or URI), where it routes, and its definition as served. */
export interface SurfaceItem {
  kind: ItemKind;
  exposed: string;
  backend: string;
  original: string;
  def: Record<string, unknown>;
}

/** Outgoing auth of one backend, with env variable NAMES only; literal header values are redacted. */
export interface AuthSurface {
  type: string;
  headerName?: string;
  headerValueEnv?: string;
  /** `headerValue` with every literal run replaced by `…`: `Bearer ${env:T}` → `…${env:T}`. */
  headerValueShape?: string;
  tokenUrl?: string;
  clientId?: string;
  clientSecretEnv?: string;
  audience?: string;
  scopes?: string[];
  subjectTokenType?: string;
}

/** One backend as far as a reviewer cares: what runs, which credentials it receives, its timeout. */
export interface BackendSurface {
  name: string;
  /** `stdio npx -y pkg` or `streamable-http https://…`. */
  target: string;
  status?: string;
  auth?: AuthSurface;
  /** `${env:NAME}` references in command, args, url, env and header values (names only). */
  envRefs?: string[];
  envKeys?: string[];
  headerNames?: string[];
  timeoutMs?: number;
  required?: boolean;
}

/** Incoming auth. `level: summary` when only the type is known (a manifest). */
export interface IncomingSurface {
  level: 'full' | 'summary';
  type: string;
  authz?: string;
  issuer?: string;
  audience?: string;
  resource?: string;
  jwksUrl?: string;
  scopes?: string[];
  policies?: string[];
}

/** Where a side came from; decides what it can show. */
export type SurfaceSource = 'config' | 'lock' | 'manifest' | 'bundle';

/** Counts per item kind. */
export type Counts = Record<ItemKind, number>;

/** One side of a diff, normalized. `items` is absent when the side cannot list them (a manifest). */
export interface Surface {
  source: SurfaceSource;
  label: string;
  name?: string;
  items?: SurfaceItem[];
  counts: Counts;
  backends: BackendSurface[];
  incoming?: IncomingSurface;
  operational?: Record<string, string | number | boolean>;
  /** For a config: the same side seen as its raw lock, to compare against a lock. */
  lockView?: Surface;
  /** Composite tools' workflows (configs and bundles). */
  workflows?: WorkflowSurface[];
}

const byExposed = (a: SurfaceItem, b: SurfaceItem) =>
  compareStrings(a.kind, b.kind) || compareStrings(a.exposed, b.exposed);

function countItems(items: SurfaceItem[]): Counts {
  const counts: Counts = { tool: 0, prompt: 0, resource: 0, template: 0 };
  for (const i of items) counts[i.kind] += 1;
  return counts;
}

/** Names of `${env:NAME}` references in any strings, sorted and unique. */
export function envRefsIn(values: ReadonlyArray<string | undefined>): string[] {
  const names = new Set<string>();
  for (const v of values) for (const m of (v ?? '').matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)) names.add(m[1]);
  return [...names].sort(compareStrings);
}

function authSurface(a: CompiledOutgoingAuth): AuthSurface {
  const { headerValue, ...rest } = a;
  const out: AuthSurface = { ...rest };
  if (headerValue !== undefined)
    out.headerValueShape = headerValue
      .split(/(\$\{env:[A-Za-z0-9_]+\})/)
      .map((p, i) => (i % 2 ? p : p ? '…' : ''))
      .join('');
  return out;
}

function targetOf(b: { transport: string; command?: string; args?: string[]; url?: string }): string {
  return b.transport === 'stdio'
    ? [b.transport, b.command, ...(b.args ?? [])].join(' ')
    : `${b.transport} ${b.url ?? ''}`;
}

function backendSurface(b: CompiledBackend & { required?: boolean }): BackendSurface {
  const sortedKeys = (o?: Record<string, string>) => Object.keys(o ?? {}).sort(compareStrings);
  return {
    name: b.name,
    target: targetOf(b),
    auth: authSurface(b.auth),
    envRefs: envRefsIn([
      b.command,
      ...(b.args ?? []),
      b.url,
      b.cwd,
      ...Object.values(b.env ?? {}),
      ...Object.values(b.headers ?? {}),
    ]),
    envKeys: sortedKeys(b.env),
    headerNames: sortedKeys(b.headers),
    timeoutMs: b.timeoutMs,
    required: b.required !== false,
  };
}

/** The surface a compiled gateway serves (from a config compile, or dumped from a bundle). */
export function surfaceFromGateway(
  g: CompiledGateway,
  source: SurfaceSource,
  label: string,
  incoming?: IncomingSurface,
): Surface {
  const items: SurfaceItem[] = [];
  const backendName = (i: number) => g.backends[i]?.name ?? `#${i}`;
  const lists: Array<
    [ItemKind, string, (def: Record<string, unknown>) => { exposed: string; backend: string; original: string }]
  > = [
    ['tool', g.lists.tools, (d) => routed(String(d.name), g.tools)],
    ['prompt', g.lists.prompts, (d) => routed(String(d.name), g.prompts)],
    ['resource', g.lists.resources, (d) => routed(String(d.uri), g.resources)],
    [
      'template',
      g.lists.resourceTemplates,
      (d) => {
        const t = g.resourceTemplates.find((r) => r.uriTemplate === d.uriTemplate);
        return {
          exposed: String(d.uriTemplate),
          backend: t ? backendName(t.backend) : '?',
          original: String(d.uriTemplate),
        };
      },
    ],
  ];
  const composites = new Set((g.composites ?? []).map((c) => c.name));
  function routed(exposed: string, routes: CompiledGateway['tools']) {
    const r = routes[exposed];
    if (!r && routes === g.tools && composites.has(exposed)) return { exposed, backend: 'workflow', original: exposed };
    return { exposed, backend: r ? backendName(r.backend) : '?', original: r?.name ?? exposed };
  }
  for (const [kind, json, where] of lists) {
    for (const def of JSON.parse(json || '[]') as Array<Record<string, unknown>>)
      items.push({ kind, ...where(def), def });
  }
  items.sort(byExposed);
  const op = g.operational;
  return {
    source,
    label,
    name: g.name,
    items,
    counts: countItems(items),
    backends: g.backends.map(backendSurface).sort((a, b) => compareStrings(a.name, b.name)),
    ...(g.composites?.length ? { workflows: workflowsOf(g) } : {}),
    incoming,
    operational: {
      drift: op.drift,
      partialFailureMode: op.partialFailureMode,
      healthCheckIntervalMs: op.healthCheckIntervalMs,
      unhealthyThreshold: op.unhealthyThreshold,
      'circuitBreaker.enabled': op.circuitBreaker.enabled,
      'circuitBreaker.failureThreshold': op.circuitBreaker.failureThreshold,
      'circuitBreaker.timeoutMs': op.circuitBreaker.timeoutMs,
    },
  };
}

/** Incoming auth and authorization policies as configured. */
export function incomingFromConfig(config: VmcpConfig): IncomingSurface {
  const a = config.incomingAuth;
  const out: IncomingSurface = { level: 'full', type: a.type };
  if (a.authz && a.authz.type !== 'none') Object.assign(out, { authz: a.authz.type, policies: [...a.authz.policies] });
  if (a.oidc) {
    const { issuer, audience, resource, jwksUrl, scopes } = a.oidc;
    Object.assign(out, { issuer, audience, resource, jwksUrl, scopes: scopes.length ? [...scopes] : undefined });
  }
  return out;
}

/** A lock's raw backend catalogs: no config rules, so exposed name = original name, and no auth. */
export function surfaceFromLock(lock: Lockfile, label: string): Surface {
  const items: SurfaceItem[] = [];
  const kindOf = { tools: 'tool', prompts: 'prompt', resources: 'resource', resourceTemplates: 'template' } as const;
  for (const [backend, b] of Object.entries(lock.backends)) {
    for (const field of CATALOG_KINDS) {
      for (const [key, item] of Object.entries(b[field]))
        items.push({ kind: kindOf[field], exposed: key, backend, original: key, def: item.def });
    }
  }
  items.sort(byExposed);
  const backends = Object.entries(lock.backends)
    .map(([name, b]) => ({ name, target: targetOf(b.identity), status: b.status }))
    .sort((a, b) => compareStrings(a.name, b.name));
  return { source: 'lock', label, items, counts: countItems(items), backends };
}

/** What a manifest can show: counts, backends, auth strategy names, incoming auth type. */
export function surfaceFromManifest(m: Manifest, label: string): Surface {
  const [type, authz] = m.auth.incoming.split('+');
  return {
    source: 'manifest',
    label,
    name: m.name,
    counts: {
      tool: m.counts.tools,
      prompt: m.counts.prompts,
      resource: m.counts.resources,
      template: m.counts.resourceTemplates,
    },
    backends: m.backends
      .map((b) => ({
        name: b.name,
        target: targetOf(b),
        status: b.status,
        auth: m.auth.outgoingByBackend[b.name] ? { type: m.auth.outgoingByBackend[b.name] } : undefined,
      }))
      .sort((a, b) => compareStrings(a.name, b.name)),
    incoming: { level: 'summary', type, ...(authz ? { authz } : {}) },
  };
}

/** Reduces a surface to what a manifest shows, so two sides of unequal detail compare fairly. */
export function summarizeSurface(s: Surface): Surface {
  return {
    source: s.source,
    label: s.label,
    name: s.name,
    counts: s.counts,
    backends: s.backends.map((b) => ({
      name: b.name,
      target: b.target,
      ...(b.auth ? { auth: { type: b.auth.type } } : {}),
    })),
    incoming: s.incoming
      ? { level: 'summary', type: s.incoming.type, ...(s.incoming.authz ? { authz: s.incoming.authz } : {}) }
      : undefined,
  };
}
