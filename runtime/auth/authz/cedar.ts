/**
 * `incomingAuth.authz.type: cedar`: decides with Cedar (the official engine, @cedar-policy/cedar-wasm,
 * whose .wasm the bundle embeds; see cedar-wasm-bytes.ts).
 *
 * Entity model, following ToolHive's Cedar authorizer so its policies carry over:
 * - principal `Client::"<sub>"`; every JWT claim is an attribute `claim_<name>` (strings, booleans,
 *   Longs, decimals for fractions, sets for arrays, records for objects up to 10 levels). Group claims
 *   make the principal a member of `<groupEntityType>::"<group>"` (default `THVGroup`): the claim
 *   `groupClaimName` if set and present, else the first present of `groups`, `roles`, `cognito:groups`;
 *   plus `roleClaimName` when set. No caller (anonymous gateway, stdio): `Client::"anonymous"`, no
 *   attributes, no groups.
 * - actions `Action::"call_tool" | "get_prompt" | "read_resource"`.
 * - resources `Tool::"<exposed name>"`, `Prompt::"<exposed name>"`, `Resource::"<uri>"` (the URI
 *   itself: ToolHive sanitizes it into the id, vmcp does not need to). Attributes: `name`, `operation`
 *   (call|get|read), `feature` (tool|prompt|resource), `uri` for resources (whose `name` is ToolHive's
 *   sanitized URI), and the call's arguments as `arg_<name>` (objects, arrays and null as
 *   `arg_<name>_present: true`).
 * - context: the same `claim_*` and `arg_*` values.
 * - entitiesJson entities are merged in; for the principal and the resource, the attributes above win.
 * Fails closed: a policy that errors while evaluating (say, a missing attribute read without `has`)
 * denies the request, as in ToolHive; each distinct error is logged once.
 */
import { randomUUID } from 'node:crypto';
import {
  initSync,
  policyToJson,
  preparsePolicySet,
  statefulIsAuthorized,
  checkParseEntities,
  type DetailedError,
  type PolicyJson,
} from '@cedar-policy/cedar-wasm/web';
import { StartupError } from '../../env.ts';
import type { Logger } from '../../log.ts';
import type { AuthorizerFactory, AuthzResourceType, Principal } from '../../plugins.ts';
import type { CompiledAuthz } from '../../compiled-gateway.ts';
import { cedarWasmBytes } from './cedar-wasm-bytes.ts';
import { PolicySlices, policyScope } from './cedar-slices.ts';
import {
  argAttributes,
  attributeUse,
  claimValue,
  groupNames,
  parseUid,
  sanitizeUri,
  uidKey,
  type CedarEntity,
  type CedarValue,
  type Uid,
} from './cedar-values.ts';

const WELL_KNOWN_GROUP_CLAIMS = ['groups', 'roles', 'cognito:groups'];
const RESOURCE_ATTRS: Record<AuthzResourceType, { operation: string; feature: string }> = {
  Tool: { operation: 'call', feature: 'tool' },
  Prompt: { operation: 'get', feature: 'prompt' },
  Resource: { operation: 'read', feature: 'resource' },
};
const ANONYMOUS: Uid = { type: 'Client', id: 'anonymous' };
/** Distinct evaluation errors logged per authorizer (each once); later ones are only counted as denials. */
const MAX_WARNINGS = 100;

/**
 * Instantiates the Cedar engine (synchronously, from the embedded bytes). The wasm instance is the
 * package's own, once per process: `initSync` returns at once when it already exists, so an
 * authorizer started later only pays for reading the bytes. No state of ours is kept here.
 */
function startEngine(): void {
  try {
    initSync({ module: cedarWasmBytes() });
  } catch (err) {
    throw new StartupError(`cannot start the Cedar policy engine: ${(err as Error).message}`);
  }
}

/** Cedar reports byte offsets; this gives the 1-based line and column inside `text`. */
function positionIn(text: string, byteOffset: number): { line: number; column: number } {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/** Cedar's parse error, without its generic prefix. */
function errorText(e: DetailedError): string {
  return e.message.replace(/^failed to parse policy from string: /, '');
}

/** Parses every policy, one by one so an error names its index; returns their JSON forms. */
function parsePolicies(policies: readonly string[]): PolicyJson[] {
  return policies.map((text, i) => {
    const r = policyToJson(text);
    if (r.type === 'success') return r.json;
    const e = r.errors[0];
    const at = e?.sourceLocations?.[0];
    const where = at
      ? ` (line ${positionIn(text, at.start).line}, column ${positionIn(text, at.start).column} of the policy)`
      : '';
    throw new StartupError(
      `incomingAuth.authz.policies[${i}] does not parse${where}: ${e ? errorText(e) : 'unknown error'}`,
    );
  });
}

/** Parses entitiesJson into entities with normalized UIDs; throws StartupError naming the problem. */
function parseEntities(json: string): CedarEntity[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json.trim() === '' ? '[]' : json);
  } catch (err) {
    throw new StartupError(`incomingAuth.authz.entitiesJson is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new StartupError('incomingAuth.authz.entitiesJson must be a JSON array of entities');
  const entities = raw.map((e, i): CedarEntity => {
    const uid = parseUid((e as { uid?: unknown } | null)?.uid);
    if (!uid)
      throw new StartupError(
        `incomingAuth.authz.entitiesJson[${i}] has no valid uid (want {"type": "Tool", "id": "weather"})`,
      );
    const parents = ((e as { parents?: unknown[] }).parents ?? []).map((p, j) => {
      const puid = parseUid(p);
      if (!puid)
        throw new StartupError(`incomingAuth.authz.entitiesJson[${i}].parents[${j}] is not an entity reference`);
      return puid;
    });
    const { attrs = {}, tags } = e as { attrs?: Record<string, CedarValue>; tags?: Record<string, CedarValue> };
    return { uid, attrs, parents, ...(tags ? { tags } : {}) };
  });
  const check = checkParseEntities({ entities });
  if (check.type === 'failure')
    throw new StartupError(
      `incomingAuth.authz.entitiesJson does not parse: ${check.errors.map((x) => x.message).join('; ')}`,
    );
  return entities;
}

/** Replaces quoted text in an engine message (entity ids, values), so a log line carries no claim or argument. */
function redact(message: string): string {
  return message.replace(/"(?:[^"\\]|\\.)*"/g, '"…"');
}

/** The Cedar authorizer: policies and entities are parsed once, at start-up. */
export const cedarAuthorizer: AuthorizerFactory = (authz: CompiledAuthz, log: Logger) => {
  startEngine();
  const groupType = authz.groupEntityType || 'THVGroup';
  if (!/^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/.test(groupType)) {
    throw new StartupError(`incomingAuth.authz.groupEntityType "${groupType}" is not a Cedar entity type name`);
  }
  const json = parsePolicies(authz.policies);
  const staticEntities = parseEntities(authz.entitiesJson);
  const staticIndex = new Map(staticEntities.map((e, i) => [uidKey(e.uid), i]));
  if (authz.policies.length === 0) log.warn({}, 'incomingAuth.authz has no policies: every call is denied');
  const actionHierarchy = staticEntities.some((e) => e.uid.type === 'Action');
  const slices = new PolicySlices(
    json.map((p) => policyScope(p, actionHierarchy)),
    (indexes) => {
      // The engine's policy-set store is shared by every authorizer in the process: ids must not collide.
      const setId = `vmcp-authz-${randomUUID()}`;
      const staticPolicies = Object.fromEntries(indexes.map((i) => [`policy${i}`, authz.policies[i]]));
      const prepared = preparsePolicySet(setId, { staticPolicies });
      if (prepared.type === 'failure') throw new Error(prepared.errors.map(errorText).join('; '));
      return setId;
    },
  );

  const use = attributeUse(json);
  const keepAttr = (name: string) => use.attrs.has(name);
  const keepContext = (name: string) => use.wholeContext || use.contextKeys.has(name);
  const groupClaims = authz.groupClaimName
    ? [authz.groupClaimName, ...WELL_KNOWN_GROUP_CLAIMS]
    : WELL_KNOWN_GROUP_CLAIMS;

  /** Adds the entitiesJson entity with the same UID, if any: its attributes under ours, parents joined. */
  const withStatic = (e: CedarEntity): CedarEntity => {
    const i = staticIndex.get(uidKey(e.uid));
    if (i === undefined) return e;
    const s = staticEntities[i];
    return {
      uid: e.uid,
      attrs: { ...s.attrs, ...e.attrs },
      parents: [...s.parents, ...e.parents],
      ...(s.tags ? { tags: s.tags } : {}),
    };
  };
  /** The request's entities: entitiesJson, with the principal and resource replaced by their merged forms. */
  const entitiesWith = (dynamic: CedarEntity[]): CedarEntity[] => {
    if (staticEntities.length === 0) return dynamic;
    let replaced: Set<number> | undefined;
    for (const e of dynamic) {
      const i = staticIndex.get(uidKey(e.uid));
      if (i !== undefined) (replaced ??= new Set()).add(i);
    }
    return (replaced ? staticEntities.filter((_, i) => !replaced.has(i)) : staticEntities).concat(dynamic);
  };

  interface Caller {
    uid: Uid;
    entity: CedarEntity;
    context: Record<string, CedarValue>;
  }
  // The entities always exist, so a policy reading a missing attribute gets Cedar's clearest error.
  const anonymous: Caller = {
    uid: ANONYMOUS,
    entity: withStatic({ uid: ANONYMOUS, attrs: {}, parents: [] }),
    context: {},
  };
  // A list filter asks once per item with the same Principal: convert its claims once.
  const callers = new WeakMap<Principal, Caller>();
  const callerFor = (p: Principal | undefined): Caller => {
    if (!p) return anonymous;
    const cached = callers.get(p);
    if (cached) return cached;
    const attrs: Record<string, CedarValue> = {};
    const context: Record<string, CedarValue> = {};
    for (const [k, v] of Object.entries(p.claims)) {
      const name = `claim_${k}`;
      const inAttrs = keepAttr(name);
      const inContext = keepContext(name);
      if (!inAttrs && !inContext) continue;
      const value = claimValue(v);
      if (value === undefined) continue;
      if (inAttrs) attrs[name] = value;
      if (inContext) context[name] = value;
    }
    const groupClaim = groupClaims.find((c) => p.claims[c] !== undefined);
    const groups = new Set(groupClaim ? groupNames(p.claims[groupClaim]) : []);
    if (authz.roleClaimName) for (const r of groupNames(p.claims[authz.roleClaimName])) groups.add(r);
    const uid: Uid = { type: 'Client', id: p.sub };
    const parents = [...groups].map((id) => ({ type: groupType, id }));
    const caller: Caller = { uid, context, entity: withStatic({ uid, attrs, parents }) };
    callers.set(p, caller);
    return caller;
  };

  const warned = new Set<string>();
  const warnOnce = (policy: string | undefined, message: string, fields: Record<string, unknown>) => {
    const text = redact(message);
    const key = `${policy ?? ''}\u0000${text}`;
    if (warned.has(key) || warned.size >= MAX_WARNINGS) return;
    warned.add(key);
    const where = policy?.startsWith('policy') ? { policy: `incomingAuth.authz.policies[${policy.slice(6)}]` } : {};
    log.warn({ ...where, ...fields, error: text }, 'authorization failed to evaluate; the request is denied');
  };

  return {
    isAllowed(principal, action, type, id, args) {
      try {
        const setId = slices.setFor(action, type, id);
        if (setId === undefined) return false; // no policy can permit this: default deny
        const caller = callerFor(principal);
        const argAttrs = argAttributes(args, (n) => keepAttr(n) || keepContext(n));
        const meta = RESOURCE_ATTRS[type];
        const attrs: Record<string, CedarValue> = {};
        if (keepAttr('name')) attrs.name = type === 'Resource' ? sanitizeUri(id) : id;
        if (type === 'Resource' && keepAttr('uri')) attrs.uri = id;
        if (keepAttr('operation')) attrs.operation = meta.operation;
        if (keepAttr('feature')) attrs.feature = meta.feature;
        let context = caller.context;
        for (const [k, v] of Object.entries(argAttrs)) {
          if (keepAttr(k)) attrs[k] = v;
          if (!keepContext(k)) continue;
          if (context === caller.context) context = { ...caller.context };
          context[k] = v;
        }
        const resource: Uid = { type, id };
        const dynamic = [caller.entity, withStatic({ uid: resource, attrs, parents: [] })];
        const answer = statefulIsAuthorized({
          principal: caller.uid,
          action: { type: 'Action', id: action },
          resource,
          context,
          preparsedPolicySetId: setId,
          entities: entitiesWith(dynamic),
        });
        if (answer.type === 'failure') {
          for (const e of answer.errors) warnOnce(undefined, e.message, { action, resourceType: type });
          return false;
        }
        const { decision, diagnostics } = answer.response;
        if (diagnostics.errors.length > 0) {
          for (const e of diagnostics.errors) warnOnce(e.policyId, e.error.message, { action, resourceType: type });
          return false;
        }
        return decision === 'allow';
      } catch (err) {
        warnOnce(undefined, `the Cedar engine failed: ${(err as Error)?.message ?? String(err)}`, {
          action,
          resourceType: type,
        });
        return false;
      }
    },
  };
};
