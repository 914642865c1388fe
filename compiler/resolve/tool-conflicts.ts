/**
 * Tool name conflicts, settled as ToolHive's resolvers settle them (pkg/vmcp/aggregator:
 * prefix_resolver.go, priority_resolver.go, manual_resolver.go). Names arrive after each backend's
 * filter and overrides, as ToolHive's processBackendTools leaves them. Where ToolHive keeps an
 * arbitrary survivor (Go map order), vmcp refuses the config and the hint says so.
 */
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import { compareStrings } from '../../runtime/canonical.ts';
import type { ConfigPath } from '../config/locate.ts';
import type { AddDiagnostic, CatalogEntry } from './catalog.ts';
import type { ResolvedBackend } from './group.ts';

/** ToolHive's default prefix, also the one its priority resolver falls back to. */
export const DEFAULT_PREFIX_FORMAT = '{workload}_';

/** `prefixFormat` with `{workload}` replaced by the backend, then the name (ToolHive's applyPrefixFormat). */
export function applyPrefixFormat(format: string, backend: string, name: string): string {
  return format.split('{workload}').join(backend) + name;
}

const PRIORITY_ORDER: ConfigPath = ['aggregation', 'conflictResolutionConfig', 'priorityOrder'];

/** Applies the configured strategy to every tool, then refuses any name still claimed twice. */
export function resolveToolConflicts(
  items: CatalogEntry[],
  config: VmcpConfig,
  byName: Map<string, ResolvedBackend>,
  add: AddDiagnostic,
): CatalogEntry[] {
  const agg = config.aggregation;
  const strategy = agg.conflictResolution;
  const candidates =
    strategy === 'prefix'
      ? items.map((e) => rename(e, applyPrefixFormat(agg.conflictResolutionConfig.prefixFormat, e.backend, e.exposed)))
      : strategy === 'priority'
        ? settleByPriority(items, agg.conflictResolutionConfig.priorityOrder, add)
        : items;
  const out: CatalogEntry[] = [];
  for (const [name, claimants] of groupByName(candidates)) {
    if (claimants.length === 1) out.push(claimants[0]);
    else if (strategy === 'manual') reportManualConflict(name, claimants, config, byName, add);
    else reportCollision(name, claimants, strategy, byName, add);
  }
  return out;
}

/**
 * ToolHive's priority resolver: a unique name stays bare; in a conflict the claimant earliest in
 * priorityOrder wins and the others are dropped; when no claimant is ranked, all are kept under the
 * default `{workload}_` prefix (not the configured prefixFormat).
 */
function settleByPriority(items: CatalogEntry[], order: readonly string[], add: AddDiagnostic): CatalogEntry[] {
  const rank = new Map<string, number>();
  order.forEach((b, i) => {
    if (!rank.has(b)) rank.set(b, i);
  });
  const out: CatalogEntry[] = [];
  for (const [name, claimants] of groupByName(items)) {
    if (claimants.length === 1) {
      out.push(claimants[0]);
      continue;
    }
    const ranked = claimants
      .filter((c) => rank.has(c.backend))
      .sort((a, b) => (rank.get(a.backend) ?? 0) - (rank.get(b.backend) ?? 0));
    if (ranked.length === 0) {
      const kept = claimants.map((c) => rename(c, applyPrefixFormat(DEFAULT_PREFIX_FORMAT, c.backend, name)));
      out.push(...kept);
      add(
        'PRIORITY_UNRANKED',
        `tool "${name}" is offered by ${list(claimants.map((c) => `"${c.backend}"`))}, none of them in priorityOrder, so each is kept with the default {workload}_ prefix: ${list(kept.map((k) => k.exposed))}`,
        PRIORITY_ORDER,
        `this is ToolHive's fallback (the default prefix, not prefixFormat); to serve the bare name "${name}", add ${list(
          claimants.map((c) => c.backend),
          'or',
        )} to priorityOrder`,
        'warning',
      );
      continue;
    }
    const winner = ranked[0];
    out.push(winner);
    for (const l of claimants) {
      if (l === winner) continue;
      add(
        'PRIORITY_DROPPED',
        `tool "${name}" of backend "${l.backend}" is hidden: "${winner.backend}" has priority`,
        PRIORITY_ORDER,
        `to keep both, rename one with aggregation.tools[].overrides (workload: ${l.backend}, tool: ${l.original})`,
        'warning',
      );
    }
  }
  return out;
}

/**
 * ToolHive's manual resolver fails start-up listing every unresolved conflict as
 * `<tool>: [b1, b2]`; here each conflict is one error, where its override belongs.
 */
function reportManualConflict(
  name: string,
  claimants: CatalogEntry[],
  config: VmcpConfig,
  byName: Map<string, ResolvedBackend>,
  add: AddDiagnostic,
): void {
  const summary = `${name}: [${claimants.map((c) => c.backend).join(', ')}]`;
  const renamed = claimants.find((c) => c.namedAt);
  if (renamed?.namedAt) {
    add(
      'NAME_CONFLICT',
      `the override of ${renamed.backend}/${renamed.original} creates a tool name conflict: ${summary}`,
      renamed.namedAt,
      'choose a name no other advertised tool has (ToolHive refuses this config too)',
    );
    return;
  }
  // Keep the first claimant's name; the override goes in the next one's aggregation.tools entry.
  const target = claimants[1];
  const index = config.aggregation.tools.findIndex((t) => t.workload === target.backend);
  const entry = index >= 0 ? config.aggregation.tools[index] : undefined;
  const path: ConfigPath =
    index < 0
      ? []
      : entry && Object.keys(entry.overrides).length > 0
        ? ['aggregation', 'tools', index, 'overrides']
        : ['aggregation', 'tools', index];
  const snippet = claimants
    .slice(1)
    .map(
      (c) =>
        `  - workload: ${c.backend}\n    overrides:\n      ${c.original}:\n        name: ${applyPrefixFormat(DEFAULT_PREFIX_FORMAT, c.backend, c.original)}`,
    )
    .join('\n');
  add(
    'NAME_CONFLICT',
    `unresolved tool name conflict under the manual strategy: ${summary}`,
    path,
    `rename all but one with an override; in aggregation.tools, for example:\n${snippet}`,
    'error',
    byName.get(target.backend),
  );
}

/** A name still claimed twice after prefixing or priority's fallback: ToolHive keeps an arbitrary one. */
function reportCollision(
  name: string,
  claimants: CatalogEntry[],
  strategy: 'prefix' | 'priority',
  byName: Map<string, ResolvedBackend>,
  add: AddDiagnostic,
): void {
  const renamed = claimants.find((c) => c.namedAt);
  const how = strategy === 'prefix' ? 'after prefixing' : "after priority's {workload}_ fallback";
  add(
    'NAME_CONFLICT',
    `tool name "${name}" is claimed ${how} by ${claimants.length} tools: ${list(claimants.map((c) => `${c.backend}/${c.original}`))}`,
    renamed?.namedAt ?? [],
    `ToolHive would keep whichever it happened to read first (not stable across restarts) and drop the others; rename one with an override${strategy === 'prefix' ? ', or change prefixFormat' : ''}`,
    'error',
    renamed ? undefined : byName.get(claimants[claimants.length - 1].backend),
  );
}

function rename(e: CatalogEntry, exposed: string): CatalogEntry {
  return { ...e, exposed, def: { ...e.def, name: exposed } };
}

/** Claimants by exposed name, names sorted, claimants in backend order. */
function groupByName(items: readonly CatalogEntry[]): [string, CatalogEntry[]][] {
  const groups = new Map<string, CatalogEntry[]>();
  for (const e of items) groups.set(e.exposed, [...(groups.get(e.exposed) ?? []), e]);
  return [...groups.entries()]
    .sort((a, b) => compareStrings(a[0], b[0]))
    .map(([n, cs]) => [
      n,
      cs.sort((a, b) => compareStrings(a.backend, b.backend) || compareStrings(a.original, b.original)),
    ]);
}

/** ['a', 'b', 'c'] → "a, b and c". */
function list(items: readonly string[], conjunction = 'and'): string {
  return items.length <= 1
    ? (items[0] ?? '')
    : `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}
