import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isAuthorized } from '@cedar-policy/cedar-wasm/web';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleRouter } from '../../compiler/bundle.ts';
import { cedarAuthorizer } from '../../runtime/auth/authz/cedar.ts';
import {
  argAttributes,
  claimValue,
  sanitizeUri,
  type CedarEntity,
  type CedarValue,
} from '../../runtime/auth/authz/cedar-values.ts';
import { StartupError } from '../../runtime/env.ts';
import { createLogger } from '../../runtime/log.ts';
import type { Authorizer, AuthzAction, AuthzResourceType, Principal } from '../../runtime/plugins.ts';
import type { CompiledAuthz } from '../../runtime/compiled-gateway.ts';

const TOKEN = 'eyJ-the-bearer-token-never-logged';

/** A verified caller with these JWT claims (`sub` included). */
function who(sub: string, claims: Record<string, unknown> = {}): Principal {
  return {
    key: `https://idp.example\n${sub}`,
    iss: 'https://idp.example',
    sub,
    claims: { sub, ...claims },
    token: TOKEN,
  };
}

/** An authorizer over `policies`, with its log lines kept. */
function authorizer(policies: string[], extra: Partial<CompiledAuthz> = {}): { authz: Authorizer; logs: string[] } {
  const logs: string[] = [];
  const authz = cedarAuthorizer(
    { type: 'cedar', policies, entitiesJson: '[]', ...extra },
    createLogger({}, 'debug', (l) => logs.push(l)),
  );
  return { authz, logs };
}

function startupError(policies: string[], extra: Partial<CompiledAuthz> = {}): string {
  try {
    authorizer(policies, extra);
  } catch (err) {
    expect(err).toBeInstanceOf(StartupError);
    return (err as Error).message;
  }
  throw new Error('expected a StartupError');
}

const alice = who('alice', { role: 'admin', groups: ['eng'], email: 'alice@example.com', level: 5 });
const bob = who('bob', { groups: ['ops'], level: 1 });

describe('Cedar authorizer: decisions', () => {
  it('allows by tool and denies everything else (default deny)', () => {
    const { authz } = authorizer(['permit(principal, action == Action::"call_tool", resource == Tool::"echo");']);
    expect(authz.isAllowed(alice, 'call_tool', 'Tool', 'echo')).toBe(true);
    expect(authz.isAllowed(alice, 'call_tool', 'Tool', 'other')).toBe(false);
    expect(authz.isAllowed(alice, 'get_prompt', 'Prompt', 'echo')).toBe(false);
    expect(authz.isAllowed(undefined, 'call_tool', 'Tool', 'echo')).toBe(true);
  });

  it('allows by claim, on the principal (claim_<name>) and in the context', () => {
    const { authz } = authorizer([
      'permit(principal, action == Action::"call_tool", resource) when { principal has claim_role && principal.claim_role == "admin" };',
      'permit(principal, action == Action::"get_prompt", resource) when { context has claim_level && context.claim_level >= 3 };',
      'permit(principal, action == Action::"read_resource", resource) when { principal.claim_email like "*@example.com" };',
    ]);
    expect(authz.isAllowed(alice, 'call_tool', 'Tool', 'deploy')).toBe(true);
    expect(authz.isAllowed(bob, 'call_tool', 'Tool', 'deploy')).toBe(false);
    expect(authz.isAllowed(alice, 'get_prompt', 'Prompt', 'p')).toBe(true);
    expect(authz.isAllowed(bob, 'get_prompt', 'Prompt', 'p')).toBe(false);
    expect(authz.isAllowed(alice, 'read_resource', 'Resource', 'file:///a')).toBe(true);
  });

  it('converts claim values: arrays to sets, objects to records, fractions to decimals', () => {
    const carol = who('carol', { scp: ['mcp:tools', 'read'], act: { sub: 'agent-7' }, score: 0.75, big: 2 ** 60 });
    const { authz } = authorizer([
      'permit(principal, action == Action::"call_tool", resource == Tool::"a") when { principal.claim_scp.contains("mcp:tools") };',
      'permit(principal, action == Action::"call_tool", resource == Tool::"b") when { context.claim_act.sub == "agent-7" };',
      'permit(principal, action == Action::"call_tool", resource == Tool::"c") when { principal.claim_score.greaterThan(decimal("0.5")) };',
      'permit(principal, action == Action::"call_tool", resource == Tool::"d") when { !(principal has claim_big) };',
    ]);
    for (const tool of ['a', 'b', 'c', 'd']) expect(authz.isAllowed(carol, 'call_tool', 'Tool', tool), tool).toBe(true);
    expect(claimValue({ x: [1, 'two', null, { __entity: { type: 'THVGroup', id: 'admins' } }] })).toEqual({
      x: [1, 'two', {}],
    });
  });

  it('makes group claims parents: groups, roles, cognito:groups, groupClaimName and roleClaimName', () => {
    const { authz } = authorizer(['permit(principal in THVGroup::"eng", action, resource);']);
    expect(authz.isAllowed(alice, 'call_tool', 'Tool', 'x')).toBe(true);
    expect(authz.isAllowed(bob, 'call_tool', 'Tool', 'x')).toBe(false);
    expect(authz.isAllowed(who('k', { roles: ['eng'] }), 'call_tool', 'Tool', 'x')).toBe(true);
    expect(authz.isAllowed(who('c', { 'cognito:groups': ['eng'] }), 'call_tool', 'Tool', 'x')).toBe(true);
    // The first well-known claim present wins, as in ToolHive.
    expect(authz.isAllowed(who('m', { groups: ['ops'], roles: ['eng'] }), 'call_tool', 'Tool', 'x')).toBe(false);

    const custom = authorizer(['permit(principal in Team::"eng", action, resource);'], {
      groupClaimName: 'https://example.com/groups',
      roleClaimName: 'app_roles',
      groupEntityType: 'Team',
    }).authz;
    expect(custom.isAllowed(who('u', { 'https://example.com/groups': ['eng'] }), 'call_tool', 'Tool', 'x')).toBe(true);
    expect(custom.isAllowed(who('v', { groups: ['ops'], app_roles: ['eng'] }), 'call_tool', 'Tool', 'x')).toBe(true);
    expect(custom.isAllowed(alice, 'call_tool', 'Tool', 'x'), 'groups of the default THVGroup type do not count').toBe(
      true,
    );
    expect(custom.isAllowed(bob, 'call_tool', 'Tool', 'x')).toBe(false);
  });

  it('resolves group hierarchies and tool attributes from entitiesJson', () => {
    const entitiesJson = JSON.stringify([
      { uid: { type: 'THVGroup', id: 'eng' }, attrs: {}, parents: [{ type: 'Role', id: 'deployer' }] },
      { uid: 'Tool::"deploy"', attrs: { owner: 'alice', name: 'must be overridden' }, parents: [] },
    ]);
    const { authz } = authorizer(
      [
        'permit(principal in Role::"deployer", action == Action::"call_tool", resource == Tool::"deploy");',
        'permit(principal, action == Action::"call_tool", resource) when { resource has owner && resource.owner == principal.claim_sub && resource.name == "deploy" };',
      ],
      { entitiesJson },
    );
    expect(authz.isAllowed(who('dave', { groups: ['eng'] }), 'call_tool', 'Tool', 'deploy')).toBe(true);
    expect(authz.isAllowed(who('alice'), 'call_tool', 'Tool', 'deploy')).toBe(true);
    expect(authz.isAllowed(who('erin', { groups: ['ops'] }), 'call_tool', 'Tool', 'deploy')).toBe(false);
  });

  it('allows by argument (arg_<name> on the resource and in the context; objects as arg_<name>_present)', () => {
    const { authz } = authorizer([
      'permit(principal, action == Action::"call_tool", resource == Tool::"deploy") when { resource has arg_env && resource.arg_env == "staging" };',
      'permit(principal, action == Action::"call_tool", resource == Tool::"query") when { context has arg_limit && context.arg_limit <= 100 && !(context has arg_filter_present) };',
    ]);
    expect(authz.isAllowed(bob, 'call_tool', 'Tool', 'deploy', { env: 'staging' })).toBe(true);
    expect(authz.isAllowed(bob, 'call_tool', 'Tool', 'deploy', { env: 'production' })).toBe(false);
    expect(authz.isAllowed(bob, 'call_tool', 'Tool', 'deploy')).toBe(false);
    expect(authz.isAllowed(bob, 'call_tool', 'Tool', 'query', { limit: 50 })).toBe(true);
    expect(authz.isAllowed(bob, 'call_tool', 'Tool', 'query', { limit: 500 })).toBe(false);
    expect(authz.isAllowed(bob, 'call_tool', 'Tool', 'query', { limit: 50, filter: { where: 'x' } })).toBe(false);
    expect(argAttributes({ s: 'x', n: 2, f: 1.5, o: {}, a: [], z: null }, () => true)).toEqual({
      arg_s: 'x',
      arg_n: 2,
      arg_f: { __extn: { fn: 'decimal', arg: '1.5000' } },
      arg_o_present: true,
      arg_a_present: true,
      arg_z_present: true,
    });
  });

  it('lets forbid override permit', () => {
    const { authz } = authorizer([
      'permit(principal, action, resource);',
      'forbid(principal, action == Action::"call_tool", resource == Tool::"rm_rf");',
    ]);
    expect(authz.isAllowed(alice, 'call_tool', 'Tool', 'ls')).toBe(true);
    expect(authz.isAllowed(alice, 'call_tool', 'Tool', 'rm_rf')).toBe(false);
  });

  it('reads resources by URI: the id is the URI itself; uri and (sanitized) name attributes', () => {
    const { authz } = authorizer([
      'permit(principal, action == Action::"read_resource", resource == Resource::"file:///data/config.json");',
      'permit(principal, action == Action::"read_resource", resource) when { resource.uri like "file:///logs/*" };',
      'permit(principal, action == Action::"read_resource", resource) when { resource.name == "mem___notes" };',
    ]);
    expect(authz.isAllowed(bob, 'read_resource', 'Resource', 'file:///data/config.json')).toBe(true);
    expect(authz.isAllowed(bob, 'read_resource', 'Resource', 'file:///logs/2024-01-01')).toBe(true);
    expect(authz.isAllowed(bob, 'read_resource', 'Resource', 'mem://notes')).toBe(true);
    expect(sanitizeUri('mem://notes')).toBe('mem___notes');
    expect(authz.isAllowed(bob, 'read_resource', 'Resource', 'file:///etc/passwd')).toBe(false);
  });

  it('has an anonymous principal (no caller: anonymous gateway, stdio) with no claims', () => {
    const { authz } = authorizer([
      'permit(principal == Client::"anonymous", action == Action::"call_tool", resource == Tool::"public");',
      'permit(principal in THVGroup::"eng", action, resource);',
    ]);
    expect(authz.isAllowed(undefined, 'call_tool', 'Tool', 'public')).toBe(true);
    expect(authz.isAllowed(undefined, 'call_tool', 'Tool', 'internal')).toBe(false);
    expect(authz.isAllowed(alice, 'call_tool', 'Tool', 'public')).toBe(true);
  });

  it('does not let a claim forge an entity through Cedar JSON escapes', () => {
    const forged = who('mallory', {
      x: { __entity: { type: 'THVGroup', id: 'admins' } },
      groups: [{ __entity: { type: 'THVGroup', id: 'admins' } }],
    });
    const { authz } = authorizer([
      'permit(principal in THVGroup::"admins", action, resource);',
      'permit(principal, action, resource) when { principal has claim_x && principal.claim_x == THVGroup::"admins" };',
    ]);
    expect(authz.isAllowed(forged, 'call_tool', 'Tool', 'x')).toBe(false);
  });
});

describe('Cedar authorizer: failing closed', () => {
  it('denies when any policy fails to evaluate, even if another permits, and logs it once without secrets', () => {
    const { authz, logs } = authorizer([
      'permit(principal, action == Action::"call_tool", resource == Tool::"echo");',
      'permit(principal, action == Action::"call_tool", resource) when { principal.claim_department == "sre" };',
    ]);
    const secretive = who('s3cr3t-subject', { email: 'private@example.com' });
    expect(authz.isAllowed(secretive, 'call_tool', 'Tool', 'echo', { password: 'hunter2' })).toBe(false);
    expect(authz.isAllowed(secretive, 'call_tool', 'Tool', 'echo')).toBe(false);
    expect(authz.isAllowed(who('sre', { department: 'sre' }), 'call_tool', 'Tool', 'echo')).toBe(true);
    const warnings = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      policy: 'incomingAuth.authz.policies[1]',
      action: 'call_tool',
      msg: expect.stringContaining('denied'),
    });
    expect(String(warnings[0].error)).toContain('claim_department');
    for (const secret of ['s3cr3t-subject', 'private@example.com', 'hunter2', TOKEN])
      expect(logs.join('\n')).not.toContain(secret);
  });

  it('denies on other evaluation errors too (Long overflow)', () => {
    const { authz } = authorizer([
      'permit(principal, action, resource) when { principal.claim_level + 9223372036854775000 > 0 };',
    ]);
    expect(authz.isAllowed(who('zero', { level: 0 }), 'call_tool', 'Tool', 'x')).toBe(true);
    expect(authz.isAllowed(who('five', { level: 5000 }), 'call_tool', 'Tool', 'x')).toBe(false);
  });

  it('denies when the engine itself throws (a lone surrogate in a claim), and keeps deciding afterwards', () => {
    const { authz, logs } = authorizer(['permit(principal, action, resource) when { principal has claim_x };']);
    expect(authz.isAllowed(who('u', { x: 'bad \uD800' }), 'call_tool', 'Tool', 't')).toBe(false);
    expect(logs.join('')).toContain('the Cedar engine failed');
    expect(authz.isAllowed(who('v', { x: 'fine' }), 'call_tool', 'Tool', 't')).toBe(true);
  });

  it('throws StartupError at start-up for a policy that does not parse, naming it and the place', () => {
    expect(
      startupError(['permit(principal, action, resource);', 'permit(principal, action, resource)\n  when { foo };']),
    ).toBe('incomingAuth.authz.policies[1] does not parse (line 2, column 10 of the policy): invalid variable: foo');
    expect(startupError(['permit(principal, action, resource == ?resource);'])).toMatch(
      /^incomingAuth\.authz\.policies\[0\] does not parse .*template/,
    );
  });

  it('throws StartupError for bad entitiesJson and a bad groupEntityType', () => {
    expect(startupError([], { entitiesJson: '[{' })).toMatch(/^incomingAuth\.authz\.entitiesJson is not valid JSON: /);
    expect(startupError([], { entitiesJson: '{}' })).toBe(
      'incomingAuth.authz.entitiesJson must be a JSON array of entities',
    );
    expect(startupError([], { entitiesJson: '[{"attrs": {}}]' })).toMatch(
      /^incomingAuth\.authz\.entitiesJson\[0\] has no valid uid/,
    );
    expect(
      startupError([], {
        entitiesJson:
          '[{"uid": {"type": "Tool", "id": "t"}, "attrs": {"x": {"__extn": {"fn": "decimal", "arg": "nope"}}}}]',
      }),
    ).toMatch(/^incomingAuth\.authz\.entitiesJson does not parse: .*well-formed decimal/);
    expect(startupError([], { groupEntityType: 'Not A Type' })).toBe(
      'incomingAuth.authz.groupEntityType "Not A Type" is not a Cedar entity type name',
    );
  });

  it('denies everything with no policies, and says so at start-up', () => {
    const { authz, logs } = authorizer([]);
    expect(authz.isAllowed(alice, 'call_tool', 'Tool', 'x')).toBe(false);
    expect(logs.join('')).toContain('no policies');
  });
});

describe("Cedar authorizer: slicing and attribute pruning give the full evaluation's decisions", () => {
  const POLICIES = [
    'permit(principal, action == Action::"call_tool", resource == Tool::"t1");',
    'permit(principal in THVGroup::"eng", action in [Action::"call_tool", Action::"get_prompt"], resource) when { resource has arg_env && resource.arg_env == "staging" };',
    'forbid(principal, action, resource is Prompt) when { context has claim_level && context.claim_level < 3 };',
    'permit(principal, action == Action::"read_resource", resource) when { resource.uri like "file:///logs/*" };',
    'permit(principal, action, resource == Tool::"t2") when { principal.claim_role == "admin" };',
    'forbid(principal == Client::"mallory", action, resource);',
    'permit(principal, action == Action::"get_prompt", resource) when { context == {} };',
    'permit(principal, action in Action::"readers", resource is Tool) when { resource has owner && principal has claim_sub && resource.owner == principal.claim_sub };',
    'permit(principal, action, resource in Folder::"public");',
  ];
  const ENTITIES: CedarEntity[] = [
    { uid: { type: 'Action', id: 'call_tool' }, attrs: {}, parents: [{ type: 'Action', id: 'readers' }] },
    { uid: { type: 'Tool', id: 't3' }, attrs: { owner: 'bob' }, parents: [] },
    { uid: { type: 'Tool', id: 't4' }, attrs: {}, parents: [{ type: 'Folder', id: 'public' }] },
  ];
  const REQUESTS: Array<[AuthzAction, AuthzResourceType, string]> = [
    ['call_tool', 'Tool', 't1'],
    ['call_tool', 'Tool', 't2'],
    ['call_tool', 'Tool', 't3'],
    ['call_tool', 'Tool', 't4'],
    ['get_prompt', 'Prompt', 'p1'],
    ['read_resource', 'Resource', 'file:///logs/a'],
    ['read_resource', 'Resource', 'file:///etc/x'],
  ];
  const PRINCIPALS = [undefined, alice, bob, who('mallory'), who('dan', { groups: ['eng'], level: 1 })];
  const ARGS = [undefined, { env: 'staging' }, { env: 'prod', cfg: { a: 1 } }];

  /** Every attribute, every policy, one isAuthorized call: what the authorizer must agree with. */
  function reference(
    policies: string[],
    p: Principal | undefined,
    action: AuthzAction,
    type: AuthzResourceType,
    id: string,
    args?: Record<string, unknown>,
  ): boolean {
    const claims: Record<string, CedarValue> = {};
    for (const [k, v] of Object.entries(p?.claims ?? {})) {
      const c = claimValue(v);
      if (c !== undefined) claims[`claim_${k}`] = c;
    }
    const argAttrs = argAttributes(args, () => true);
    const meta = { Tool: ['call', 'tool'], Prompt: ['get', 'prompt'], Resource: ['read', 'resource'] }[type];
    const attrs: Record<string, CedarValue> = {
      name: type === 'Resource' ? sanitizeUri(id) : id,
      operation: meta[0],
      feature: meta[1],
      ...(type === 'Resource' ? { uri: id } : {}),
      ...argAttrs,
    };
    const principal = { type: 'Client', id: p?.sub ?? 'anonymous' };
    const groups = (p?.claims.groups as string[] | undefined) ?? [];
    const mine = [
      { uid: principal, attrs: claims, parents: groups.map((g) => ({ type: 'THVGroup', id: g })) },
      { uid: { type, id }, attrs, parents: [] as Array<{ type: string; id: string }> },
    ];
    const merged = mine.map((e) => {
      const s = ENTITIES.find((x) => x.uid.type === e.uid.type && x.uid.id === e.uid.id);
      return s ? { uid: e.uid, attrs: { ...s.attrs, ...e.attrs }, parents: [...s.parents, ...e.parents] } : e;
    });
    const rest = ENTITIES.filter((s) => !merged.some((e) => e.uid.type === s.uid.type && e.uid.id === s.uid.id));
    const answer = isAuthorized({
      principal,
      action: { type: 'Action', id: action },
      resource: { type, id },
      context: { ...claims, ...argAttrs },
      policies: { staticPolicies: Object.fromEntries(policies.map((t, i) => [`policy${i}`, t])) },
      entities: [...rest, ...merged] as never,
    });
    if (answer.type !== 'success') throw new Error(JSON.stringify(answer.errors));
    return answer.response.diagnostics.errors.length === 0 && answer.response.decision === 'allow';
  }

  // `context == {}` reads the whole context, which turns context pruning off: test with and without it.
  const SETS = {
    'with a whole-context policy': POLICIES,
    'without one': POLICIES.filter((p) => !p.includes('context == {}')),
  };

  it.each(Object.entries(SETS))(
    'agrees on every principal × request × arguments combination, %s',
    (_name, policies) => {
      const { authz } = authorizer(policies, { entitiesJson: JSON.stringify(ENTITIES) });
      const outcomes: boolean[] = [];
      for (const p of PRINCIPALS) {
        for (const [action, type, id] of REQUESTS) {
          for (const args of ARGS) {
            const want = reference(policies, p, action, type, id, args);
            expect(
              authz.isAllowed(p, action, type, id, args),
              `${p?.sub ?? 'anonymous'} ${action} ${type}::"${id}" ${JSON.stringify(args)}`,
            ).toBe(want);
            outcomes.push(want);
          }
        }
      }
      // The table exercises both outcomes, so agreement means something.
      expect(outcomes.filter(Boolean).length).toBeGreaterThan(10);
      expect(outcomes.filter((x) => !x).length).toBeGreaterThan(10);
    },
  );
});

describe('Cedar authorizer: cost per decision', () => {
  it('filters a 1,000-tool list (measured, not asserted: timing belongs in bench/)', () => {
    const tools = Array.from({ length: 1000 }, (_, i) => `tool_${i}`);
    const perTool = tools
      .slice(0, 20)
      .map((t) => `permit(principal, action == Action::"call_tool", resource == Tool::"${t}");`);
    const sliced = authorizer([
      ...perTool,
      'permit(principal in THVGroup::"eng", action == Action::"call_tool", resource == Tool::"tool_999");',
    ]).authz;
    const general = authorizer([
      ...perTool,
      'permit(principal, action == Action::"call_tool", resource) when { principal has claim_role && principal.claim_role == "admin" };',
    ]).authz;
    const measure = (authz: Authorizer) => {
      for (const t of tools.slice(0, 50)) authz.isAllowed(alice, 'call_tool', 'Tool', t); // warm-up
      const start = performance.now();
      const allowed = tools.filter((t) => authz.isAllowed(alice, 'call_tool', 'Tool', t)).length;
      const ms = performance.now() - start;
      return { allowed, ms, perSecond: Math.round((tools.length / ms) * 1000) };
    };
    const a = measure(sliced);
    const b = measure(general);
    expect(a.allowed).toBe(21);
    expect(b.allowed).toBe(1000);
    console.log(
      `cedar: 1,000-tool list filter: ${a.ms.toFixed(1)} ms (${a.perSecond}/s) when 21 per-tool policies apply; ` +
        `${b.ms.toFixed(1)} ms (${b.perSecond}/s) when a claim policy applies to every tool`,
    );
  });
});

describe('Cedar authorizer in a bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-cedar-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const probe = (authz: CompiledAuthz) => `
import { cedarAuthorizer } from './runtime/auth/authz/cedar.ts';
import { createLogger } from './runtime/log.ts';
const who = (sub, claims) => ({ key: sub, iss: 'i', sub, claims: { sub, ...claims }, token: 't' });
const t0 = performance.now();
const a = cedarAuthorizer(${JSON.stringify(authz)}, createLogger({}, 'warn'));
const initMs = performance.now() - t0;
process.stdout.write(JSON.stringify({
  initMs,
  echo: a.isAllowed(undefined, 'call_tool', 'Tool', 'echo'),
  other: a.isAllowed(undefined, 'call_tool', 'Tool', 'other'),
  admin: a.isAllowed(who('alice', { role: 'admin' }), 'call_tool', 'Tool', 'other'),
  guest: a.isAllowed(who('bob', { role: 'guest' }), 'call_tool', 'Tool', 'other'),
}));
`;

  it('embeds the .wasm and decides with plain node from a folder with no node_modules', async () => {
    const authz: CompiledAuthz = {
      type: 'cedar',
      policies: [
        'permit(principal, action == Action::"call_tool", resource == Tool::"echo");',
        'permit(principal, action, resource) when { principal has claim_role && principal.claim_role == "admin" };',
      ],
      entitiesJson: '[]',
    };
    const out = await bundleRouter(probe(authz), 'cedar-probe');
    const file = join(dir, 'probe.mjs');
    writeFileSync(file, out.code);
    for (let d = dir; dirname(d) !== d; d = dirname(d)) expect(existsSync(join(d, 'node_modules')), d).toBe(false);
    const r = spawnSync(process.execPath, [file], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(got).toMatchObject({ echo: true, other: false, admin: true, guest: false });
    expect(Object.keys(out.metafile.inputs)).toContain('runtime/auth/authz/cedar-wasm-bytes.ts');
    expect(out.legal).toContain('@cedar-policy/cedar-wasm');

    // The same entry without Cedar carries none of it.
    const plain = await bundleRouter(
      `import { createLogger } from './runtime/log.ts';\ncreateLogger().info({}, 'hi');\n`,
      'plain-probe',
    );
    expect(Object.keys(plain.metafile.inputs).filter((p) => p.includes('cedar'))).toEqual([]);
    console.log(
      `cedar: bundle ${(out.code.length / 1024).toFixed(0)} KB with the authorizer vs ${(plain.code.length / 1024).toFixed(1)} KB without; authorizer start-up in the bundle ${(got.initMs as number).toFixed(0)} ms (inflate + compile + parse)`,
    );
  });
});
