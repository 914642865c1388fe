/**
 * Policy slicing: a decision hands Cedar only the policies whose scope can match its action and
 * resource. Cedar evaluates a policy as `scope && conditions`, so a policy whose scope cannot match
 * is never satisfied and never errors: leaving it out gives the same decision, and a request no policy
 * can match is denied without calling the engine (most items of a filtered 1,000-tool list).
 */
import type { ActionConstraint, PolicyJson, ResourceConstraint } from '@cedar-policy/cedar-wasm/web';
import type { AuthzAction, AuthzResourceType } from '../../plugins.ts';

const ACTIONS: readonly AuthzAction[] = ['call_tool', 'get_prompt', 'read_resource'];
const TYPES: readonly AuthzResourceType[] = ['Tool', 'Prompt', 'Resource'];

/** What a policy's scope allows: undefined means "any". */
export interface PolicyScope {
  actions?: ReadonlySet<string>;
  type?: string;
  id?: string;
}

/** The entity reference inside a scope constraint, in either JSON form. */
function entityOf(v: unknown): { type: string; id: string } | undefined {
  const o = (v && typeof v === 'object' && '__entity' in v ? (v as { __entity: unknown }).__entity : v) as
    | { type?: unknown; id?: unknown }
    | undefined;
  return o && typeof o.type === 'string' && typeof o.id === 'string' ? { type: o.type, id: o.id } : undefined;
}

/**
 * The scope of one policy. `actionHierarchy`: entitiesJson declares Action entities, so `action in`
 * may match through their parents and is treated as "any". Resource `in` is always "any" (entitiesJson
 * may give tools parents); only `==` and `is` narrow it.
 */
export function policyScope(policy: PolicyJson, actionHierarchy: boolean): PolicyScope {
  const scope: PolicyScope = {};
  const a = policy.action as ActionConstraint & { entity?: unknown; entities?: unknown[] };
  if (a.op === '==') {
    const e = entityOf(a.entity);
    scope.actions = new Set(e?.type === 'Action' ? [e.id] : []);
  } else if (a.op === 'in' && !actionHierarchy) {
    const list = a.entities ?? (a.entity !== undefined ? [a.entity] : undefined);
    if (list)
      scope.actions = new Set(
        list
          .map(entityOf)
          .filter((e) => e?.type === 'Action')
          .map((e) => e!.id),
      );
  }
  const r = policy.resource as ResourceConstraint & { entity?: unknown; entity_type?: string };
  if (r.op === '==') {
    const e = entityOf(r.entity);
    if (e) [scope.type, scope.id] = [e.type, e.id];
  } else if (r.op === 'is' && typeof r.entity_type === 'string') scope.type = r.entity_type;
  return scope;
}

/** Picks, per request, the preparsed policy set holding just the policies that may apply. */
export class PolicySlices {
  /** Policies with no resource id in scope, per `${action}\0${type}`. */
  private readonly general = new Map<string, number[]>();
  /** Policies with `resource == Type::"id"`, per `${type}\0${id}`. */
  private readonly byResource = new Map<string, number[]>();
  /** Preparsed set ids per slice (`1,4,7`); their number is bounded by the policies, not the requests. */
  private readonly sets = new Map<string, string>();

  constructor(
    private readonly scopes: readonly PolicyScope[],
    /** Preparses the policies with these indexes; returns the set's id. */
    private readonly prepare: (indexes: number[]) => string,
  ) {
    for (const action of ACTIONS) {
      for (const type of TYPES) {
        const fits = scopes.flatMap((s, i) =>
          s.id === undefined && this.allows(s, action) && (s.type === undefined || s.type === type) ? [i] : [],
        );
        this.general.set(`${action}\u0000${type}`, fits);
      }
    }
    scopes.forEach((s, i) => {
      if (s.id === undefined) return;
      const key = `${s.type}\u0000${s.id}`;
      this.byResource.set(key, [...(this.byResource.get(key) ?? []), i]);
    });
  }

  private allows(s: PolicyScope, action: string): boolean {
    return s.actions === undefined || s.actions.has(action);
  }

  /** The preparsed set id for this request, or undefined when no policy can apply (a denial). */
  setFor(action: AuthzAction, type: AuthzResourceType, id: string): string | undefined {
    const general = this.general.get(`${action}\u0000${type}`) ?? [];
    const specific = (this.byResource.get(`${type}\u0000${id}`) ?? []).filter((i) =>
      this.allows(this.scopes[i], action),
    );
    if (general.length === 0 && specific.length === 0) return undefined;
    const indexes = specific.length === 0 ? general : [...general, ...specific].sort((x, y) => x - y);
    const key = indexes.join(',');
    let set = this.sets.get(key);
    if (set === undefined) {
      set = this.prepare(indexes);
      this.sets.set(key, set);
    }
    return set;
  }
}
