import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../compiler/config/validate.ts';
import { sortDiagnostics, type Diagnostic } from '../../compiler/diagnostics.ts';
import { buildGateway } from '../../compiler/emit/gateway.ts';
import { buildCatalog, type Catalog } from '../../compiler/resolve/catalog.ts';
import { checkLockFreshness, parseLock } from '../../compiler/resolve/lock-check.ts';
import type { CompiledGateway } from '../../runtime/types.ts';
import { compileFrozen, dumpGateway, fakeConfig, fakeLockText, positionOf } from './compile-helpers.ts';
import { ROUTING_CASES, type RoutingCase, type WantRouting } from './routing-cases.ts';

/** The routing tables in one comparable shape, whichever side they came from. */
interface RoutingView {
  tools: Record<string, string>;
  toolDefs: Record<string, Record<string, unknown>>;
  prompts: Record<string, string>;
  resources: Record<string, string>;
  templates: Record<string, { backend: string; pattern: string }>;
}

function viewOfCatalog(c: Catalog): RoutingView {
  return {
    tools: Object.fromEntries(c.tools.map((t) => [t.exposed, `${t.backend}/${t.original}`])),
    toolDefs: Object.fromEntries(c.tools.map((t) => [t.exposed, t.def])),
    prompts: Object.fromEntries(c.prompts.map((p) => [p.exposed, `${p.backend}/${p.original}`])),
    resources: Object.fromEntries(c.resources.map((r) => [r.key, r.backend])),
    templates: Object.fromEntries(c.resourceTemplates.map((t) => [t.key, { backend: t.backend, pattern: t.pattern! }])),
  };
}

function viewOfGateway(g: CompiledGateway): RoutingView {
  const backend = (i: number) => g.backends[i].name;
  const served = (list: string, key: string) => (JSON.parse(list) as Array<Record<string, unknown>>).map((d) => [String(d[key]), d] as const);
  // The served lists and the route tables must name the same items, in sorted order.
  expect(served(g.lists.tools, 'name').map(([n]) => n)).toEqual(Object.keys(g.tools));
  expect(served(g.lists.prompts, 'name').map(([n]) => n)).toEqual(Object.keys(g.prompts));
  expect(served(g.lists.resources, 'uri').map(([n]) => n)).toEqual(Object.keys(g.resources));
  expect(served(g.lists.resourceTemplates, 'uriTemplate').map(([n]) => n)).toEqual(g.resourceTemplates.map((t) => t.uriTemplate));
  return {
    tools: Object.fromEntries(Object.entries(g.tools).map(([k, r]) => [k, `${backend(r.backend)}/${r.name}`])),
    toolDefs: Object.fromEntries(served(g.lists.tools, 'name')),
    prompts: Object.fromEntries(Object.entries(g.prompts).map(([k, r]) => [k, `${backend(r.backend)}/${r.name}`])),
    resources: Object.fromEntries(Object.entries(g.resources).map(([k, r]) => [k, backend(r.backend)])),
    templates: Object.fromEntries(g.resourceTemplates.map((t) => [t.uriTemplate, { backend: backend(t.backend), pattern: t.pattern }])),
  };
}

function expectView(view: RoutingView, want: WantRouting): void {
  expect(view.tools).toEqual(want.tools ?? {});
  for (const [name, def] of Object.entries(want.toolDefs ?? {})) expect(view.toolDefs[name]).toEqual(def);
  expect(view.prompts).toEqual(want.prompts ?? {});
  expect(view.resources).toEqual(want.resources ?? {});
  expect(Object.keys(view.templates).sort()).toEqual(Object.keys(want.templates ?? {}).sort());
  for (const [template, w] of Object.entries(want.templates ?? {})) {
    const got = view.templates[template];
    expect(got.backend).toBe(w.backend);
    const re = new RegExp(got.pattern);
    for (const uri of w.match) expect(re.test(uri), `${got.pattern} should match ${uri}`).toBe(true);
    for (const uri of w.reject) expect(re.test(uri), `${got.pattern} should reject ${uri}`).toBe(false);
  }
}

function expectDiagnostics(got: readonly Diagnostic[], c: RoutingCase, text: string): void {
  const want = (c.want.diagnostics ?? []).map((w) => {
    const [before, after] = w.at.includes('|') ? w.at.split('|') : ['', w.at];
    const pos = positionOf(text, before + after);
    const column = before.includes('\n') ? before.length - before.lastIndexOf('\n') : pos.column + before.length;
    const line = pos.line + (before.match(/\n/g)?.length ?? 0);
    return { code: w.code, severity: w.severity, file: 'vmcp.yaml', line, column, message: expect.stringContaining(w.message ?? '') };
  });
  expect(got.map(({ code, severity, file, line, column, message }) => ({ code, severity, file, line, column, message }))).toEqual(want);
}

const given = (c: RoutingCase) => ({ text: fakeConfig(Object.keys(c.backends).sort(), c.yaml), lockText: fakeLockText(c.backends) });
const fails = (c: RoutingCase) => (c.want.diagnostics ?? []).some((d) => d.severity === 'error');

describe('routing cases: resolver', () => {
  it.each(ROUTING_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { text, lockText } = given(c);
    const loaded = loadConfig('vmcp.yaml', text, { env: {}, readFile: () => undefined });
    expect(loaded.value, JSON.stringify(loaded.diagnostics)).toBeDefined();
    const valid = loaded.value!;
    const lock = parseLock(lockText, 'vmcp.yaml').value!;
    expect(checkLockFreshness(valid, lock)).toEqual([]);
    const catalog = buildCatalog(valid.config, valid.backends, lock, { file: 'vmcp.yaml', locator: valid.parsed.locator });
    // compile() adds BACKEND_ABSENT for absent lock entries; compare the same set here.
    const absent = valid.backends.filter((b) => lock.backends[b.name].status === 'absent').map((b) => ({ code: 'BACKEND_ABSENT' as const, severity: 'warning' as const, file: 'vmcp.yaml', ...valid.parsed.locator.at(b.origin.path), message: `backend "${b.name}" is recorded as absent` }));
    expectDiagnostics(sortDiagnostics([...loaded.diagnostics, ...catalog.diagnostics, ...absent]), c, text);
    if (fails(c)) return;
    expectView(viewOfCatalog(catalog.value), c.want);
    expectView(viewOfGateway(buildGateway(valid.config, valid.backends, lock, catalog.value)), c.want);
  });
});

describe('routing cases: bundled router (node <bundle> --dump-gateway)', () => {
  const dumped = new Map<string, { gateway?: CompiledGateway; expected?: CompiledGateway; unsupported?: string }>();
  const compiled = new Map<string, Awaited<ReturnType<typeof compileFrozen>>>();

  beforeAll(async () => {
    let unsupported: string | undefined;
    for (const c of ROUTING_CASES) {
      const { text, lockText } = given(c);
      const out = await compileFrozen(text, lockText);
      compiled.set(c.name, out);
      if (!out.value) continue;
      // One probe decides support; after that a crash is a failure, never a skip.
      const r = unsupported ? { unsupported } : dumpGateway(out.value.bundle.code, out.value.gateway.name);
      if ('unsupported' in r) unsupported = r.unsupported;
      dumped.set(c.name, { ...r, expected: out.value.gateway });
    }
  }, 300_000);

  it.for(ROUTING_CASES.map((c) => [c.name, c] as const))('%s', ([, c], ctx) => {
    const out = compiled.get(c.name)!;
    const { text } = given(c);
    expectDiagnostics(out.diagnostics, c, text);
    if (fails(c)) {
      expect(out.value).toBeUndefined();
      return;
    }
    const d = dumped.get(c.name)!;
    if (d.unsupported) ctx.skip(`runtime bundle does not support --dump-gateway yet: ${d.unsupported}`);
    expect(d.gateway).toEqual(d.expected);
    expectView(viewOfGateway(d.gateway!), c.want);
  });
});
