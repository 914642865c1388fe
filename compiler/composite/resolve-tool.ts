/**
 * What a step's `tool` names: an advertised tool, or `backend.originalName`. Composites may call a
 * tool that `filter` or `excludeAll` hides from clients (as ToolHive allows), but only by
 * `backend.originalName`, so a hidden tool is never reached by a name the gateway does not
 * advertise. A tool of a backend pinned as absent cannot be checked and is an error. Pure.
 */
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import type { Lockfile } from '../lock.ts';
import type { Catalog, CatalogEntry } from '../resolve/catalog.ts';
import type { ResolvedBackend } from '../resolve/group.ts';
import { suggest } from '../config/suggest.ts';

/** A resolved step tool: its backend, its name there, and its definitions. */
export interface ResolvedTool {
  /** The advertised name, when the tool is advertised. */
  exposed?: string;
  backend: string;
  /** Index into the group (and so into CompiledGateway.backends). */
  backendIndex: number;
  original: string;
  /** The pinned definition (inputSchema, outputSchema). */
  pinned: Record<string, unknown>;
  /** The definition as served (overrides applied), or the pinned one for a hidden tool. */
  served: Record<string, unknown>;
}

/** Why a name did not resolve, ready for a diagnostic. */
export interface ToolProblem {
  code: 'STEP_UNKNOWN_TOOL' | 'STEP_HIDDEN_TOOL' | 'STEP_ABSENT_BACKEND';
  message: string;
  hint: string;
}

/** The name lookups of one compile, built once. */
export interface ToolIndex {
  resolve(name: string): { tool: ResolvedTool } | { problem: ToolProblem };
  /** Every advertised name. */
  exposedNames: ReadonlySet<string>;
}

/** Indexes the catalog and the lock for step tool lookups. */
export function indexTools(
  config: VmcpConfig,
  backends: readonly ResolvedBackend[],
  lock: Lockfile,
  catalog: Catalog,
): ToolIndex {
  const byExposed = new Map(catalog.tools.map((t) => [t.exposed, t]));
  const byOriginal = new Map(catalog.tools.map((t) => [`${t.backend}\u0000${t.original}`, t]));
  const indexOf = new Map(backends.map((b, i) => [b.name, i]));
  const qualified: string[] = [];
  // Names a hidden tool would have had if it were advertised: its own, its override, prefixed.
  const hiddenAliases = new Map<string, string>();
  const agg = config.aggregation;
  const prefix = (b: string) =>
    agg.conflictResolution === 'prefix' ? agg.conflictResolutionConfig.prefixFormat.split('{workload}').join(b) : '';
  for (const b of backends) {
    const entry = lock.backends[b.name];
    for (const original of Object.keys(entry?.tools ?? {})) {
      qualified.push(`${b.name}.${original}`);
      if (byOriginal.has(`${b.name}\u0000${original}`)) continue;
      const renamed = agg.tools.find((t) => t.workload === b.name)?.overrides[original]?.name;
      for (const n of [original, renamed].filter((x): x is string => x !== undefined)) {
        for (const alias of [n, prefix(b.name) + n])
          if (!byExposed.has(alias)) hiddenAliases.set(alias, `${b.name}.${original}`);
      }
    }
  }
  const toResolved = (e: CatalogEntry | undefined, backend: string, original: string): ResolvedTool => {
    const pinned = lock.backends[backend].tools[original].def;
    return {
      ...(e ? { exposed: e.exposed } : {}),
      backend,
      backendIndex: indexOf.get(backend)!,
      original,
      pinned,
      served: e?.def ?? pinned,
    };
  };
  return {
    exposedNames: new Set(byExposed.keys()),
    resolve(name) {
      const e = byExposed.get(name);
      if (e) return { tool: toResolved(e, e.backend, e.original) };
      // backend.originalName: backend and tool names may both hold dots, so try every split.
      for (let i = name.indexOf('.'); i > 0; i = name.indexOf('.', i + 1)) {
        const backend = name.slice(0, i);
        const original = name.slice(i + 1);
        const entry = indexOf.has(backend) ? lock.backends[backend] : undefined;
        if (!entry) continue;
        if (entry.status === 'absent') {
          return {
            problem: {
              code: 'STEP_ABSENT_BACKEND',
              message: `step tool "${name}" belongs to backend "${backend}", which is pinned as absent in the lock, so its schema cannot be checked`,
              hint: `start ${backend} and run vmcp compile again to pin its tools (without --allow-missing)`,
            },
          };
        }
        if (entry.tools[original])
          return { tool: toResolved(byOriginal.get(`${backend}\u0000${original}`), backend, original) };
      }
      const hidden = hiddenAliases.get(name);
      if (hidden) {
        return {
          problem: {
            code: 'STEP_HIDDEN_TOOL',
            message: `step tool "${name}" is not advertised (aggregation.tools hides it with filter or excludeAll)`,
            hint: `composites may call hidden tools by backend.originalName: use "${hidden}"`,
          },
        };
      }
      const guess = suggest(name, [...byExposed.keys(), ...qualified]);
      return {
        problem: {
          code: 'STEP_UNKNOWN_TOOL',
          message: `step tool "${name}" is neither an advertised tool nor backend.originalName of a pinned tool`,
          hint: guess
            ? `did you mean "${guess}"?`
            : `advertised tools: ${[...byExposed.keys()].slice(0, 8).join(', ') || '(none)'}`,
        },
      };
    },
  };
}
