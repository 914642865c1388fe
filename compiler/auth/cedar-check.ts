/**
 * Compile-time checks of `incomingAuth.authz` Cedar policies against the compiled catalog: a policy
 * that does not parse (POLICY_SYNTAX), or that names a tool, prompt, resource or action the gateway
 * does not have (POLICY_UNKNOWN_ENTITY), is an error at its exact place in vmcp.yaml, never a
 * surprise denial at runtime. Uses the same Cedar engine as the runtime (cedar-wasm.ts).
 *
 * Over 300 lines: policy parsing, entity validation and mapping Cedar's byte offsets back to YAML positions for every scalar style form one pass over the policies.
 */
import type { DetailedError, PolicyJson } from '@cedar-policy/cedar-wasm/web';
import { parseUid, sanitizeUri } from '../../runtime/auth/authz/cedar-values.ts';
import type { Locator } from '../config/locate.ts';
import { suggest } from '../config/suggest.ts';
import type { Diagnostic } from '../diagnostics.ts';
import { templatePattern } from '../resolve/uri-template.ts';
import { cedarEngine } from './cedar-wasm.ts';
import { charIndex, policyLiterals, type PolicyLiteral } from './policy-text.ts';
import { valuePosition, type ValuePosition } from './value-position.ts';

/** What the gateway exposes, by the names a policy must use. */
export interface PolicyCatalog {
  /** Exposed tool names (after prefixing and overrides). */
  tools: string[];
  prompts: string[];
  /** Resource URIs. */
  resources: string[];
  /** Resource template URIs (RFC 6570), matched against `Resource::"<uri>"`. */
  resourceTemplates: string[];
}

/** The policies to check and where they are written. */
export interface PolicyCheckInput {
  file: string;
  locator: Locator;
  policies: string[];
  entitiesJson: string;
  catalog: PolicyCatalog;
  /** The YAML text of `file`: makes positions inside policies exact for every scalar style (else a guess, see value-position.ts). */
  source?: string;
}

const ACTIONS = ['call_tool', 'get_prompt', 'read_resource'];
const RESOURCE_TYPES = ['Tool', 'Prompt', 'Resource'];
const AUTHZ = ['incomingAuth', 'authz'] as const;

/** An entity (or `is` type) the policy JSON names; `id` undefined for an `is` type. */
interface Named {
  type: string;
  id?: string;
}

/** The entities a policy names: in its scope, and as literals in its conditions; plus `resource is T` types. */
function namedIn(policy: PolicyJson): Named[] {
  const out: Named[] = [];
  const entity = (v: unknown) => {
    const uid = parseUid(v);
    if (uid) out.push(uid);
  };
  const scope = (
    c: { op: string; entity?: unknown; entities?: unknown[]; entity_type?: string; in?: { entity?: unknown } },
    resource: boolean,
  ) => {
    if (c.entity !== undefined) entity(c.entity);
    for (const e of c.entities ?? []) entity(e);
    if (c.in?.entity !== undefined) entity(c.in.entity);
    if (resource && c.op === 'is' && c.entity_type) out.push({ type: c.entity_type });
  };
  scope(policy.action as never, false);
  scope(policy.resource as never, true);
  // Literals anywhere in a value (sets, records), entity escapes included.
  const values = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(values);
    if ('__entity' in v) return entity(v);
    Object.values(v).forEach(values);
  };
  const expr = (e: unknown): void => {
    if (e === null || typeof e !== 'object') return;
    if (Array.isArray(e)) return e.forEach(expr);
    for (const [k, v] of Object.entries(e)) {
      if (k === 'Value') values(v);
      else if (k === 'is' && v && typeof v === 'object') {
        const { left, entity_type: type } = v as { left?: { Var?: string }; entity_type?: string };
        if (left?.Var === 'resource' && type) out.push({ type });
        expr(v);
      } else expr(v);
    }
  };
  for (const c of policy.conditions ?? []) expr(c.body);
  return out;
}

/** The ids of Action entities in entitiesJson (best effort: checkEntities reports a malformed one). */
function declaredActions(entitiesJson: string): Set<string> {
  try {
    const raw = JSON.parse(entitiesJson) as unknown;
    if (!Array.isArray(raw)) return new Set();
    return new Set(
      raw
        .map((e) => parseUid((e as { uid?: unknown } | null)?.uid))
        .filter((u) => u?.type === 'Action')
        .map((u) => u!.id),
    );
  } catch {
    return new Set();
  }
}

/** Cedar's parse error, without its generic prefix. */
function errorText(e: DetailedError): string {
  return e.message.replace(/^failed to parse policy from string: /, '');
}

/** Checks the Cedar policies and entitiesJson of `incomingAuth.authz` against the gateway's catalog. */
export function checkPolicies(input: PolicyCheckInput): Diagnostic[] {
  const { file, locator, policies, catalog, source } = input;
  const hasEntities = input.entitiesJson.trim() !== '' && input.entitiesJson.trim() !== '[]';
  if (policies.length === 0 && !hasEntities) return [];
  const cedar = cedarEngine();
  const out: Diagnostic[] = [];
  const templates = catalog.resourceTemplates.map((t) => new RegExp(templatePattern(t)));
  // Action groups declared in entitiesJson (`action in Action::"readonly"`) are names policies may use.
  const actionGroups = declaredActions(input.entitiesJson);
  const known: Record<string, (id: string) => boolean> = {
    Action: (id) => ACTIONS.includes(id) || actionGroups.has(id),
    Tool: (id) => catalog.tools.includes(id),
    Prompt: (id) => catalog.prompts.includes(id),
    Resource: (id) => catalog.resources.includes(id) || templates.some((re) => re.test(id)),
  };
  const at = (pos: ValuePosition, start: number, end: number) => {
    const s = pos(start);
    const e = pos(end);
    return { file, line: s.line, column: s.column, endLine: e.line, endColumn: e.column };
  };

  policies.forEach((text, i) => {
    const span = locator.at([...AUTHZ, 'policies', i]);
    const pos = valuePosition(text, span, source);
    const parsed = cedar.policyToJson(text);
    if (parsed.type === 'failure') {
      for (const e of parsed.errors.slice(0, 1)) {
        const loc = e.sourceLocations?.[0];
        const [s, end] = loc ? [charIndex(text, loc.start), charIndex(text, loc.end)] : [0, text.length];
        out.push({
          code: 'POLICY_SYNTAX',
          severity: 'error',
          message: `policy ${i} does not parse: ${errorText(e)}`,
          ...at(pos, s, end),
          ...(e.help ? { hint: e.help } : {}),
        });
      }
      return;
    }
    const literals = policyLiterals(text);
    const used = new Set<PolicyLiteral>();
    const locate = (n: Named) => {
      const lit = literals.find((l) => !used.has(l) && l.type === n.type && l.id === n.id);
      if (lit) used.add(lit);
      return lit ? at(pos, lit.start, lit.end) : at(pos, 0, text.length);
    };
    for (const n of namedIn(parsed.json)) {
      const problem =
        n.id === undefined
          ? unknownType(n.type)
          : known[n.type]?.(n.id) === false
            ? unknownEntity(n.type, n.id, catalog)
            : undefined;
      if (!problem) continue;
      out.push({
        code: 'POLICY_UNKNOWN_ENTITY',
        severity: 'error',
        message: `policy ${i} ${problem.message}`,
        ...locate(n),
        ...(problem.hint ? { hint: problem.hint } : {}),
      });
    }
  });
  if (hasEntities) out.push(...checkEntities(input, known));
  return out;
}

/** `resource is T` with a type no resource has. */
function unknownType(type: string): { message: string; hint?: string } | undefined {
  if (RESOURCE_TYPES.includes(type)) return undefined;
  const near = suggest(type, RESOURCE_TYPES);
  return {
    message: `tests resource is ${type}, which no resource is (they are Tool, Prompt or Resource)`,
    ...(near ? { hint: `did you mean ${near}?` } : {}),
  };
}

/** What is wrong with `Type::"id"`, which the catalog (or the action list) does not have. */
function unknownEntity(type: string, id: string, catalog: PolicyCatalog): { message: string; hint?: string } {
  const literal = `${type}::${JSON.stringify(id)}`;
  if (type === 'Action') {
    const near = suggest(id, ACTIONS);
    const fix = near
      ? `did you mean "${near}"?`
      : /^list_/.test(id)
        ? 'lists are filtered per item with call_tool, get_prompt and read_resource; there is no list action'
        : `use one of ${ACTIONS.join(', ')}`;
    return {
      message: `names ${literal}, which is not an action vmcp authorizes (${ACTIONS.join(', ')})`,
      // vmcp is stricter than ToolHive here: say what ToolHive would have done.
      hint: `${fix}; ToolHive would load this policy and it would never match (a forbid would protect nothing)`,
    };
  }
  if (type === 'Resource') {
    const bySanitized = catalog.resources.find((u) => sanitizeUri(u) === id);
    const near = suggest(id, [...catalog.resources, ...catalog.resourceTemplates]);
    const hint = bySanitized
      ? `vmcp uses the URI itself as the id (ToolHive sanitizes it): Resource::${JSON.stringify(bySanitized)}`
      : near
        ? `did you mean "${near}"?`
        : undefined;
    return {
      message: `names ${literal}, which matches no resource or resource template the gateway exposes`,
      ...(hint ? { hint } : {}),
    };
  }
  const names = type === 'Tool' ? catalog.tools : catalog.prompts;
  const near = suggest(id, names);
  return {
    message: `names ${literal}, which the gateway does not expose`,
    hint: near
      ? `did you mean "${near}"?`
      : `use the exposed ${type === 'Tool' ? 'tool' : 'prompt'} name (after prefixing and overrides), as vmcp compile lists it`,
  };
}

/** entitiesJson: valid JSON, valid Cedar entities, and tools/prompts/resources the gateway has. */
function checkEntities(input: PolicyCheckInput, known: Record<string, (id: string) => boolean>): Diagnostic[] {
  const { file, locator, entitiesJson: text, catalog, source } = input;
  const span = locator.at([...AUTHZ, 'entitiesJson']);
  const pos = valuePosition(text, span, source);
  const diag = (code: Diagnostic['code'], message: string, start = 0, end = text.length, hint?: string): Diagnostic => {
    const s = pos(start);
    const e = pos(end);
    return {
      code,
      severity: 'error',
      message,
      file,
      line: s.line,
      column: s.column,
      endLine: e.line,
      endColumn: e.column,
      ...(hint ? { hint } : {}),
    };
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const offset = Number(/position (\d+)/.exec(message)?.[1] ?? 0);
    return [diag('POLICY_SYNTAX', `entitiesJson is not valid JSON: ${message}`, offset, offset + 1)];
  }
  if (!Array.isArray(raw)) return [diag('POLICY_SYNTAX', 'entitiesJson must be a JSON array of entities')];
  const out: Diagnostic[] = [];
  const entities = [];
  for (const [i, e] of raw.entries()) {
    const uid = parseUid((e as { uid?: unknown } | null)?.uid);
    if (!uid) {
      out.push(
        diag(
          'POLICY_SYNTAX',
          `entitiesJson[${i}] has no valid uid`,
          0,
          text.length,
          'write "uid": {"type": "Tool", "id": "<exposed name>"}',
        ),
      );
      continue;
    }
    const parents = ((e as { parents?: unknown[] }).parents ?? []).map(parseUid);
    if (parents.some((p) => !p))
      out.push(diag('POLICY_SYNTAX', `entitiesJson[${i}].parents holds something that is not an entity reference`));
    entities.push({
      uid,
      attrs: (e as { attrs?: object }).attrs ?? {},
      parents: parents.filter((p) => p !== undefined),
    });
    if (known[uid.type]?.(uid.id) === false && uid.type !== 'Action') {
      const problem = unknownEntity(uid.type, uid.id, catalog);
      const where = text.indexOf(JSON.stringify(uid.id));
      out.push(
        diag(
          'POLICY_UNKNOWN_ENTITY',
          `entitiesJson[${i}] ${problem.message}`,
          Math.max(0, where),
          where < 0 ? text.length : where + JSON.stringify(uid.id).length,
          problem.hint,
        ),
      );
    }
  }
  if (out.length > 0) return out;
  const check = cedarEngine().checkParseEntities({ entities: entities as never });
  if (check.type === 'failure')
    out.push(
      diag(
        'POLICY_SYNTAX',
        `entitiesJson does not parse as Cedar entities: ${check.errors.map((e) => e.message).join('; ')}`,
      ),
    );
  return out;
}
