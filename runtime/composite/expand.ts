/**
 * Step arguments and conditions evaluated against the workflow's template data. Arguments are an
 * `Expansion` tree settled at compile time: literals are reused as they are, and a template that is
 * one action alone keeps its JSON type (`{{.params.count}}` stays a number).
 */
import { WorkflowError } from './errors.ts';
import type { Expansion } from './plan.ts';
import type { Template } from './template-ast.ts';
import { evaluateTemplate, TemplateRuntimeError } from './template-eval.ts';

/** An argument whose template failed, with the path to it: `query.filters[2]`. */
class ExpandError extends Error {
  constructor(
    readonly path: string,
    readonly inner: unknown,
  ) {
    super(inner instanceof Error ? inner.message : String(inner));
  }
}

/** The arguments of one call. Throws WorkflowError naming the argument when a template fails. */
export function expandArguments(e: Expansion, data: unknown, stepId: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = expand(e, data);
  } catch (err) {
    const where = err instanceof ExpandError ? err.path : '';
    const cause = err instanceof ExpandError ? err.inner : err;
    throw new WorkflowError(`argument ${where ? `"${where}" ` : ''}of step "${stepId}": ${describe(cause)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new WorkflowError(`the arguments of step "${stepId}" must be an object`);
  return value as Record<string, unknown>;
}

function expand(e: Expansion, data: unknown): unknown {
  if ('lit' in e) return e.lit;
  if ('tpl' in e) return evaluateTemplate(e.tpl, data);
  if ('obj' in e) {
    const out: Record<string, unknown> = {};
    for (const key in e.obj) {
      let v: unknown;
      try {
        v = expand(e.obj[key], data);
      } catch (err) {
        throw wrap(key, err);
      }
      // A whole-value template of a missing field leaves the argument out (JSON has no undefined).
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
  const out = new Array<unknown>(e.arr.length);
  for (let i = 0; i < e.arr.length; i++) {
    try {
      out[i] = expand(e.arr[i], data);
    } catch (err) {
      throw wrap(`[${i}]`, err);
    }
  }
  return out;
}

// Paths are built only on the way out of a failure, so the happy path concatenates nothing.
function wrap(segment: string, err: unknown): ExpandError {
  if (!(err instanceof ExpandError)) return new ExpandError(segment, err);
  const sep = err.path.startsWith('[') ? '' : '.';
  return new ExpandError(segment + sep + err.path, err.inner);
}

/** A template failure as text, with its offset: `index out of range: 3 (at offset 2)`. */
export function describe(err: unknown): string {
  if (err instanceof TemplateRuntimeError) return `${err.message} (at offset ${err.at})`;
  return err instanceof Error ? err.message : String(err);
}

/** A step's condition: a boolean, or text "true"/"false" in any case; anything else is an error. */
export function evaluateCondition(t: Template, data: unknown, stepId: string): boolean {
  let v: unknown;
  try {
    v = evaluateTemplate(t, data);
  } catch (err) {
    throw new WorkflowError(`the condition of step "${stepId}" failed: ${describe(err)}`);
  }
  if (typeof v === 'boolean') return v;
  const text = typeof v === 'string' ? v.trim().toLowerCase() : undefined;
  if (text === 'true') return true;
  if (text === 'false') return false;
  const shown = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? '<no value>' : JSON.stringify(v);
  throw new WorkflowError(`the condition of step "${stepId}" must render "true" or "false", got ${shown}`);
}
