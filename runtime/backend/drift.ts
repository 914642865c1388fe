/** Drift detection: the live catalog of a backend against the per-item hashes pinned in the lock. */
import { hashJson } from '../canonical.ts';
import type { Logger } from '../log.ts';
import type { CompiledBackend, DriftPolicy } from '../compiled-gateway.ts';
import type { Peer } from './peer.ts';

/** The four catalog kinds, keyed as in `CompiledBackend.itemHashes`. */
export type ItemKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

/** One difference between the live catalog and the lock. */
export interface DriftItem {
  kind: ItemKind;
  name: string;
  change: 'changed' | 'added' | 'removed';
}

const LISTS: Array<{ kind: ItemKind; method: string; field: string; key: string; capability: string }> = [
  { kind: 'tools', method: 'tools/list', field: 'tools', key: 'name', capability: 'tools' },
  { kind: 'prompts', method: 'prompts/list', field: 'prompts', key: 'name', capability: 'prompts' },
  { kind: 'resources', method: 'resources/list', field: 'resources', key: 'uri', capability: 'resources' },
  {
    kind: 'resourceTemplates',
    method: 'resources/templates/list',
    field: 'resourceTemplates',
    key: 'uriTemplate',
    capability: 'resources',
  },
];
const MAX_PAGES = 1000;

/** Lists every kind the backend advertises, following cursors; items are kept exactly as listed. */
export async function listLiveCatalog(
  peer: Peer,
  capabilities: Record<string, unknown>,
  timeoutMs: number,
): Promise<Record<ItemKind, Map<string, unknown>>> {
  const out = { tools: new Map(), prompts: new Map(), resources: new Map(), resourceTemplates: new Map() } as Record<
    ItemKind,
    Map<string, unknown>
  >;
  for (const l of LISTS) {
    if (!capabilities[l.capability]) continue;
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await peer.request(l.method, cursor === undefined ? {} : { cursor }, timeoutMs);
      const items = Array.isArray(result?.[l.field]) ? result[l.field] : [];
      // Loose parsing: a malformed item is skipped alone, never the whole list (unlike listTools()).
      for (const item of items) {
        const key = item?.[l.key];
        if (typeof key === 'string') out[l.kind].set(key, item);
      }
      cursor = typeof result?.nextCursor === 'string' ? result.nextCursor : undefined;
      if (cursor === undefined) break;
    }
  }
  return out;
}

/** Compares a live catalog with the lock's hashes; kinds the backend does not advertise are skipped. */
export function diffCatalog(
  live: Record<ItemKind, Map<string, unknown>>,
  pinned: CompiledBackend['itemHashes'],
  capabilities: Record<string, unknown>,
): DriftItem[] {
  const out: DriftItem[] = [];
  for (const l of LISTS) {
    const hashes = pinned[l.kind] ?? {};
    if (!capabilities[l.capability]) {
      for (const name of Object.keys(hashes)) out.push({ kind: l.kind, name, change: 'removed' });
      continue;
    }
    for (const [name, item] of live[l.kind]) {
      const want = hashes[name];
      if (want === undefined) out.push({ kind: l.kind, name, change: 'added' });
      else if (want !== hashJson(item)) out.push({ kind: l.kind, name, change: 'changed' });
    }
    for (const name of Object.keys(hashes))
      if (!live[l.kind].has(name)) out.push({ kind: l.kind, name, change: 'removed' });
  }
  return out;
}

/** Logs each drift once (per item and change) and returns the `kind:name` keys that are blocked. */
export function applyDriftPolicy(
  items: DriftItem[],
  policy: DriftPolicy,
  logged: Set<string>,
  log: Logger,
): Set<string> {
  const blocked = new Set<string>();
  for (const item of items) {
    const key = `${item.kind}:${item.name}`;
    if (policy === 'block-changed' && item.change === 'changed') blocked.add(key);
    if (logged.has(`${key}:${item.change}`)) continue;
    logged.add(`${key}:${item.change}`);
    const action =
      policy === 'fail'
        ? 'backend refused'
        : policy === 'warn' || item.change !== 'changed'
          ? 'still served as compiled'
          : 'blocked until the next vmcp compile';
    log.warn(
      { drift: item.change, kind: item.kind, item: item.name, policy },
      `drift: ${item.kind} "${item.name}" ${item.change} since compile; ${action}`,
    );
  }
  return blocked;
}
