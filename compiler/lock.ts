import type { LockedEmbeddings } from './optimizer/embeddings.ts';
import { compareStrings, hashJson, stableJson } from '../runtime/canonical.ts';
import type { TransportKind } from '../runtime/compiled-gateway.ts';
import { type PinnedGroup, sortPinnedGroup } from './resolve/group-pin.ts';

/** The current lockfile format version. */
export const LOCKFILE_VERSION = 1;

/** What identifies a backend: if this changes, the pinned catalog no longer describes it. */
export interface BackendIdentity {
  transport: TransportKind;
  command?: string;
  args?: string[];
  url?: string;
}

/** One pinned catalog item: its definition exactly as listed, and its content hash. */
export interface LockedItem {
  hash: string;
  def: Record<string, unknown>;
}

/** The pinned catalog kinds, in a fixed order. */
export const CATALOG_KINDS = ['tools', 'prompts', 'resources', 'resourceTemplates'] as const;
/** One of the pinned catalog kinds. */
export type CatalogKind = (typeof CATALOG_KINDS)[number];

/** One backend in the lock. Items are keyed by name (tools, prompts), URI or URI template. */
export interface LockedBackend {
  identity: BackendIdentity;
  status: 'ok' | 'absent';
  serverInfo?: Record<string, unknown>;
  protocolVersion?: string;
  capabilities?: Record<string, unknown>;
  instructions?: string;
  tools: Record<string, LockedItem>;
  prompts: Record<string, LockedItem>;
  resources: Record<string, LockedItem>;
  resourceTemplates: Record<string, LockedItem>;
  /** Hash over identity, server info, capabilities and every item hash. */
  hash: string;
}

/** The whole `vmcp.lock.json`. */
export interface Lockfile {
  lockfileVersion: number;
  backends: Record<string, LockedBackend>;
  /** The looked-up `groupRef`: its source, members and skipped members (absent when groupRef is a label). */
  group?: PinnedGroup;
  /** The optimizer's catalog embeddings (optimizer.embeddingService), by text hash. */
  embeddings?: LockedEmbeddings;
}

/** The key an item is pinned under: name for tools and prompts, uri / uriTemplate for the others. */
export function itemKey(kind: CatalogKind, def: Record<string, unknown>): string | undefined {
  const key = kind === 'resources' ? def.uri : kind === 'resourceTemplates' ? def.uriTemplate : def.name;
  return typeof key === 'string' ? key : undefined;
}

/** Wraps a listed definition with its content hash. */
export function lockItem(def: Record<string, unknown>): LockedItem {
  return { hash: hashJson(def), def };
}

/** Computes a backend's hash from everything pinned about it except the hash itself. */
export function hashBackend(b: Omit<LockedBackend, 'hash'>): string {
  const items: Record<string, Record<string, string>> = {};
  for (const kind of CATALOG_KINDS) {
    items[kind] = Object.fromEntries(Object.entries(b[kind]).map(([k, v]) => [k, v.hash]));
  }
  return hashJson({
    identity: b.identity,
    status: b.status,
    serverInfo: b.serverInfo,
    protocolVersion: b.protocolVersion,
    capabilities: b.capabilities,
    instructions: b.instructions,
    items,
  });
}

/** Builds a lock entry for a backend that could not be reached (`--allow-missing`). */
export function absentBackend(identity: BackendIdentity): LockedBackend {
  const b = { identity, status: 'absent' as const, tools: {}, prompts: {}, resources: {}, resourceTemplates: {} };
  return { ...b, hash: hashBackend(b) };
}

/** Serializes a lockfile: sorted keys, 2-space indent, trailing newline, no timestamps. */
export function serializeLock(lock: Lockfile): string {
  const backends: Record<string, LockedBackend> = {};
  for (const name of Object.keys(lock.backends).sort(compareStrings)) backends[name] = lock.backends[name];
  return stableJson({
    lockfileVersion: lock.lockfileVersion,
    backends,
    ...(lock.group ? { group: sortPinnedGroup(lock.group) } : {}),
    ...(lock.embeddings ? { embeddings: lock.embeddings } : {}),
  });
}

/** Compares two identities; `undefined` fields and empty arg lists are equivalent. */
export function sameIdentity(a: BackendIdentity, b: BackendIdentity): boolean {
  return hashJson(normalizeIdentity(a)) === hashJson(normalizeIdentity(b));
}

function normalizeIdentity(i: BackendIdentity): BackendIdentity {
  return { transport: i.transport, command: i.command, args: i.args?.length ? i.args : undefined, url: i.url };
}
