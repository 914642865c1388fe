import { canonicalJson, compareStrings } from '../../runtime/canonical.ts';

/** How a change affects callers. Order matters: it is the report order. */
export type ChangeClass = 'breaking' | 'risky' | 'safe' | 'info';

/** One finding inside a JSON Schema. */
export interface SchemaChange {
  class: ChangeClass;
  detail: string;
}

/**
 * Which way compatibility runs. An input schema constrains what callers send: narrowing it breaks
 * them. An output schema describes what callers receive: widening it (a property that may now be
 * absent, a type or enum that may now hold more) breaks them, and narrowing it is safe.
 */
export type SchemaRole = 'input' | 'output';

type Schema = Record<string, unknown>;
const HANDLED = new Set([
  'type',
  'enum',
  'const',
  'required',
  'properties',
  'items',
  'additionalProperties',
  'description',
  'title',
]);

const isObj = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));

/** Compares two JSON Schemas (tool inputSchema or outputSchema) and classifies each difference. */
export function diffSchema(before: unknown, after: unknown, role: SchemaRole): SchemaChange[] {
  const out: SchemaChange[] = [];
  walk(before, after, '', role, out);
  return out;
}

/** Sets of allowed values: 'narrowed' when `after` ⊂ `before`, 'widened' when ⊃, else 'changed'. */
function compareSets(
  before: string[] | undefined,
  after: string[] | undefined,
  contains: (set: string[], v: string) => boolean,
): 'same' | 'narrowed' | 'widened' | 'changed' {
  if (!before && !after) return 'same';
  if (!before) return 'narrowed';
  if (!after) return 'widened';
  const sub = after.every((v) => contains(before, v));
  const sup = before.every((v) => contains(after, v));
  return sub && sup ? 'same' : sub ? 'narrowed' : sup ? 'widened' : 'changed';
}

// "number" admits every integer, so integer → number widens and number → integer narrows.
const typeContains = (set: string[], t: string) => set.includes(t) || (t === 'integer' && set.includes('number'));
const valueContains = (set: string[], v: string) => set.includes(v);

function typesOf(s: Schema): string[] | undefined {
  if (s.type === undefined) return undefined;
  return (Array.isArray(s.type) ? s.type.map(String) : [String(s.type)]).sort(compareStrings);
}

function valuesOf(s: Schema): string[] | undefined {
  if (Array.isArray(s.enum)) return s.enum.map((v) => canonicalJson(v));
  if ('const' in s) return [canonicalJson(s.const)];
  return undefined;
}

function classify(direction: 'narrowed' | 'widened' | 'changed', role: SchemaRole): ChangeClass {
  if (direction === 'changed') return 'breaking';
  return (direction === 'narrowed') === (role === 'input') ? 'breaking' : 'safe';
}

function walk(before: unknown, after: unknown, path: string, role: SchemaRole, out: SchemaChange[]): void {
  if (same(before, after)) return;
  const at = path || 'the root';
  if (!isObj(before) || !isObj(after)) {
    out.push({ class: 'breaking', detail: `schema at ${at} changed from ${show(before)} to ${show(after)}` });
    return;
  }
  const types = compareSets(typesOf(before), typesOf(after), typeContains);
  if (types !== 'same') {
    out.push({
      class: classify(types, role),
      detail: `type at ${at} ${types}: ${show(before.type ?? 'any')} → ${show(after.type ?? 'any')}`,
    });
  }
  const values = compareSets(valuesOf(before), valuesOf(after), valueContains);
  if (values !== 'same') {
    const list = (s: Schema) => show(Array.isArray(s.enum) ? s.enum : 'const' in s ? [s.const] : 'any');
    out.push({
      class: classify(values, role),
      detail: `allowed values at ${at} ${values}: ${list(before)} → ${list(after)}`,
    });
  }
  for (const key of ['description', 'title'] as const) {
    if (!same(before[key], after[key])) out.push({ class: 'risky', detail: `${key} at ${at} changed` });
  }

  const req = (s: Schema) => new Set(Array.isArray(s.required) ? s.required.map(String) : []);
  const props = (s: Schema) => (isObj(s.properties) ? s.properties : {});
  const [rb, ra, pb, pa] = [req(before), req(after), props(before), props(after)];
  const prop = (name: string) => (path ? `${path}.${name}` : name);
  for (const name of [...new Set([...rb, ...ra, ...Object.keys(pb), ...Object.keys(pa)])].sort(compareStrings)) {
    const inB = name in pb;
    const inA = name in pa;
    if (inB && !inA) {
      out.push({
        class: 'breaking',
        detail: role === 'input' ? `property ${prop(name)} removed` : `output property ${prop(name)} removed`,
      });
      continue;
    }
    if (!inB && inA) {
      if (role === 'input' && ra.has(name))
        out.push({ class: 'breaking', detail: `new required property ${prop(name)}` });
      else out.push({ class: 'safe', detail: `${ra.has(name) ? '' : 'optional '}property ${prop(name)} added` });
      continue;
    }
    if (rb.has(name) !== ra.has(name)) {
      const nowRequired = ra.has(name);
      const breaks = role === 'input' ? nowRequired : !nowRequired;
      const what =
        role === 'input'
          ? nowRequired
            ? 'is now required'
            : 'is now optional'
          : nowRequired
            ? 'is now always present'
            : 'may now be absent';
      out.push({ class: breaks ? 'breaking' : 'safe', detail: `property ${prop(name)} ${what}` });
    }
    if (inB && inA) walk(pb[name], pa[name], prop(name), role, out);
  }

  if (!same(before.items, after.items)) {
    if (isObj(before.items) && isObj(after.items)) walk(before.items, after.items, `${path}[]`, role, out);
    else
      out.push({
        class: before.items === undefined ? classify('narrowed', role) : classify('widened', role),
        detail: `items at ${at} changed: ${show(before.items)} → ${show(after.items)}`,
      });
  }
  const closed = (s: Schema) => s.additionalProperties === false;
  if (closed(before) !== closed(after)) {
    const narrowed = closed(after);
    out.push({
      class: classify(narrowed ? 'narrowed' : 'widened', role),
      detail: `additional properties at ${at} ${narrowed ? 'no longer allowed' : 'now allowed'}`,
    });
  } else if (isObj(before.additionalProperties) && isObj(after.additionalProperties)) {
    walk(before.additionalProperties, after.additionalProperties, `${path}.*`, role, out);
  }
  // Constraints we do not model precisely (minimum, pattern, anyOf, …): a reviewer must look.
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compareStrings)) {
    if (HANDLED.has(key) || same(before[key], after[key])) continue;
    out.push({ class: 'risky', detail: `${key} at ${at} changed: ${show(before[key])} → ${show(after[key])}` });
  }
}
