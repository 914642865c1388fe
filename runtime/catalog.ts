/**
 * The served catalog: the compiled, pre-serialized lists, filtered only when needed (drift-blocked
 * items; with partialFailureMode best_effort, items of backends that are down). Results are cached
 * strings, rebuilt only when a backend changes state.
 */
import type { Authorizer, AuthzAction, AuthzResourceType, Principal } from './plugins.ts';
import type { Backend } from './backend/supervisor.ts';
import type { ItemKind } from './backend/drift.ts';
import type { CompiledGateway } from './compiled-gateway.ts';
import { canonicalJson } from './canonical.ts';

const FIELDS: Record<ItemKind, string> = {
  tools: 'tools',
  prompts: 'prompts',
  resources: 'resources',
  resourceTemplates: 'resourceTemplates',
};
/** 2026-07-28 list results carry cache hints; the catalog is the same for every client, hence public. */
const MODERN_SUFFIX = ',"resultType":"complete","ttlMs":0,"cacheScope":"public"}';
/** With an authorization policy each caller sees its own list: not cacheable across callers. */
const MODERN_PRIVATE_SUFFIX = ',"resultType":"complete","ttlMs":0,"cacheScope":"private"}';
/** The decision a list item is filtered by: the same one that gates calling it. */
const AUTHZ: Record<ItemKind, { action: AuthzAction; type: AuthzResourceType; id: string }> = {
  tools: { action: 'call_tool', type: 'Tool', id: 'name' },
  prompts: { action: 'get_prompt', type: 'Prompt', id: 'name' },
  resources: { action: 'read_resource', type: 'Resource', id: 'uri' },
  resourceTemplates: { action: 'read_resource', type: 'Resource', id: 'uriTemplate' },
};
/** Claims that change with every token but never with who the caller is or what it may do. */
const PER_TOKEN_CLAIMS: ReadonlySet<string> = new Set([
  'exp',
  'iat',
  'nbf',
  'jti',
  'auth_time',
  'at_hash',
  'c_hash',
  'nonce',
  'sid',
]);

/**
 * Who the caller is, for the per-caller list cache: the subject and every claim a policy could
 * read, without per-token claims. A refreshed token shares its entry; a changed group does not.
 * Never the raw token: a cache key must not hold a credential.
 */
export function identityKey(principal: Principal | undefined): string {
  if (!principal) return '';
  const stable: Record<string, unknown> = {};
  for (const k of Object.keys(principal.claims).sort()) if (!PER_TOKEN_CLAIMS.has(k)) stable[k] = principal.claims[k];
  return `${principal.key}\n${canonicalJson(stable)}`;
}

/** Per-caller filtered lists kept (by identity), dropped oldest first. */
const PER_CALLER_CACHE = 1000;

/** Serves list results as strings for both eras. */
export class Catalog {
  private cache = new Map<string, string>();
  private parsed: Partial<Record<ItemKind, any[]>> = {};

  /** Per-caller filtered list results, keyed by era, kind and the caller's identity. */
  private perCaller = new Map<string, string>();
  /** The served items of each kind as objects, parsed once per catalog change for per-caller filtering. */
  private servedItems = new Map<ItemKind, any[]>();

  constructor(
    private readonly gw: CompiledGateway,
    private readonly backends: Backend[],
    private readonly authorizer?: Authorizer,
  ) {}

  /**
   * The list result `principal` may see: with an authorization policy, only the items the same
   * decision would let it use; otherwise the shared cached list.
   */
  listFor(kind: ItemKind, modern: boolean, principal: Principal | undefined): string {
    const authz = this.authorizer;
    if (!authz) return this.listResult(kind, modern);
    const key = `${modern ? 'm' : 'l'}:${kind}:${identityKey(principal)}`;
    let s = this.perCaller.get(key);
    if (s !== undefined) return s;
    let all = this.servedItems.get(kind);
    if (!all) this.servedItems.set(kind, (all = JSON.parse(this.items(kind)) as any[]));
    const { action, type, id } = AUTHZ[kind];
    const mine = all.filter((item) => authz.isAllowed(principal, action, type, String(item?.[id])));
    s = `{"${FIELDS[kind]}":${JSON.stringify(mine)}${modern ? MODERN_PRIVATE_SUFFIX : '}'}`;
    if (this.perCaller.size >= PER_CALLER_CACHE) this.perCaller.delete(this.perCaller.keys().next().value as string);
    this.perCaller.set(key, s);
    return s;
  }

  /** The serialized list result for `kind`, e.g. `{"tools":[...]}` (plus cache hints when modern). */
  listResult(kind: ItemKind, modern: boolean): string {
    const key = modern ? `m:${kind}` : kind;
    let s = this.cache.get(key);
    if (s === undefined) {
      s = `{"${FIELDS[kind]}":${this.items(kind)}${modern ? MODERN_SUFFIX : '}'}`;
      this.cache.set(key, s);
    }
    return s;
  }

  /**
   * The tool names `principal` may see and use right now (authorization, drift, backends down), for
   * the optimizer's find_tool; undefined when that is every tool.
   */
  visibleToolNames(principal: Principal | undefined): ReadonlySet<string> | undefined {
    if (!this.authorizer && !this.needsFilter()) return undefined;
    const list = this.authorizer ? this.listFor('tools', false, principal) : this.listResult('tools', false);
    // The list strings are cached objects, so this lookup hashes each one once.
    let names = this.nameSets.get(list);
    if (names === undefined) {
      names = new Set((JSON.parse(list).tools as Array<{ name: string }>).map((t) => t.name));
      if (this.nameSets.size >= PER_CALLER_CACHE) this.nameSets.delete(this.nameSets.keys().next().value as string);
      this.nameSets.set(list, names);
    }
    return names;
  }

  /** Names in a served tools list, by the list string (see visibleToolNames). */
  private nameSets = new Map<string, ReadonlySet<string>>();

  /** Drops cached strings; returns the kinds whose served list changed. */
  invalidate(): ItemKind[] {
    const before = new Map((Object.keys(FIELDS) as ItemKind[]).map((k) => [k, this.items(k)]));
    this.cache.clear();
    this.filtered.clear();
    this.perCaller.clear();
    this.servedItems.clear();
    this.nameSets.clear();
    return (Object.keys(FIELDS) as ItemKind[]).filter((k) => this.items(k) !== before.get(k));
  }

  private filtered = new Map<ItemKind, string>();

  private items(kind: ItemKind): string {
    let s = this.filtered.get(kind);
    if (s !== undefined) return s;
    const raw = this.gw.lists[kind];
    if (!this.needsFilter()) s = raw;
    else {
      const all = (this.parsed[kind] ??= JSON.parse(raw) as any[]);
      s = JSON.stringify(all.filter((item) => this.visible(kind, item)));
    }
    this.filtered.set(kind, s);
    return s;
  }

  private needsFilter(): boolean {
    const bestEffort = this.gw.operational.partialFailureMode === 'best_effort';
    return this.backends.some((b) => b.blocked.size > 0 || (bestEffort && !isServing(b)));
  }

  private visible(kind: ItemKind, item: any): boolean {
    const route = this.routeOf(kind, item);
    if (!route) return true;
    const b = this.backends[route.backend];
    if (this.gw.operational.partialFailureMode === 'best_effort' && !isServing(b)) return false;
    return !b.blocked.has(`${kind}:${route.name}`);
  }

  private routeOf(kind: ItemKind, item: any): { backend: number; name: string } | undefined {
    if (kind === 'tools') return own(this.gw.tools, item?.name);
    if (kind === 'prompts') return own(this.gw.prompts, item?.name);
    if (kind === 'resources') return own(this.gw.resources, item?.uri);
    const t = this.gw.resourceTemplates.find((r) => r.uriTemplate === item?.uriTemplate);
    return t && { backend: t.backend, name: t.uriTemplate };
  }
}

/** A backend counts as serving unless it is down, failed or unhealthy after its first attempt. */
function isServing(b: Backend): boolean {
  return b.state === 'ready' || (b.state === 'connecting' && !b.settled);
}

/** A own-property lookup, safe against names like "constructor". */
export function own<T>(table: Record<string, T>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}
