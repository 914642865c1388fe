/**
 * Advertised prompt names, as ToolHive forms them (pkg/vmcp/aggregator/capability_conflicts.go,
 * resolvePromptConflicts, with promptNamingFromConfig in conflict_resolver.go). Prompts have no
 * overrides, and their name does not depend on which other backends are in the group.
 */
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import { compareStrings } from '../../runtime/canonical.ts';
import type { AddDiagnostic, CatalogEntry } from './catalog.ts';
import type { ResolvedBackend } from './group.ts';
import { applyPrefixFormat } from './tool-conflicts.ts';

/**
 * Every prompt is prefixed with `prefixFormat`, whatever the tool strategy, except under `priority`:
 * there a backend listed in priorityOrder keeps bare names (a bare-name clash among listed backends
 * goes to the higher rank) and the others stay prefixed. A name two backends compose to in any
 * other way has no owner: every claimant is dropped, with a warning (ToolHive logs an error and
 * keeps serving).
 */
export function resolvePromptNames(
  prompts: CatalogEntry[],
  config: VmcpConfig,
  byName: Map<string, ResolvedBackend>,
  add: AddDiagnostic,
): CatalogEntry[] {
  const crc = config.aggregation.conflictResolutionConfig;
  const rank = new Map<string, number>();
  if (config.aggregation.conflictResolution === 'priority') {
    crc.priorityOrder.forEach((b, i) => {
      if (!rank.has(b)) rank.set(b, i);
    });
  }
  const groups = new Map<string, CatalogEntry[]>();
  for (const p of prompts) {
    const exposed = rank.has(p.backend) ? p.original : applyPrefixFormat(crc.prefixFormat, p.backend, p.original);
    const entry = { ...p, exposed, def: { ...p.def, name: exposed } };
    groups.set(exposed, [...(groups.get(exposed) ?? []), entry]);
  }
  const out: CatalogEntry[] = [];
  for (const [name, claimants] of [...groups.entries()].sort((a, b) => compareStrings(a[0], b[0]))) {
    claimants.sort((a, b) => compareStrings(a.backend, b.backend));
    if (claimants.length === 1) {
      out.push(claimants[0]);
      continue;
    }
    const unranked = claimants.find((c) => !rank.has(c.backend));
    if (unranked) {
      add(
        'PROMPT_DROPPED',
        `prompt name "${name}" is claimed by ${claimants.map((c) => `${c.backend}/${c.original}`).join(', ')}, so none of them is advertised`,
        [],
        'the name is ambiguous between backends; ToolHive drops every claimant too. Rename a backend, or change prefixFormat, so the names differ',
        'warning',
        byName.get(unranked.backend),
      );
      continue;
    }
    const [winner, ...losers] = [...claimants].sort((a, b) => (rank.get(a.backend) ?? 0) - (rank.get(b.backend) ?? 0));
    out.push(winner);
    for (const l of losers) {
      add(
        'PRIORITY_DROPPED',
        `prompt "${name}" of backend "${l.backend}" is hidden: "${winner.backend}" has priority`,
        ['aggregation', 'conflictResolutionConfig', 'priorityOrder'],
        `prompts cannot be renamed; to keep it, leave "${l.backend}" out of priorityOrder, and its prompts are advertised prefixed (${applyPrefixFormat(crc.prefixFormat, l.backend, l.original)})`,
        'warning',
      );
    }
  }
  return out;
}
