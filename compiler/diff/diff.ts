import { canonicalJson, compareStrings } from '../../runtime/canonical.ts';
import { diffSchema, type ChangeClass } from './schema.ts';
import { diffBackends, diffIncoming, diffOperational } from './diff-config.ts';
import { diffWorkflows } from './diff-workflows.ts';
import { ITEM_KINDS, summarizeSurface, type Surface, type SurfaceItem } from './surface.ts';

/** One reported difference between two releases. */
export interface Change {
  /** What changed, e.g. `tool.removed`, `tool.input-schema`, `auth.outgoing`. */
  kind: string;
  class: ChangeClass;
  /** What it concerns, e.g. `tool github_create_issue`, `backend github`, `incoming auth`. */
  subject: string;
  detail: string;
  /** Full old and new text, for description changes (a prompt-injection surface worth reading). */
  before?: string;
  after?: string;
}

/** The result of a diff: the level the sides were compared at, and the sorted changes. */
export interface DiffReport {
  old: string;
  new: string;
  /** `full`: resolved surfaces; `lock`: raw backend catalogs; `summary`: counts, backends and auth types. */
  level: 'full' | 'lock' | 'summary';
  changes: Change[];
}

/** Class order, most severe first. */
export const CLASSES: readonly ChangeClass[] = ['breaking', 'risky', 'safe', 'info'];

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
/** `github/create_issue`, or just `files` for a resource (its URI is its name everywhere). */
const origin = (i: SurfaceItem) => (i.exposed === i.original ? i.backend : `${i.backend}/${i.original}`);
const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));

/** Sorts changes by class, subject, kind and detail: the one order every format uses. */
export function sortChanges(changes: Change[]): Change[] {
  return [...changes].sort(
    (a, b) =>
      CLASSES.indexOf(a.class) - CLASSES.indexOf(b.class) ||
      compareStrings(a.subject, b.subject) ||
      compareStrings(a.kind, b.kind) ||
      compareStrings(a.detail, b.detail),
  );
}

/** Brings two sides to the richest level both can show. */
function align(a: Surface, b: Surface): { a: Surface; b: Surface; level: DiffReport['level']; note?: string } {
  if (!a.items || !b.items) {
    const weak = !a.items ? a : b;
    return {
      a: summarizeSurface(a),
      b: summarizeSurface(b),
      level: 'summary',
      note: `${weak.label} is a manifest: only counts, backends and auth strategy names can be compared; diff configs or bundles to see tools and schemas`,
    };
  }
  if (a.source === 'lock' || b.source === 'lock') {
    const la = a.source === 'lock' ? a : a.lockView;
    const lb = b.source === 'lock' ? b : b.lockView;
    const note =
      "a lock holds raw backend catalogs: names are as the backends list them, without the config's filters, overrides, prefixes or auth";
    if (la && lb) return { a: la, b: lb, level: 'lock', note };
    return {
      a: summarizeSurface(a),
      b: summarizeSurface(b),
      level: 'summary',
      note: `${a.source === 'lock' ? b.label : a.label} cannot be seen as a lock: only counts and backends are compared`,
    };
  }
  return { a, b, level: 'full' };
}

/** Compares two surfaces. Pure and deterministic. */
export function diffSurfaces(before: Surface, after: Surface): DiffReport {
  const { a, b, level, note } = align(before, after);
  const changes: Change[] = [];
  if (note) changes.push({ kind: 'note', class: 'info', subject: 'comparison', detail: note });
  if (a.name !== undefined && b.name !== undefined && a.name !== b.name) {
    changes.push({
      kind: 'gateway.name',
      class: 'risky',
      subject: 'gateway',
      detail: `name ${show(a.name)} → ${show(b.name)}: the bundle file name changes`,
    });
  }
  if (a.items && b.items) changes.push(...diffItems(a.items, b.items));
  if (level === 'full') changes.push(...diffWorkflows(a.workflows ?? [], b.workflows ?? []));
  else {
    for (const kind of ITEM_KINDS) {
      if (a.counts[kind] !== b.counts[kind])
        changes.push({
          kind: 'count',
          class: 'info',
          subject: `${kind}s`,
          detail: `${a.counts[kind]} → ${b.counts[kind]}`,
        });
    }
  }
  changes.push(...diffBackends(a.backends, b.backends));
  changes.push(...diffIncoming(a.incoming, b.incoming));
  changes.push(...diffOperational(a.operational, b.operational));
  return { old: before.label, new: after.label, level, changes: sortChanges(changes) };
}

function diffItems(before: SurfaceItem[], after: SurfaceItem[]): Change[] {
  const out: Change[] = [];
  for (const kind of ITEM_KINDS) {
    const olds = before.filter((i) => i.kind === kind);
    const news = after.filter((i) => i.kind === kind);
    const newBy = new Map(news.map((i) => [i.exposed, i]));
    const oldBy = new Map(olds.map((i) => [i.exposed, i]));
    const goneOld = olds.filter((i) => !newBy.has(i.exposed));
    const freshNew = news.filter((i) => !oldBy.has(i.exposed));
    for (const o of olds) {
      const n = newBy.get(o.exposed);
      if (!n) continue;
      if (o.backend !== n.backend || o.original !== n.original) {
        out.push({
          kind: `${kind}.moved`,
          class: 'risky',
          subject: `${kind} ${o.exposed}`,
          detail: `now routes to ${n.backend}/${n.original} (was ${o.backend}/${o.original})`,
        });
      }
      out.push(...diffDefs(kind, `${kind} ${o.exposed}`, o.def, n.def));
    }
    // A rename keeps the backend and the original name and changes only the exposed one.
    const renamedFrom = new Set<SurfaceItem>();
    for (const n of freshNew) {
      const o = goneOld.find((x) => !renamedFrom.has(x) && x.backend === n.backend && x.original === n.original);
      if (!o) {
        out.push({
          kind: `${kind}.added`,
          class: 'safe',
          subject: `${kind} ${n.exposed}`,
          detail: `added (${origin(n)})`,
        });
        continue;
      }
      renamedFrom.add(o);
      out.push({
        kind: `${kind}.renamed`,
        class: 'breaking',
        subject: `${kind} ${n.exposed}`,
        detail: `renamed from ${o.exposed} (${n.backend}/${n.original}): callers using the old name break`,
      });
      out.push(...diffDefs(kind, `${kind} ${n.exposed}`, o.def, n.def));
    }
    for (const o of goneOld) {
      if (!renamedFrom.has(o))
        out.push({
          kind: `${kind}.removed`,
          class: 'breaking',
          subject: `${kind} ${o.exposed}`,
          detail: `removed (was ${origin(o)})`,
        });
    }
  }
  return out;
}

const KEY_FIELDS = new Set(['name', 'uri', 'uriTemplate']);

function diffDefs(kind: string, subject: string, a: Record<string, unknown>, b: Record<string, unknown>): Change[] {
  const out: Change[] = [];
  for (const field of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compareStrings)) {
    const [x, y] = [a[field], b[field]];
    if (KEY_FIELDS.has(field) || same(x, y)) continue;
    if (field === 'description' || field === 'title') {
      out.push({
        kind: `${kind}.${field}`,
        class: 'risky',
        subject,
        detail: `${field} changed: review the new text (it is shown to the model)`,
        before: x === undefined ? '' : String(x),
        after: y === undefined ? '' : String(y),
      });
    } else if (kind === 'tool' && (field === 'inputSchema' || field === 'outputSchema')) {
      const role = field === 'inputSchema' ? 'input' : 'output';
      if (field === 'outputSchema' && (x === undefined || y === undefined)) {
        out.push({
          kind: 'tool.output-schema',
          class: x === undefined ? 'safe' : 'breaking',
          subject,
          detail:
            x === undefined ? 'output schema added' : 'output schema removed: structured output is no longer promised',
        });
        continue;
      }
      for (const c of diffSchema(x, y, role))
        out.push({ kind: `tool.${role}-schema`, class: c.class, subject, detail: c.detail });
    } else if (kind === 'tool' && field === 'annotations') {
      out.push(...diffAnnotations(subject, (x ?? {}) as Record<string, unknown>, (y ?? {}) as Record<string, unknown>));
    } else if (kind === 'prompt' && field === 'arguments') {
      out.push(
        ...diffArguments(
          subject,
          (x ?? []) as Array<Record<string, unknown>>,
          (y ?? []) as Array<Record<string, unknown>>,
        ),
      );
    } else {
      out.push({ kind: `${kind}.field`, class: 'info', subject, detail: `${field} changed: ${show(x)} → ${show(y)}` });
    }
  }
  return out;
}

function diffAnnotations(subject: string, a: Record<string, unknown>, b: Record<string, unknown>): Change[] {
  const out: Change[] = [];
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compareStrings)) {
    if (same(a[key], b[key])) continue;
    let detail = `annotation ${key}: ${show(a[key])} → ${show(b[key])}`;
    if (key === 'readOnlyHint' && a[key] === true)
      detail += ' (readOnlyHint turned off: the tool may now modify its environment)';
    if (key === 'destructiveHint' && b[key] === true)
      detail += ' (destructiveHint turned on: the tool may now perform destructive updates)';
    out.push({ kind: 'tool.annotation', class: 'risky', subject, detail });
  }
  return out;
}

function diffArguments(
  subject: string,
  a: Array<Record<string, unknown>>,
  b: Array<Record<string, unknown>>,
): Change[] {
  const out: Change[] = [];
  const byName = (xs: Array<Record<string, unknown>>) => new Map(xs.map((x) => [String(x.name), x]));
  const [ma, mb] = [byName(a), byName(b)];
  for (const name of [...new Set([...ma.keys(), ...mb.keys()])].sort(compareStrings)) {
    const [x, y] = [ma.get(name), mb.get(name)];
    const add = (cls: ChangeClass, detail: string) =>
      out.push({ kind: 'prompt.arguments', class: cls, subject, detail });
    if (x && !y) add('breaking', `argument ${name} removed`);
    else if (!x && y)
      add(
        y.required ? 'breaking' : 'safe',
        `${y.required ? 'new required' : 'optional'} argument ${name}${y.required ? '' : ' added'}`,
      );
    else if (x && y) {
      if (Boolean(x.required) !== Boolean(y.required))
        add(y.required ? 'breaking' : 'safe', `argument ${name} is now ${y.required ? 'required' : 'optional'}`);
      if (!same(x.description, y.description)) add('risky', `description of argument ${name} changed`);
    }
  }
  return out;
}
