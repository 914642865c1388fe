import type { VmcpConfig } from '../../schemas/vmcp.ts';
import { compareStrings } from '../../runtime/canonical.ts';
import type { Diagnostic, DiagnosticCode, Severity } from '../diagnostics.ts';
import type { Lockfile, LockedBackend } from '../lock.ts';
import type { ConfigPath, Locator } from '../config/locate.ts';
import type { ResolvedBackend } from './group.ts';
import { applyToolRules } from './tool-rules.ts';
import { templatePattern } from './uri-template.ts';

/** One exposed tool or prompt: its public name, where it routes, and the definition as served. */
export interface CatalogEntry {
  exposed: string;
  backend: string;
  original: string;
  def: Record<string, unknown>;
  /** Where its name was decided (an override), for diagnostics; else the backend's declaration. */
  namedAt?: ConfigPath;
}

/** One exposed resource (exact URI) or template. */
export interface UriEntry {
  key: string;
  backend: string;
  def: Record<string, unknown>;
  pattern?: string;
}

/** The resolved surface of the gateway. Every list is sorted. */
export interface Catalog {
  tools: CatalogEntry[];
  prompts: CatalogEntry[];
  resources: UriEntry[];
  resourceTemplates: UriEntry[];
}

/** Inputs of catalog resolution, normalized once. */
export interface CatalogContext {
  file: string;
  locator: Locator;
}

/** The MCP tool-name rule. */
export const TOOL_NAME_RE = /^[A-Za-z0-9._-]{1,128}$/;

type Add = (
  code: DiagnosticCode,
  message: string,
  path: ConfigPath,
  hint?: string,
  severity?: Severity,
  at?: ResolvedBackend,
) => void;

/**
 * Resolves the exposed catalog from the config and the lock: filters and overrides first, then the
 * conflict strategy, then name checks. Pure.
 */
export function buildCatalog(
  config: VmcpConfig,
  backends: readonly ResolvedBackend[],
  lock: Lockfile,
  ctx: CatalogContext,
): { value: Catalog; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const byName = new Map(backends.map((b) => [b.name, b]));
  const add: Add = (code, message, path, hint, severity = 'error', at) => {
    const useOrigin = at && (path.length === 0 || at.origin.file !== ctx.file);
    const loc = useOrigin ? at.origin.locator.at(at.origin.path) : locate(ctx.locator, path);
    diagnostics.push({
      code,
      severity,
      message,
      file: useOrigin ? at.origin.file : ctx.file,
      line: loc.line,
      column: loc.column,
      endLine: loc.endLine,
      endColumn: loc.endColumn,
      ...(hint ? { hint } : {}),
    });
  };
  const locked = (name: string): LockedBackend | undefined => lock.backends[name];

  const tools: CatalogEntry[] = [];
  const prompts: CatalogEntry[] = [];
  for (const b of backends) {
    const entry = locked(b.name);
    if (!entry) continue;
    tools.push(...applyToolRules(config, b, entry, add));
    for (const name of Object.keys(entry.prompts).sort(compareStrings)) {
      prompts.push({ exposed: name, backend: b.name, original: name, def: entry.prompts[name].def });
    }
  }
  const strategy = config.aggregation.conflictResolution;
  const resolvedTools = resolveConflicts('tool', tools, config, byName, add);
  const resolvedPrompts = resolveConflicts('prompt', prompts, config, byName, add);
  checkNames('tool', resolvedTools, config.aggregation.nameLimit, byName, add);
  checkNames('prompt', resolvedPrompts, config.aggregation.nameLimit, byName, add);

  const resources = resolveUris('resource', backends, lock, 'resources', strategy, config, add);
  const resourceTemplates = resolveUris(
    'resource template',
    backends,
    lock,
    'resourceTemplates',
    strategy,
    config,
    add,
  ).map((e) => ({
    ...e,
    pattern: templatePattern(e.key),
  }));
  return { value: { tools: resolvedTools, prompts: resolvedPrompts, resources, resourceTemplates }, diagnostics };
}

/** A scalar's value, or the key of a block value (`search:` above its override mapping). */
function locate(locator: Locator, path: ConfigPath) {
  const value = locator.at(path, 'value');
  const key = locator.at(path, 'key');
  return path.length && value.line !== key.line ? key : value;
}

function resolveConflicts(
  kind: 'tool' | 'prompt',
  items: CatalogEntry[],
  config: VmcpConfig,
  byName: Map<string, ResolvedBackend>,
  add: Add,
): CatalogEntry[] {
  const agg = config.aggregation;
  let candidates = items;
  if (agg.conflictResolution === 'prefix') {
    const fmt = agg.conflictResolutionConfig.prefixFormat;
    candidates = items.map((e) => {
      const exposed = fmt.split('{workload}').join(e.backend) + e.exposed;
      return { ...e, exposed, def: { ...e.def, name: exposed } };
    });
  }
  const groups = new Map<string, CatalogEntry[]>();
  for (const e of candidates) groups.set(e.exposed, [...(groups.get(e.exposed) ?? []), e]);
  const out: CatalogEntry[] = [];
  const order = agg.conflictResolutionConfig.priorityOrder;
  const rank = (b: string) => (order.includes(b) ? order.indexOf(b) : Number.MAX_SAFE_INTEGER);
  for (const [name, claimants] of [...groups.entries()].sort((a, b) => compareStrings(a[0], b[0]))) {
    if (claimants.length === 1) {
      out.push(claimants[0]);
      continue;
    }
    const list = claimants.map((c) => `${c.backend}/${c.original}`).join(', ');
    if (agg.conflictResolution === 'priority') {
      const sorted = [...claimants].sort(
        (a, b) => rank(a.backend) - rank(b.backend) || compareStrings(a.backend, b.backend),
      );
      const [winner, ...losers] = sorted;
      if (rank(winner.backend) === Number.MAX_SAFE_INTEGER) {
        add(
          'NAME_CONFLICT',
          `${kind} "${name}" is claimed by ${list}, and none of them is in priorityOrder`,
          ['aggregation', 'conflictResolutionConfig', 'priorityOrder'],
          `add ${claimants.map((c) => c.backend).join(' or ')} to priorityOrder`,
        );
        continue;
      }
      out.push(winner);
      for (const l of losers) {
        add(
          'PRIORITY_DROPPED',
          `${kind} "${name}" of backend "${l.backend}" is hidden: "${winner.backend}" has priority`,
          ['aggregation', 'conflictResolutionConfig', 'priorityOrder'],
          kind === 'tool'
            ? `to keep both, rename one with aggregation.tools[].overrides (workload: ${l.backend}, tool: ${l.original})`
            : undefined,
          'warning',
        );
      }
      continue;
    }
    const where = claimants.find((c) => c.namedAt)?.namedAt ?? ['aggregation', 'conflictResolution'];
    const hint =
      kind === 'prompt'
        ? 'prompts cannot be renamed by overrides; use the prefix or priority strategy, or remove one backend'
        : agg.conflictResolution === 'manual'
          ? `rename all but one in aggregation.tools[].overrides: ${claimants.map((c) => `workload ${c.backend}, tool ${c.original}`).join('; ')}`
          : 'the prefixed names still collide; include {workload} in prefixFormat or rename with an override';
    add(
      'NAME_CONFLICT',
      `${kind} name "${name}" is claimed by ${claimants.length} backends: ${list}`,
      where,
      hint,
      'error',
      claimants[0].namedAt ? undefined : byName.get(claimants[0].backend),
    );
  }
  return out;
}

function checkNames(
  kind: 'tool' | 'prompt',
  entries: CatalogEntry[],
  limit: number,
  byName: Map<string, ResolvedBackend>,
  add: Add,
): void {
  for (const e of entries) {
    const at = e.namedAt ?? [];
    const origin = e.namedAt ? undefined : byName.get(e.backend);
    if (!TOOL_NAME_RE.test(e.exposed)) {
      add(
        'INVALID_NAME',
        `${kind} name "${e.exposed}" (backend "${e.backend}") breaks the MCP name rule ^[A-Za-z0-9._-]{1,128}$`,
        at,
        `rename it with an override: aggregation.tools[] workload ${e.backend}, overrides.${e.original}.name`,
        'error',
        origin,
      );
    } else if (e.exposed.length > limit) {
      add(
        'NAME_TOO_LONG',
        `${kind} name "${e.exposed}" is ${e.exposed.length} characters, over aggregation.nameLimit (${limit})`,
        at,
        `shorten it with an override (workload ${e.backend}, overrides.${e.original}.name), or a shorter prefixFormat`,
        'error',
        origin,
      );
    }
  }
}

function resolveUris(
  kind: string,
  backends: readonly ResolvedBackend[],
  lock: Lockfile,
  field: 'resources' | 'resourceTemplates',
  strategy: string,
  config: VmcpConfig,
  add: Add,
): UriEntry[] {
  const seen = new Map<string, UriEntry>();
  const order = config.aggregation.conflictResolutionConfig.priorityOrder;
  const rank = (b: string) => (order.includes(b) ? order.indexOf(b) : Number.MAX_SAFE_INTEGER);
  const byName = new Map(backends.map((b) => [b.name, b]));
  for (const b of backends) {
    const entry = lock.backends[b.name];
    if (!entry) continue;
    for (const key of Object.keys(entry[field]).sort(compareStrings)) {
      const candidate = { key, backend: b.name, def: entry[field][key].def };
      const prev = seen.get(key);
      if (!prev) {
        seen.set(key, candidate);
        continue;
      }
      if (strategy === 'priority' && rank(prev.backend) !== rank(b.name)) {
        const [win, lose] = rank(prev.backend) < rank(b.name) ? [prev, candidate] : [candidate, prev];
        seen.set(key, win);
        add(
          'DUPLICATE_URI',
          `${kind} "${key}" of backend "${lose.backend}" is hidden: "${win.backend}" has priority`,
          ['aggregation', 'conflictResolutionConfig', 'priorityOrder'],
          undefined,
          'warning',
        );
      } else {
        add(
          'DUPLICATE_URI',
          `${kind} "${key}" is served by both "${prev.backend}" and "${b.name}"`,
          [],
          'URIs cannot be renamed; use the priority strategy to pick one, or remove one backend',
          'error',
          byName.get(b.name),
        );
      }
    }
  }
  return [...seen.values()].sort((a, b) => compareStrings(a.key, b.key));
}
