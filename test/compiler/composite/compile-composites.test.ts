/** compileComposites: the plans and tool definitions it emits, and where its diagnostics point. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Scalar, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compileComposites } from '../../../compiler/composite/compile-composites.ts';
import { sourceOffset } from '../../../compiler/composite/place.ts';
import { loadConfig } from '../../../compiler/config/validate.ts';
import type { Lockfile } from '../../../compiler/lock.ts';
import { buildCatalog } from '../../../compiler/resolve/catalog.ts';
import type { ToolStepPlan } from '../../../runtime/composite/plan.ts';
import { fakeConfig, fakeIdentity, fakeLockedBackend, type FakeBackend, ROOT } from '../compile-helpers.ts';

const GITHUB: FakeBackend = {
  tools: [
    {
      name: 'search',
      description: 'Search',
      inputSchema: { type: 'object', properties: { q: { type: 'string' }, n: { type: 'integer' } }, required: ['q'] },
      outputSchema: { type: 'object', properties: { total: { type: 'integer' } }, additionalProperties: false },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    {
      name: 'wipe',
      description: 'Wipe',
      inputSchema: { type: 'object', properties: {} },
      annotations: { destructiveHint: true },
    },
  ],
};

/** Compiles `rest` (YAML with compositeTools) over one backend "github" that hides "wipe". */
function run(rest: string, backends: Record<string, FakeBackend> = { github: GITHUB }) {
  const text = fakeConfig(
    Object.keys(backends),
    `aggregation:\n  tools:\n    - workload: github\n      filter: [search]\n${rest}`,
  );
  const loaded = loadConfig('vmcp.yaml', text, { env: {}, readFile: () => undefined });
  if (!loaded.value) throw new Error(JSON.stringify(loaded.diagnostics));
  const valid = loaded.value;
  const lock: Lockfile = {
    lockfileVersion: 1,
    backends: Object.fromEntries(Object.entries(backends).map(([n, b]) => [n, fakeLockedBackend(fakeIdentity(n), b)])),
  };
  const ctx = { file: 'vmcp.yaml', locator: valid.parsed.locator };
  const catalog = buildCatalog(valid.config, valid.backends, lock, ctx).value;
  return compileComposites({
    config: valid.config,
    backends: valid.backends,
    lock,
    catalog,
    src: { ...ctx, doc: valid.parsed.doc, source: text },
  });
}

const codes = (r: ReturnType<typeof run>) => r.diagnostics.map((d) => `${d.severity} ${d.code} ${d.line}:${d.column}`);

describe('compileComposites plans', () => {
  const r = run(`compositeTools:
  - name: flow
    description: Two levels
    parameters: { type: object, properties: { q: { type: string } } }
    steps:
      - id: a
        tool: github_search
        arguments: { q: "{{.params.q}}", n: 3, deep: { list: [x, "{{.params.q}}"] } }
      - id: b
        tool: github.wipe
        dependsOn: [a]
        condition: "{{gt .steps.a.output.total 0}}"
        defaultResults: {}
`);

  it('compiles without diagnostics', () => expect(codes(r)).toEqual([]));

  it('cuts the DAG into levels and returns the last step by default', () => {
    const [plan] = r.value.plans;
    expect(plan.levels).toEqual([[0], [1]]);
    expect(plan.resultStep).toBe(1);
    expect(plan.maxParallel).toBe(10);
    expect(plan.timeoutMs).toBe(30 * 60_000);
  });

  it('routes an advertised tool with its exposed name, a hidden one without', () => {
    const [a, b] = r.value.plans[0].steps as ToolStepPlan[];
    expect([a.exposed, a.backend, a.name]).toEqual(['github_search', 0, 'search']);
    expect(b.exposed).toBeUndefined();
    expect(b.name).toBe('wipe');
  });

  it('expands arguments: literals folded, templates at any depth', () => {
    const a = r.value.plans[0].steps[0] as ToolStepPlan;
    const obj = (a.arguments as { obj: Record<string, Record<string, unknown>> }).obj;
    expect(Object.keys(obj.q)).toEqual(['tpl']);
    expect(obj.n).toEqual({ lit: 3 });
    expect(Object.keys(obj.deep)).toEqual(['obj']);
  });

  it('applies step defaults', () => {
    const b = r.value.plans[0].steps[1];
    expect(b.timeoutMs).toBe(5 * 60_000);
    expect(b.onError).toEqual({ action: 'abort', retryCount: 0, retryDelayMs: 1000 });
    expect(b.defaultResults).toEqual({});
  });

  it('advertises the tool with annotations derived from the steps', () => {
    expect(r.value.tools[0]).toMatchObject({
      name: 'flow',
      inputSchema: { type: 'object' },
      annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
    });
  });
});

describe('compileComposites checks', () => {
  it.each([
    ['an advertised tool by backend.originalName keeps its exposed name', 'github.search', []],
    ['a hidden tool by a prefixed name', 'github_wipe', ['error STEP_HIDDEN_TOOL 16:15']],
    ['an unknown tool', 'github_serch', ['error STEP_UNKNOWN_TOOL 16:15']],
  ])('%s', (_name, tool, want) => {
    const r = run(`compositeTools:
  - name: one
    description: One step
    steps:
      - id: s
        tool: ${tool}
        arguments: { q: x }
`);
    expect(codes(r)).toEqual(want);
    if (!want.length) expect((r.value.plans[0].steps[0] as ToolStepPlan).exposed).toBe('github_search');
  });

  it('yields no plan for a composite with errors', () => {
    const r = run(`compositeTools:
  - name: bad
    description: Bad
    steps:
      - { id: s, tool: github_search, arguments: { q: "{{.params.nope}}" } }
`);
    expect(codes(r)).toEqual(['error TEMPLATE_UNKNOWN_PARAM 15:58']);
    expect(r.value.plans).toEqual([]);
  });

  it("compiles ToolHive's example with only the warnings about its stray keys", async () => {
    const { compileFrozen } = await import('../compile-helpers.ts');
    const dir = join(ROOT, 'test/fixtures/compile/golden/composite-toolhive-docs');
    const out = await compileFrozen(
      readFileSync(join(dir, 'vmcp.yaml'), 'utf8'),
      readFileSync(join(dir, 'vmcp.lock.json'), 'utf8'),
    );
    expect(out.diagnostics.map((d) => `${d.severity} ${d.code}`)).toEqual([
      'warning UNSUPPORTED',
      'warning DEPRECATED_KEY',
    ]);
    expect(out.value?.composites.plans.map((p) => p.name)).toEqual(['interactive_deployment']);
  });
});

describe('sourceOffset (template characters back to YAML source)', () => {
  it.each([
    ['plain', 'k: a {{.x}}\n', 5],
    ['double quoted with escapes before', 'k: "\\"q\\" {{.x}}"\n', 5],
    ['single quoted with a doubled quote', "k: 'it''s {{.x}}'\n", 5],
    ['a literal block', 'k: |\n  line one\n  at {{.x}}\n', 12],
  ])('%s', (_name, text, offset) => {
    const doc = parseDocument(text);
    const node = doc.get('k', true) as Scalar;
    const at = sourceOffset(text, node, offset);
    expect(at).toBeDefined();
    expect(text[at!]).toBe(String(node.value)[offset]);
  });

  it('gives up on a folded block (the caller points at the scalar)', () => {
    const text = 'k: >\n  one\n  two {{.x}}\n';
    const doc = parseDocument(text);
    expect(sourceOffset(text, doc.get('k', true) as Scalar, 8)).toBeUndefined();
  });
});

describe('validate with a lock (the compiler API)', () => {
  const dir = join(ROOT, 'test/fixtures/compile/golden/composite-unknown-param');
  const text = readFileSync(join(dir, 'vmcp.yaml'), 'utf8');
  const ctx = { env: {}, readFile: () => undefined };

  it('runs the composite checks against the pinned schemas', async () => {
    const { validate } = await import('../../../compiler/index.ts');
    const r = validate('vmcp.yaml', text, ctx, readFileSync(join(dir, 'vmcp.lock.json'), 'utf8'));
    expect(r.value).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['TEMPLATE_UNKNOWN_PARAM']);
  });

  it('says the workflows were checked for shape only without a lock', async () => {
    const { validate } = await import('../../../compiler/index.ts');
    const r = validate('vmcp.yaml', text, ctx);
    expect(r.value).toBeDefined();
    expect(r.diagnostics.map((d) => `${d.severity} ${d.code}`)).toEqual(['info LOCK_MISSING']);
  });
});
