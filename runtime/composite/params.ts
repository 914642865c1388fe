/**
 * A composite call's arguments made ready for the run: JSON Schema `default`s applied (top-level
 * properties, and properties of nested objects), then `required` and the top-level types checked.
 * The client's object is never modified. A bad call is a JSON-RPC invalid-params error that names
 * the workflow and the parameter, as a direct call with bad arguments would be.
 */
import { ERR, RpcError } from '../jsonrpc.ts';
import { isPlainObject } from './step-result.ts';

/** The parameters the workflow runs with. Throws RpcError(INVALID_PARAMS) for a bad call. */
export function prepareParams(
  workflow: string,
  schema: Record<string, unknown>,
  args: unknown,
): Record<string, unknown> {
  if (args !== undefined && args !== null && !isPlainObject(args))
    throw invalid(workflow, `arguments must be an object, got ${typeName(args)}`);
  const params = withDefaults(schema, (args ?? {}) as Record<string, unknown>);
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  for (const name of required)
    if (params[name] === undefined) throw invalid(workflow, `missing required parameter "${name}"`);
  const properties = isPlainObject(schema.properties) ? schema.properties : undefined;
  if (properties)
    for (const name in properties) {
      const value = params[name];
      const type = (properties[name] as Record<string, unknown> | undefined)?.type;
      if (value === undefined || type === undefined || hasType(value, type)) continue;
      const want = Array.isArray(type) ? type.join(' or ') : String(type);
      throw invalid(workflow, `parameter "${name}" must be ${want}, got ${typeName(value)}`);
    }
  return params;
}

function invalid(workflow: string, what: string): RpcError {
  return new RpcError(ERR.INVALID_PARAMS, `workflow "${workflow}": ${what}`);
}

// Copies `value` with the schema's defaults filled in, recursing into nested object properties.
function withDefaults(schema: Record<string, unknown>, value: Record<string, unknown>): Record<string, unknown> {
  const properties = isPlainObject(schema.properties) ? schema.properties : undefined;
  if (!properties) return value;
  let out: Record<string, unknown> | undefined;
  for (const name in properties) {
    const prop = properties[name];
    if (!isPlainObject(prop)) continue;
    const current = value[name];
    let next = current;
    if (current === undefined && prop.default !== undefined) next = copy(prop.default);
    if (isPlainObject(next) && isPlainObject(prop.properties)) next = withDefaults(prop, next);
    if (next === current) continue;
    out ??= { ...value };
    out[name] = next;
  }
  return out ?? value;
}

// Defaults are shared plan data: hand each run its own copy of a structured one.
function copy(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? structuredClone(v) : v;
}

/** Whether a JSON value has a JSON Schema type (or one of several). */
function hasType(value: unknown, type: unknown): boolean {
  if (Array.isArray(type)) return type.some((t) => hasType(value, t));
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'null':
      return value === null;
    default:
      return true;
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}
