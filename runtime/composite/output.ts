/**
 * The workflow's output built from `output.properties`, as ToolHive builds it: each `value` template
 * is rendered and coerced to the declared type (text → number, integer, boolean; JSON text → object
 * or array; a structure → JSON text for a string), `default` is used when the value renders empty,
 * `<no value>`, fails, or cannot be coerced, and `properties` build an object field by field. A
 * property with no value and no default is left out; a missing `required` one fails the workflow.
 * Unlike ToolHive, a property that renders nothing never becomes the text "<no value>".
 */
import { WorkflowError } from './errors.ts';
import { describe } from './expand.ts';
import type { OutputPlan, OutputPropertyPlan } from './plan.ts';
import { isPlainObject } from './step-result.ts';
import { evaluateTemplate } from './template-eval.ts';

/** Sentinel for a value that cannot be coerced. */
const NO = Symbol('no coercion');

/** Builds the output object. Throws WorkflowError naming the property. */
export function buildOutput(plan: OutputPlan, data: unknown): Record<string, unknown> {
  const out = buildObject(plan.properties, data, '');
  for (const name of plan.required)
    if (out[name] === undefined || out[name] === null)
      throw new WorkflowError(`required output property "${name}" has no value`);
  return out;
}

function buildObject(properties: Record<string, OutputPropertyPlan>, data: unknown, prefix: string) {
  const out: Record<string, unknown> = {};
  for (const name in properties) {
    const value = buildProperty(properties[name], data, prefix + name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function buildProperty(p: OutputPropertyPlan, data: unknown, path: string): unknown {
  if (p.value === undefined) {
    if (p.properties) return buildObject(p.properties, data, `${path}.`);
    return fallback(p, path, 'has no value');
  }
  let v: unknown;
  try {
    v = evaluateTemplate(p.value, data);
  } catch (err) {
    return fallback(p, path, `failed: ${describe(err)}`, true);
  }
  if (v === undefined || v === null || v === '' || v === '<no value>') return fallback(p, path, 'is empty');
  const coerced = coerce(v, p.type);
  if (coerced !== NO) return coerced;
  return fallback(p, path, `cannot be coerced to ${p.type}: ${preview(v)}`, true);
}

// The default when there is one; else nothing for an empty value, and an error for a failure.
function fallback(p: OutputPropertyPlan, path: string, why: string, fail = false): unknown {
  if (p.default === undefined) {
    if (fail) throw new WorkflowError(`output property "${path}" ${why}`);
    return undefined;
  }
  const d = coerce(p.default, p.type);
  if (d === NO) throw new WorkflowError(`the default of output property "${path}" is not a ${p.type}`);
  return d;
}

/** `v` as `type`, or NO. */
export function coerce(v: unknown, type: OutputPropertyPlan['type']): unknown {
  switch (type) {
    case 'string':
      return typeof v === 'string' ? v : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'number': {
      if (typeof v === 'number') return v;
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
      return Number.isFinite(n) ? n : NO;
    }
    case 'integer':
      if (typeof v === 'number') return Number.isInteger(v) ? v : NO;
      return typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number.parseInt(v, 10) : NO;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 1 || v === 0) return v === 1;
      if (typeof v !== 'string') return NO;
      if (/^(true|True|TRUE|1)$/.test(v.trim())) return true;
      return /^(false|False|FALSE|0)$/.test(v.trim()) ? false : NO;
    case 'object':
      return isPlainObject(v) ? v : parsed(v, isPlainObject);
    case 'array':
      return Array.isArray(v) ? v : parsed(v, Array.isArray);
    default:
      return NO;
  }
}

function parsed(v: unknown, ok: (x: unknown) => boolean): unknown {
  if (typeof v !== 'string') return NO;
  try {
    const x = JSON.parse(v);
    return ok(x) ? x : NO;
  } catch {
    return NO;
  }
}

function preview(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
