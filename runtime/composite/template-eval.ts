/**
 * Evaluates a parsed workflow template (template-ast.ts) against its context (`.params`, `.steps`,
 * `.vars`, `.workflow`, `.forEach`), with Go text/template's semantics for the subset: truthiness,
 * `and`/`or` returning an operand, `eq` against several values, `index`, `len`, `printf`, plus
 * ToolHive's `json`, `quote` and `fromJson`. A template that is one action alone yields its value
 * with its JSON type; any other renders to a string. Output is bounded (10 MB, as in ToolHive).
 */
import type { Command, Operand, Pipeline, Template, TemplateNode } from './template-ast.ts';

/** Largest rendered output, in characters. */
export const MAX_TEMPLATE_OUTPUT = 10 * 1024 * 1024;

/** A template that failed while rendering, at an offset into its text. */
export class TemplateRuntimeError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/** Renders `t` with `data` as `.`; a whole-value template returns the value itself. */
export function evaluateTemplate(t: Template, data: unknown): unknown {
  if (t.whole) {
    const action = t.nodes.find((n) => n.t === 'action') as Extract<TemplateNode, { t: 'action' }>;
    return pipeline(action.p, data);
  }
  const out: string[] = [];
  let size = 0;
  const emit = (s: string, at: number) => {
    size += s.length;
    if (size > MAX_TEMPLATE_OUTPUT)
      throw new TemplateRuntimeError(`template output exceeds ${MAX_TEMPLATE_OUTPUT} characters`, at);
    out.push(s);
  };
  render(t.nodes, data, emit);
  return out.join('');
}

function render(nodes: TemplateNode[], data: unknown, emit: (s: string, at: number) => void): void {
  for (const n of nodes) {
    if (n.t === 'text') emit(n.v, 0);
    else if (n.t === 'action') emit(printValue(pipeline(n.p, data)), n.at);
    else {
      const branch = n.branches.find((b) => truthy(pipeline(b.cond, data)));
      if (branch) render(branch.body, data, emit);
      else if (n.otherwise) render(n.otherwise, data, emit);
    }
  }
}

function pipeline(p: Pipeline, data: unknown): unknown {
  let value: unknown;
  p.cmds.forEach((c, i) => {
    value = command(c, data, i === 0 ? [] : [value]);
  });
  return value;
}

function command(c: Command, data: unknown, piped: unknown[]): unknown {
  if (c.fn === undefined) {
    if (piped.length) throw new TemplateRuntimeError('a value cannot take a piped argument (only functions can)', c.at);
    return operand(c.arg, data);
  }
  const args = [...c.args.map((a) => operand(a, data)), ...piped];
  return call(c.fn, args, c.at);
}

function operand(o: Operand, data: unknown): unknown {
  if (o.k === 'lit') return o.v;
  const from = o.k === 'pipe' ? pipeline(o.p, data) : data;
  if (o.k === 'pipe' && o.path === undefined) return from;
  let v: unknown = from;
  for (const key of o.path ?? []) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    v = Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

/** Go's truth: false, 0, nil, "", and empty lists and maps are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** How a value prints into text: strings as they are, nil as Go's `<no value>`, structures as JSON. */
export function printValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function need(fn: string, args: unknown[], min: number, at: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new TemplateRuntimeError(`${fn} takes ${want} argument(s), got ${args.length}`, at);
  }
}

function compare(fn: string, a: unknown, b: unknown, at: number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new TemplateRuntimeError(`${fn}: cannot compare ${kind(a)} with ${kind(b)}`, at);
}

function kind(v: unknown): string {
  return v === null || v === undefined ? 'nil' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'map' : typeof v;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null)
    return JSON.stringify(a) === JSON.stringify(b);
  return (a === undefined || a === null) && (b === undefined || b === null);
}

function call(fn: string, args: unknown[], at: number): unknown {
  switch (fn) {
    case 'and': {
      need(fn, args, 1, at, Infinity);
      for (const a of args) if (!truthy(a)) return a;
      return args[args.length - 1];
    }
    case 'or': {
      need(fn, args, 1, at, Infinity);
      for (const a of args) if (truthy(a)) return a;
      return args[args.length - 1];
    }
    case 'not':
      need(fn, args, 1, at);
      return !truthy(args[0]);
    case 'eq':
      need(fn, args, 2, at, Infinity);
      return args.slice(1).some((b) => equal(args[0], b));
    case 'ne':
      need(fn, args, 2, at);
      return !equal(args[0], args[1]);
    case 'lt':
      need(fn, args, 2, at);
      return compare(fn, args[0], args[1], at) < 0;
    case 'le':
      need(fn, args, 2, at);
      return compare(fn, args[0], args[1], at) <= 0;
    case 'gt':
      need(fn, args, 2, at);
      return compare(fn, args[0], args[1], at) > 0;
    case 'ge':
      need(fn, args, 2, at);
      return compare(fn, args[0], args[1], at) >= 0;
    case 'index': {
      need(fn, args, 1, at, Infinity);
      let v = args[0];
      for (const k of args.slice(1)) {
        if (Array.isArray(v) && typeof k === 'number') {
          if (!Number.isInteger(k) || k < 0 || k >= v.length)
            throw new TemplateRuntimeError(`index out of range: ${k}`, at);
          v = v[k];
        } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof k === 'string')
          v = Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined;
        else if (v === null || v === undefined) return undefined;
        else throw new TemplateRuntimeError(`cannot index ${kind(v)} with ${kind(k)}`, at);
      }
      return v;
    }
    case 'len': {
      need(fn, args, 1, at);
      const v = args[0];
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      if (v !== null && typeof v === 'object') return Object.keys(v).length;
      throw new TemplateRuntimeError(`len of ${kind(v)}`, at);
    }
    case 'json':
      need(fn, args, 1, at);
      return JSON.stringify(args[0] ?? null);
    case 'quote':
      need(fn, args, 1, at);
      return JSON.stringify(printValue(args[0]));
    case 'fromJson': {
      need(fn, args, 1, at);
      if (typeof args[0] !== 'string')
        throw new TemplateRuntimeError(`fromJson takes a string, got ${kind(args[0])}`, at);
      try {
        return JSON.parse(args[0]);
      } catch (err) {
        throw new TemplateRuntimeError(`fromJson: ${(err as Error).message}`, at);
      }
    }
    case 'printf':
      need(fn, args, 1, at, Infinity);
      if (typeof args[0] !== 'string') throw new TemplateRuntimeError('printf takes a format string first', at);
      return sprintf(args[0], args.slice(1));
    default:
      throw new TemplateRuntimeError(`function "${fn}" is not defined`, at);
  }
}

/** The verbs of Go's fmt that workflows use: %s %v %d %f (with precision) %q %t %%. */
function sprintf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%(\.\d+)?([svdfqt%])/g, (_m, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const v = args[i++];
    switch (verb) {
      case 'd':
        return typeof v === 'number' ? String(Math.trunc(v)) : `%!d(${kind(v)}=${printValue(v)})`;
      case 'f':
        return typeof v === 'number' ? v.toFixed(prec ? Number(prec.slice(1)) : 6) : `%!f(${kind(v)}=${printValue(v)})`;
      case 'q':
        return JSON.stringify(printValue(v));
      case 't':
        return typeof v === 'boolean' ? String(v) : `%!t(${kind(v)}=${printValue(v)})`;
      default:
        return printValue(v);
    }
  });
}
