import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../compiler/config/validate.ts';
import { sortDiagnostics, type Diagnostic } from '../../compiler/diagnostics.ts';
import { buildGateway } from '../../compiler/emit/gateway.ts';
import { buildCatalog, type Catalog } from '../../compiler/resolve/catalog.ts';
import { checkLockFreshness, parseLock } from '../../compiler/resolve/lock-check.ts';
import type { CompiledGateway } from '../../runtime/compiled-gateway.ts';
import { compileFrozen, fakeCatalog, fakeConfig, fakeLockText, positionOf } from './compile-helpers.ts';
import { startRoutedBundle, type Received, type RoutedBundle } from './routed-bundle.ts';
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
  const served = (list: string, key: string) =>
    (JSON.parse(list) as Array<Record<string, unknown>>).map((d) => [String(d[key]), d] as const);
  // The served lists and the route tables must name the same items, in sorted order.
  expect(served(g.lists.tools, 'name').map(([n]) => n)).toEqual(Object.keys(g.tools));
  expect(served(g.lists.prompts, 'name').map(([n]) => n)).toEqual(Object.keys(g.prompts));
  expect(served(g.lists.resources, 'uri').map(([n]) => n)).toEqual(Object.keys(g.resources));
  expect(served(g.lists.resourceTemplates, 'uriTemplate').map(([n]) => n)).toEqual(
    g.resourceTemplates.map((t) => t.uriTemplate),
  );
  return {
    tools: Object.fromEntries(Object.entries(g.tools).map(([k, r]) => [k, `${backend(r.backend)}/${r.name}`])),
    toolDefs: Object.fromEntries(served(g.lists.tools, 'name')),
    prompts: Object.fromEntries(Object.entries(g.prompts).map(([k, r]) => [k, `${backend(r.backend)}/${r.name}`])),
    resources: Object.fromEntries(Object.entries(g.resources).map(([k, r]) => [k, backend(r.backend)])),
    templates: Object.fromEntries(
      g.resourceTemplates.map((t) => [t.uriTemplate, { backend: backend(t.backend), pattern: t.pattern }]),
    ),
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
    return {
      code: w.code,
      severity: w.severity,
      file: 'vmcp.yaml',
      line,
      column,
      message: expect.stringContaining(w.message ?? ''),
    };
  });
  expect(
    got.map(({ code, severity, file, line, column, message }) => ({ code, severity, file, line, column, message })),
  ).toEqual(want);
}

const given = (c: RoutingCase) => ({
  text: fakeConfig(Object.keys(c.backends).sort(), c.yaml),
  lockText: fakeLockText(c.backends),
});
const fails = (c: RoutingCase) => (c.want.diagnostics ?? []).some((d) => d.severity === 'error');

describe('routing cases: resolver', () => {
  it.each(ROUTING_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { text, lockText } = given(c);
    const loaded = loadConfig('vmcp.yaml', text, { env: {}, readFile: () => undefined });
    expect(loaded.value, JSON.stringify(loaded.diagnostics)).toBeDefined();
    const valid = loaded.value!;
    const lock = parseLock(lockText, 'vmcp.yaml').value!;
    expect(checkLockFreshness(valid, lock)).toEqual([]);
    const catalog = buildCatalog(valid.config, valid.backends, lock, {
      file: 'vmcp.yaml',
      locator: valid.parsed.locator,
    });
    // compile() adds BACKEND_ABSENT for absent lock entries; compare the same set here.
    const absent = valid.backends
      .filter((b) => lock.backends[b.name].status === 'absent')
      .map((b) => ({
        code: 'BACKEND_ABSENT' as const,
        severity: 'warning' as const,
        file: 'vmcp.yaml',
        ...valid.parsed.locator.at(b.origin.path),
        message: `backend "${b.name}" is recorded as absent`,
      }));
    expectDiagnostics(sortDiagnostics([...loaded.diagnostics, ...catalog.diagnostics, ...absent]), c, text);
    if (fails(c)) return;
    expectView(viewOfCatalog(catalog.value), c.want);
    expectView(viewOfGateway(buildGateway(valid.config, valid.backends, lock, catalog.value)), c.want);
  });
});

/** Names and URIs the case's backends have (bare and `<backend>_`-prefixed) that the want does not expose, plus one made up. */
function unexposed(c: RoutingCase): { tools: string[]; prompts: string[]; uris: string[] } {
  const tools = new Set(['no_such_tool']);
  const prompts = new Set(['no_such_prompt']);
  const uris = new Set(['nosuch://x']);
  for (const [backend, fb] of Object.entries(c.backends)) {
    const catalog = fakeCatalog(fb);
    for (const t of catalog.tools) [String(t.name), `${backend}_${String(t.name)}`].forEach((n) => tools.add(n));
    for (const p of catalog.prompts) [String(p.name), `${backend}_${String(p.name)}`].forEach((n) => prompts.add(n));
    for (const r of catalog.resources) uris.add(String(r.uri));
  }
  const hidden = (all: Set<string>, shown: Record<string, unknown> = {}) =>
    [...all].filter((k) => !Object.hasOwn(shown, k)).sort();
  return {
    tools: hidden(tools, c.want.tools),
    prompts: hidden(prompts, c.want.prompts),
    uris: hidden(uris, c.want.resources),
  };
}

/** "backend/original" → what routing-backend.mjs reports for a call routed there. */
function reached(target: string): Received {
  const slash = target.indexOf('/');
  return { backend: target.slice(0, slash), name: target.slice(slash + 1) };
}

/**
 * Drives one call per wanted route through a running bundle and checks, from the fixture backend's
 * answer, which backend it reached and under which name; every unexposed name gets the gateway's
 * not-found error.
 */
async function expectRouted({ client, stderr }: RoutedBundle, c: RoutingCase): Promise<void> {
  const want = c.want;
  // The served lists name exactly the wanted items.
  const listed = await client.listTools();
  expect(listed.tools.map((t) => t.name).sort(), stderr()).toEqual(Object.keys(want.tools ?? {}).sort());
  for (const [name, def] of Object.entries(want.toolDefs ?? {}))
    expect(listed.tools.find((t) => t.name === name)).toEqual(def);
  expect((await client.listPrompts()).prompts.map((p) => p.name).sort()).toEqual(
    Object.keys(want.prompts ?? {}).sort(),
  );
  expect((await client.listResources()).resources.map((r) => r.uri).sort()).toEqual(
    Object.keys(want.resources ?? {}).sort(),
  );
  expect((await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual(
    Object.keys(want.templates ?? {}).sort(),
  );
  for (const [name, target] of Object.entries(want.tools ?? {})) {
    const r = await client.callTool({ name, arguments: {} });
    expect(r.structuredContent, `tools/call ${name}`).toEqual(reached(target));
  }
  for (const [name, target] of Object.entries(want.prompts ?? {})) {
    const r = await client.getPrompt({ name, arguments: {} });
    expect(JSON.parse((r.messages[0].content as { text: string }).text), `prompts/get ${name}`).toEqual(
      reached(target),
    );
  }
  const read = async (uri: string) =>
    JSON.parse(((await client.readResource({ uri })).contents[0] as { text: string }).text) as Received;
  for (const [uri, backend] of Object.entries(want.resources ?? {}))
    expect(await read(uri), `resources/read ${uri}`).toEqual({ backend, uri });
  const notFound = (code: number, message: string) =>
    expect.objectContaining({ code, message: expect.stringContaining(message) });
  for (const [template, w] of Object.entries(want.templates ?? {})) {
    for (const uri of w.match)
      expect(await read(uri), `resources/read ${uri} (template ${template})`).toEqual({ backend: w.backend, uri });
    for (const uri of w.reject)
      await expect(
        client.readResource({ uri }),
        `resources/read ${uri} (template ${template} must not match)`,
      ).rejects.toEqual(notFound(-32002, `Resource ${uri} not found`));
  }
  const hidden = unexposed(c);
  for (const name of hidden.tools)
    await expect(client.callTool({ name, arguments: {} }), `tools/call ${name}`).rejects.toEqual(
      notFound(-32602, `Tool ${name} not found`),
    );
  for (const name of hidden.prompts)
    await expect(client.getPrompt({ name, arguments: {} }), `prompts/get ${name}`).rejects.toEqual(
      notFound(-32602, `Prompt ${name} not found`),
    );
  for (const uri of hidden.uris)
    await expect(client.readResource({ uri }), `resources/read ${uri}`).rejects.toEqual(
      notFound(-32002, `Resource ${uri} not found`),
    );
}

// The same table, through a compiled bundle: real calls from the SDK client through
// `node <bundle> --stdio` to fixture backends that report what they received. (That the bundle
// embeds exactly the compiler's tables is bundle-contents.test.ts's --dump-gateway check.)
describe.concurrent('routing cases: bundled router (node <bundle> --stdio, real calls)', () => {
  it.for(ROUTING_CASES.map((c) => [c.name, c] as const))('%s', async ([, c]) => {
    const { text, lockText } = given(c);
    const out = await compileFrozen(text, lockText);
    expectDiagnostics(out.diagnostics, c, text);
    if (fails(c)) {
      expect(out.value).toBeUndefined();
      return;
    }
    const running = await startRoutedBundle(out.value!.bundle.code, c.backends);
    try {
      await expectRouted(running, c);
    } finally {
      await running.close();
    }
  });
});
