/**
 * JSON values → Cedar JSON values, and the entities and attribute names the Cedar authorizer needs.
 * Conversions follow ToolHive's Cedar authorizer (see cedar.ts for the whole entity model).
 */

/** A value in Cedar's JSON format (entity and extension escapes included). */
export type CedarValue = string | number | boolean | CedarValue[] | { [key: string]: CedarValue };

/** An entity UID in Cedar's JSON format. */
export interface Uid {
  type: string;
  id: string;
}

/** An entity in Cedar's JSON format. */
export interface CedarEntity {
  uid: Uid;
  attrs: Record<string, CedarValue>;
  parents: Uid[];
  tags?: Record<string, CedarValue>;
}

// Cedar reads these record keys as entity / extension escapes, so a claim must never carry them:
// `{"__entity": {"type": "THVGroup", "id": "admins"}}` in a token would otherwise forge a reference.
const ESCAPE_KEYS: ReadonlySet<string> = new Set(['__entity', '__extn', '__expr']);
/** Claims nest at most this deep (ToolHive's limit); deeper values are dropped, not converted. */
const MAX_DEPTH = 10;
// Cedar's decimal: at most 4 fractional digits, range ±922337203685477.5807.
const DECIMAL_MAX = 922337203685477;

/** A JSON number as Cedar sees it: safe integers are Longs, other finite numbers decimals, else dropped. */
function numberValue(n: number): CedarValue | undefined {
  if (Number.isSafeInteger(n)) return n;
  if (!Number.isFinite(n) || Math.abs(n) >= DECIMAL_MAX) return undefined;
  return { __extn: { fn: 'decimal', arg: n.toFixed(4) } };
}

/**
 * A JWT claim value as a Cedar value: strings, booleans and numbers map directly, arrays become
 * sets and objects records (recursively, up to 10 levels). null and unrepresentable values are dropped.
 */
export function claimValue(v: unknown, depth = 0): CedarValue | undefined {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return numberValue(v);
    case 'object': {
      if (v === null || depth >= MAX_DEPTH) return undefined;
      if (Array.isArray(v)) {
        const out: CedarValue[] = [];
        for (const item of v) {
          const c = claimValue(item, depth + 1);
          if (c !== undefined) out.push(c);
        }
        return out;
      }
      const out: Record<string, CedarValue> = {};
      for (const [k, item] of Object.entries(v)) {
        if (ESCAPE_KEYS.has(k)) continue;
        const c = claimValue(item, depth + 1);
        if (c !== undefined) out[k] = c;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/**
 * Tool or prompt arguments as `arg_<name>` attributes, as ToolHive does: strings, booleans and numbers
 * keep their value; anything else (objects, arrays, null) only records `arg_<name>_present: true`.
 */
export function argAttributes(
  args: Record<string, unknown> | undefined,
  keep: (name: string) => boolean,
): Record<string, CedarValue> {
  const out: Record<string, CedarValue> = {};
  if (!args) return out;
  for (const [k, v] of Object.entries(args)) {
    const scalar =
      typeof v === 'string' || typeof v === 'boolean' ? v : typeof v === 'number' ? numberValue(v) : undefined;
    if (scalar !== undefined) {
      if (keep(`arg_${k}`)) out[`arg_${k}`] = scalar;
    } else if (typeof v !== 'number' && keep(`arg_${k}_present`)) out[`arg_${k}_present`] = true;
  }
  return out;
}

/** ToolHive's resource-URI sanitizing, kept for the `name` attribute of `Resource` entities. */
export function sanitizeUri(uri: string): string {
  return uri.replace(/[:/\\?&=#. ]/g, '_');
}

/** Group names from a claim that holds an array of strings; anything else gives none. */
export function groupNames(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((g): g is string => typeof g === 'string') : [];
}

/**
 * An entity reference as written in entitiesJson: `{"type","id"}`, `{"__entity": {...}}`, or the
 * string forms ToolHive's examples use, `Tool::"weather"` and `Tool::weather`.
 */
export function parseUid(v: unknown): Uid | undefined {
  if (typeof v === 'string') {
    const quoted = /^(.+)::("(?:[^"\\]|\\.)*")$/s.exec(v);
    if (quoted) {
      try {
        return { type: quoted[1], id: JSON.parse(quoted[2]) as string };
      } catch {
        return undefined;
      }
    }
    const bare = /^(.+)::([^:"]+)$/s.exec(v);
    return bare ? { type: bare[1], id: bare[2] } : undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  const o = ('__entity' in v ? (v as { __entity: unknown }).__entity : v) as Partial<Uid> | null;
  return o && typeof o.type === 'string' && typeof o.id === 'string' ? { type: o.type, id: o.id } : undefined;
}

/** The map key of an entity UID. */
export function uidKey(uid: Uid): string {
  return `${uid.type}\u0000${uid.id}`;
}

/** The attribute names a policy set reads, so the authorizer sends Cedar only those. */
export interface AttributeUse {
  /** Names read with `.` or `has` on anything but `context` (entities, records). */
  attrs: Set<string>;
  /** Names read with `.` or `has` directly on `context`. */
  contextKeys: Set<string>;
  /** True when `context` is used as a whole value (then every context key is sent). */
  wholeContext: boolean;
}

/**
 * Collects the attribute names the policies' conditions read (policy JSON from Cedar's
 * policyToJson). An attribute no policy names cannot change a decision, so leaving it out is exact;
 * it keeps the per-decision payload (and its cost) small.
 */
export function attributeUse(policies: readonly unknown[]): AttributeUse {
  const use: AttributeUse = { attrs: new Set(), contextKeys: new Set(), wholeContext: false };
  const visit = (e: unknown): void => {
    if (e === null || typeof e !== 'object') return;
    if (Array.isArray(e)) {
      for (const x of e) visit(x);
      return;
    }
    for (const [k, v] of Object.entries(e)) {
      if (k === 'Value') continue; // a literal reads no attribute
      if (k === 'Var' && v === 'context') use.wholeContext = true;
      if ((k === '.' || k === 'has') && v && typeof v === 'object' && 'left' in v && 'attr' in v) {
        const { left, attr } = v as { left: unknown; attr: unknown };
        const onContext = left !== null && typeof left === 'object' && (left as { Var?: unknown }).Var === 'context';
        // `has a.b.c` tests a on the left, then b and c on the records below it.
        const names = (Array.isArray(attr) ? attr : [attr]).filter((a): a is string => typeof a === 'string');
        names.forEach((a, i) => (onContext && i === 0 ? use.contextKeys : use.attrs).add(a));
        if (!onContext) visit(left);
        continue;
      }
      visit(v);
    }
  };
  for (const p of policies) visit((p as { conditions?: unknown } | null)?.conditions);
  return use;
}
