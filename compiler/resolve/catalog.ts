import type { VmcpConfig } from '../../schemas/vmcp.ts';
import { compareStrings } from '../../runtime/canonical.ts';
import type { Diagnostic, DiagnosticCode, Severity } from '../diagnostics.ts';
import type { Lockfile } from '../lock.ts';
import type { ConfigPath, Locator } from '../config/locate.ts';
import type { ResolvedBackend } from './group.ts';
import { resolvePromptNames } from './prompt-names.ts';
import { resolveToolConflicts } from './tool-conflicts.ts';
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

/**
 * Records a catalog diagnostic at `path` in the config; with `at` and an empty path (or a backend
 * declared in another file), at that backend's declaration instead.
 */
export type AddDiagnostic = (
  code: DiagnosticCode,
  message: string,
  path: ConfigPath,
  hint?: string,
  severity?: Severity,
  at?: ResolvedBackend,
) => void;

/**
 * Resolves the exposed catalog from the config and the lock, with ToolHive's naming rules
 * (pkg/vmcp/aggregator): filters and overrides first, then the tool conflict strategy, prompt
 * naming and URI de-duplication, then name checks. Pure.
 */
export function buildCatalog(
  config: VmcpConfig,
  backends: readonly ResolvedBackend[],
  lock: Lockfile,
  ctx: CatalogContext,
): { value: Catalog; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const byName = new Map(backends.map((b) => [b.name, b]));
  const add: AddDiagnostic = (code, message, path, hint, severity = 'error', at) => {
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
  // ToolHive walks backends in sorted-id order wherever order decides (prompts, URIs).
  const sorted = [...backends].sort((a, b) => compareStrings(a.name, b.name));

  const tools: CatalogEntry[] = [];
  const prompts: CatalogEntry[] = [];
  for (const b of sorted) {
    const entry = lock.backends[b.name];
    if (!entry) continue;
    tools.push(...applyToolRules(config, b, entry, add));
    for (const name of Object.keys(entry.prompts).sort(compareStrings)) {
      prompts.push({ exposed: name, backend: b.name, original: name, def: entry.prompts[name].def });
    }
  }
  const resolvedTools = resolveToolConflicts(tools, config, byName, add);
  const resolvedPrompts = resolvePromptNames(prompts, config, byName, add);
  checkNames('tool', resolvedTools, config.aggregation.nameLimit, byName, add);
  checkNames('prompt', resolvedPrompts, config.aggregation.nameLimit, byName, add);

  const resources = dedupeUris('resource', sorted, lock, 'resources', add);
  const resourceTemplates = dedupeUris('resource template', sorted, lock, 'resourceTemplates', add).map((e) => ({
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

function checkNames(
  kind: 'tool' | 'prompt',
  entries: CatalogEntry[],
  limit: number,
  byName: Map<string, ResolvedBackend>,
  add: AddDiagnostic,
): void {
  for (const e of entries) {
    const at = e.namedAt ?? [];
    const origin = e.namedAt ? undefined : byName.get(e.backend);
    const fix =
      kind === 'tool'
        ? `an override (workload ${e.backend}, overrides.${e.original}.name)`
        : 'a shorter prefixFormat (prompts cannot be renamed by overrides)';
    if (!TOOL_NAME_RE.test(e.exposed)) {
      add(
        'INVALID_NAME',
        `${kind} name "${e.exposed}" (backend "${e.backend}") breaks the MCP name rule ^[A-Za-z0-9._-]{1,128}$`,
        at,
        kind === 'tool'
          ? `rename it with an override: aggregation.tools[] workload ${e.backend}, overrides.${e.original}.name`
          : 'use letters, digits, "_", "-" or "." in prefixFormat',
        'error',
        origin,
      );
    } else if (e.exposed.length > limit) {
      add(
        'NAME_TOO_LONG',
        `${kind} name "${e.exposed}" is ${e.exposed.length} characters, over aggregation.nameLimit (${limit})`,
        at,
        kind === 'tool' ? `shorten it with ${fix}, or a shorter prefixFormat` : `shorten it with ${fix}`,
        'error',
        origin,
      );
    }
  }
}

/**
 * One entry per URI, as ToolHive's dedupeByKey (capability_conflicts.go): URIs are locators and
 * never renamed, so a URI served by several backends is advertised once, by the first backend in
 * sorted-name order, whatever the strategy; each later one is a warning.
 */
function dedupeUris(
  kind: string,
  sorted: readonly ResolvedBackend[],
  lock: Lockfile,
  field: 'resources' | 'resourceTemplates',
  add: AddDiagnostic,
): UriEntry[] {
  const seen = new Map<string, UriEntry>();
  for (const b of sorted) {
    const entry = lock.backends[b.name];
    if (!entry) continue;
    for (const key of Object.keys(entry[field]).sort(compareStrings)) {
      const kept = seen.get(key);
      if (!kept) {
        seen.set(key, { key, backend: b.name, def: entry[field][key].def });
        continue;
      }
      add(
        'DUPLICATE_URI',
        `${kind} "${key}" is served by both "${kept.backend}" and "${b.name}"; only "${kept.backend}"'s is advertised`,
        [],
        `as in ToolHive, a URI is never renamed and the first backend by name keeps it; to reach both, have one server use another URI, or serve "${b.name}" from a second gateway`,
        'warning',
        b,
      );
    }
  }
  return [...seen.values()].sort((a, b) => compareStrings(a.key, b.key));
}
