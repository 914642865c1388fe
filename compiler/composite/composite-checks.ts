/**
 * Checks over a whole composite once its steps are compiled: reads of a skippable step's output
 * need defaultResults (per field, as ToolHive checks), and explicit annotations may not claim to
 * be safer than the steps' tools (derived: readOnlyHint AND, destructiveHint and openWorldHint OR). Pure.
 */
import type { CompositeToolConfig } from '../../schemas/vmcp.ts';
import type { ConfigPath } from '../config/locate.ts';
import type { OutputRead } from './compile-template.ts';
import type { Reporter } from './place.ts';
import type { ResolvedTool } from './resolve-tool.ts';
import { deriveAnnotations, saferThanSteps, type Annotations } from './step-checks.ts';

/** A read of a skippable step's output needs a fallback: defaultResults with that field. */
export function checkDefaultResults(ct: CompositeToolConfig, reads: OutputRead[], rep: Reporter): void {
  const byId = new Map(ct.steps.map((s) => [s.id, s]));
  const done = new Set<string>();
  for (const r of reads) {
    const s = byId.get(r.step);
    if (!s) continue;
    const why =
      s.condition !== undefined
        ? 'it has a condition'
        : s.onError?.action === 'continue'
          ? 'it has onError: continue'
          : undefined;
    if (!why) continue;
    const key = `${r.step}\u0000${r.field}\u0000${r.path.join('.')}`;
    if (done.has(key)) continue;
    done.add(key);
    const read = `.steps.${r.step}.output${r.field !== undefined ? `.${r.field}` : ''}`;
    const dr = s.defaultResults;
    if (dr === undefined)
      rep.inTemplate(
        'DEFAULT_RESULTS_REQUIRED',
        `${read} is read here, but step "${r.step}" may be skipped (${why}) and has no defaultResults`,
        r.path,
        r.at,
        `add defaultResults: {${r.field ?? 'field'}: <fallback>} to step "${r.step}"`,
      );
    else if (r.field !== undefined && dr !== null && typeof dr === 'object' && !Object.hasOwn(dr, r.field))
      rep.inTemplate(
        'DEFAULT_RESULTS_REQUIRED',
        `${read} is read here, but the defaultResults of step "${r.step}" (which may be skipped: ${why}) have no "${r.field}"`,
        r.path,
        r.at,
        `add ${r.field}: <fallback> to the defaultResults of step "${r.step}"`,
      );
  }
}

/** Derived from the steps' tools; explicit hints merge over them unless they claim to be safer. */
export function checkAnnotations(
  ct: CompositeToolConfig,
  base: ConfigPath,
  resolved: Array<ResolvedTool | undefined>,
  rep: Reporter,
): Record<string, unknown> {
  const stepTools = resolved.flatMap((t, i) => (t ? [{ id: ct.steps[i].id, tool: t }] : []));
  const of = (t: ResolvedTool) => t.served.annotations as Annotations | undefined;
  const derived = deriveAnnotations(stepTools.map((s) => of(s.tool)));
  const explicit = (ct.annotations ?? {}) as Annotations & Record<string, unknown>;
  const culprits: Record<string, (a: Annotations | undefined) => boolean> = {
    readOnlyHint: (a) => a?.readOnlyHint !== true,
    destructiveHint: (a) => a?.readOnlyHint !== true && a?.destructiveHint !== false,
    openWorldHint: (a) => a?.openWorldHint !== false,
  };
  for (const claim of saferThanSteps(explicit, derived)) {
    const key = claim.split(':')[0];
    const steps = stepTools
      .filter((s) => culprits[key](of(s.tool)))
      .map((s) => `${s.id} (${s.tool.exposed ?? `${s.tool.backend}.${s.tool.original}`})`);
    rep.at(
      'COMPOSITE_UNSAFE_ANNOTATIONS',
      `composite "${ct.name}" claims ${claim}: ${steps.join(', ')}`,
      [...base, 'annotations', key],
      `remove ${key} (the derived value is ${String(derived[key as keyof typeof derived])}), or change the steps`,
    );
  }
  return { ...derived, ...explicit };
}
