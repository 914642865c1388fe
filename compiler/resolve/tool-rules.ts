import type { VmcpConfig } from '../../schemas/vmcp.ts';
import { compareStrings } from '../../runtime/canonical.ts';
import type { LockedBackend } from '../lock.ts';
import type { ConfigPath } from '../config/locate.ts';
import { suggest } from '../config/suggest.ts';
import type { AddDiagnostic, CatalogEntry } from './catalog.ts';
import type { ResolvedBackend } from './group.ts';

/**
 * Applies a backend's tool filter, exclusions and overrides (before conflict resolution, as
 * ToolHive does). Filter entries may name the original or the overridden name.
 * With `defaultToolVisibility: deny`, only tools named by a filter or an override are exposed.
 */
export function applyToolRules(
  config: VmcpConfig,
  b: ResolvedBackend,
  entry: LockedBackend,
  add: AddDiagnostic,
): CatalogEntry[] {
  const agg = config.aggregation;
  const index = agg.tools.findIndex((t) => t.workload === b.name);
  const rules = index >= 0 ? agg.tools[index] : undefined;
  const base: ConfigPath = ['aggregation', 'tools', index];
  const names = Object.keys(entry.tools).sort(compareStrings);
  const absent = entry.status === 'absent';

  // Every override and filter entry must name a real tool: caught here, not at runtime. Stricter
  // than ToolHive, which ignores such an entry (the hint says so).
  const unknown = (name: string, what: string) => {
    const guess = suggest(name, names);
    return `${guess ? `did you mean "${guess}"?` : `its tools: ${names.join(', ') || '(none)'}`}; ToolHive would ignore this ${what} without a word`;
  };
  for (const original of Object.keys(rules?.overrides ?? {})) {
    if (!absent && !entry.tools[original]) {
      add(
        'UNKNOWN_TOOL',
        `override names tool "${original}", which backend "${b.name}" does not have`,
        [...base, 'overrides', original],
        unknown(original, 'override'),
      );
    }
  }
  const overriddenNames = new Map(Object.entries(rules?.overrides ?? {}).map(([orig, o]) => [o.name ?? orig, orig]));
  rules?.filter?.forEach((f, i) => {
    if (!absent && !entry.tools[f] && !overriddenNames.has(f)) {
      add(
        'UNKNOWN_TOOL',
        `filter names tool "${f}", which backend "${b.name}" does not have`,
        [...base, 'filter', i],
        unknown(f, 'filter entry (it would match nothing)'),
      );
    }
  });

  if (agg.excludeAllTools || rules?.excludeAll) return [];
  const filter = rules?.filter ? new Set(rules.filter) : undefined;
  const out: CatalogEntry[] = [];
  for (const original of names) {
    const o = rules?.overrides[original];
    const name = o?.name ?? original;
    const listed = filter
      ? filter.has(original) || filter.has(name)
      : agg.defaultToolVisibility === 'allow' || o !== undefined;
    if (!listed) continue;
    let def = entry.tools[original].def;
    if (o) {
      def = { ...def, name };
      if (o.description !== undefined) def.description = o.description;
      if (o.annotations) def.annotations = { ...((def.annotations as object) ?? {}), ...o.annotations };
    }
    out.push({
      exposed: name,
      backend: b.name,
      original,
      def,
      ...(o?.name ? { namedAt: [...base, 'overrides', original, 'name'] } : {}),
    });
  }
  return out;
}
