/**
 * Checks of one tool step against the tool's pinned schema, and the composite's annotations against
 * its steps. Argument values are literals or templates; a template's JSON type comes from
 * template-check.ts when it is known. Pure.
 */
import type { SchemaLike } from './template-check.ts';

/** A step argument as the checks see it: a literal value, or a template with its inferred type. */
export type ArgumentValue = { literal: unknown } | { template: true; type?: string };

/** One finding about a step's arguments; `path` is the argument's key path. */
export interface ArgumentIssue {
  code: 'STEP_MISSING_ARGUMENT' | 'STEP_UNKNOWN_ARGUMENT' | 'STEP_ARGUMENT_TYPE';
  message: string;
  path: string[];
}

/** The JSON type of a literal, as JSON Schema names it. */
export function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** True when a value of type `actual` satisfies a schema of type `wanted` (integer is a number). */
function typeFits(actual: string, wanted: string | string[] | undefined): boolean {
  if (wanted === undefined) return true;
  const list = Array.isArray(wanted) ? wanted : [wanted];
  return list.includes(actual) || (actual === 'integer' && list.includes('number'));
}

/**
 * Checks `args` (top-level and nested literal objects) against the tool's `inputSchema`: required
 * arguments present, no unknown argument where `additionalProperties: false`, and types that match
 * where they are known. `tool` names the tool in messages.
 */
export function checkArguments(
  args: Record<string, ArgumentValue | Record<string, unknown>>,
  schema: SchemaLike & { required?: string[] },
  tool: string,
): ArgumentIssue[] {
  const issues: ArgumentIssue[] = [];
  const walk = (given: Record<string, unknown>, s: SchemaLike & { required?: string[] }, path: string[]) => {
    for (const r of s.required ?? []) {
      if (!Object.hasOwn(given, r))
        issues.push({
          code: 'STEP_MISSING_ARGUMENT',
          message: `tool "${tool}" requires argument "${[...path, r].join('.')}"`,
          path: [...path, r],
        });
    }
    for (const [key, value] of Object.entries(given)) {
      const at = [...path, key];
      const prop = s.properties?.[key];
      if (!prop) {
        if (s.additionalProperties === false) {
          const known = Object.keys(s.properties ?? {});
          issues.push({
            code: 'STEP_UNKNOWN_ARGUMENT',
            message: `tool "${tool}" has no argument "${at.join('.')}"${known.length ? ` (arguments: ${known.join(', ')})` : ''}`,
            path: at,
          });
        }
        continue;
      }
      const v = value as ArgumentValue | Record<string, unknown>;
      if ('template' in v && v.template === true) {
        const t = (v as { type?: string }).type;
        if (t !== undefined && !typeFits(t, prop.type)) issues.push(typeIssue(tool, at, t, prop.type));
      } else if ('literal' in v) {
        const lit = (v as { literal: unknown }).literal;
        const t = jsonTypeOf(lit);
        if (!typeFits(t, prop.type)) issues.push(typeIssue(tool, at, t, prop.type));
        else if (t === 'object' && lit !== null) {
          // Nested values are plain literals: wrap them as the walk expects.
          const nested = Object.entries(lit as Record<string, unknown>).map(([k, x]) => [k, { literal: x }]);
          walk(Object.fromEntries(nested), prop as SchemaLike & { required?: string[] }, at);
        }
      }
    }
  };
  const given: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) given[k] = v;
  walk(given, schema, []);
  return issues;
}

function typeIssue(tool: string, path: string[], actual: string, wanted: string | string[] | undefined): ArgumentIssue {
  const w = Array.isArray(wanted) ? wanted.join(' or ') : wanted;
  return {
    code: 'STEP_ARGUMENT_TYPE',
    message: `tool "${tool}" expects ${w} for "${path.join('.')}", this gives ${actual}`,
    path,
  };
}

/** MCP tool annotations the composite derives from its steps. */
export interface Annotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  openWorldHint?: boolean;
}

/**
 * A composite's annotations from its steps' tools: read-only only if every step is, destructive and
 * open-world if any step is. MCP's defaults apply to a tool that says nothing (not read-only,
 * destructive, open-world), so an unannotated step makes the composite as unsafe as the defaults.
 */
export function deriveAnnotations(steps: readonly (Annotations | undefined)[]): Required<Annotations> {
  return {
    readOnlyHint: steps.every((a) => a?.readOnlyHint === true),
    destructiveHint: steps.some((a) => a?.readOnlyHint !== true && a?.destructiveHint !== false),
    openWorldHint: steps.some((a) => a?.openWorldHint !== false),
  };
}

/** The hints an explicit annotation claims that are safer than the steps allow (an error each). */
export function saferThanSteps(explicit: Annotations, derived: Required<Annotations>): string[] {
  const out: string[] = [];
  if (explicit.readOnlyHint === true && !derived.readOnlyHint)
    out.push('readOnlyHint: true, but a step is not read-only');
  if (explicit.destructiveHint === false && derived.destructiveHint)
    out.push('destructiveHint: false, but a step may be destructive');
  if (explicit.openWorldHint === false && derived.openWorldHint)
    out.push('openWorldHint: false, but a step reaches an open world');
  return out;
}
