/**
 * Composite tools, compiled: each workflow of `compositeTools[]` becomes a CompositePlan (the data
 * the runtime's engine runs) and an MCP tool definition to advertise, after every check that needs
 * the pinned catalog: step tools resolved, arguments against inputSchemas, templates against the
 * parameters and the DAG, output fields against outputSchemas, defaultResults for skippable steps,
 * conditions, name collisions, and annotations. Diagnostics point into vmcp.yaml. Pure.
 */
import type { CompositeToolConfig, VmcpConfig } from '../../schemas/vmcp.ts';
import type { CompositePlan, StepPlan } from '../../runtime/composite/plan.ts';
import { parseDuration } from '../../runtime/duration.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { Lockfile } from '../lock.ts';
import type { ConfigPath } from '../config/locate.ts';
import { suggest } from '../config/suggest.ts';
import { TOOL_NAME_RE, type Catalog } from '../resolve/catalog.ts';
import type { ResolvedBackend } from '../resolve/group.ts';
import { compileOutput } from './compile-output.ts';
import { compileStep } from './compile-step.ts';
import { stepOutputSchema } from './step-options.ts';
import { checkAnnotations, checkDefaultResults } from './composite-checks.ts';
import type { TemplateContext } from './compile-template.ts';
import { ancestorsOf, checkDag, type DagProblem } from './dag.ts';
import { createReporter, type Reporter, type SourceFile } from './place.ts';
import { indexTools, type ResolvedTool, type ToolIndex } from './resolve-tool.ts';
import type { SchemaLike, TemplateScope } from './template-check.ts';

/** Composite tools as compiled: the plans the engine runs and the tool definitions to advertise. */
export interface CompiledComposites {
  plans: CompositePlan[];
  tools: Record<string, unknown>[];
}

/** Everything the composite phase reads, normalized once. */
export interface CompositeInput {
  config: VmcpConfig;
  /** The resolved group (ValidConfig.backends); plan backend indexes point into it. */
  backends: readonly ResolvedBackend[];
  lock: Lockfile;
  catalog: Catalog;
  /** The config file, for positions. */
  src: SourceFile;
}

/** Steps of one level running at once (ToolHive's default). */
const MAX_PARALLEL = 10;

/** Compiles every composite tool; a composite with errors yields no plan. */
export function compileComposites(input: CompositeInput): { value: CompiledComposites; diagnostics: Diagnostic[] } {
  const rep = createReporter(input.src);
  const tools = indexTools(input.config, input.backends, input.lock, input.catalog);
  const out: CompiledComposites = { plans: [], tools: [] };
  const seen = new Map<string, number>();
  (input.config.compositeTools ?? []).forEach((ct, i) => {
    const base: ConfigPath = ['compositeTools', i];
    checkName(ct, i, base, input, tools, seen, rep);
    const before = rep.diagnostics.filter((d) => d.severity === 'error').length;
    const compiled = compileComposite(ct, base, tools, rep);
    if (compiled && rep.diagnostics.filter((d) => d.severity === 'error').length === before) {
      out.plans.push(compiled.plan);
      out.tools.push(compiled.tool);
    }
  });
  return { value: out, diagnostics: rep.diagnostics };
}

function checkName(
  ct: CompositeToolConfig,
  i: number,
  base: ConfigPath,
  input: CompositeInput,
  tools: ToolIndex,
  seen: Map<string, number>,
  rep: Reporter,
): void {
  const at = [...base, 'name'];
  const limit = input.config.aggregation.nameLimit;
  if (!TOOL_NAME_RE.test(ct.name))
    rep.at(
      'INVALID_NAME',
      `composite name "${ct.name}" breaks the MCP name rule ^[A-Za-z0-9._-]{1,128}$`,
      at,
      'use letters, digits, "_", "-" or "."',
    );
  else if (ct.name.length > limit)
    rep.at(
      'NAME_TOO_LONG',
      `composite name "${ct.name}" is ${ct.name.length} characters, over aggregation.nameLimit (${limit})`,
      at,
      'shorten the name',
    );
  const tool = input.catalog.tools.find((t) => t.exposed === ct.name);
  if (tools.exposedNames.has(ct.name) && tool)
    rep.at(
      'COMPOSITE_NAME_CONFLICT',
      `composite "${ct.name}" has the name of the advertised tool "${tool.exposed}" (backend "${tool.backend}", tool "${tool.original}")`,
      at,
      `rename the composite, or rename the tool with aggregation.tools[].overrides (workload ${tool.backend}, tool ${tool.original})`,
    );
  const first = seen.get(ct.name);
  if (first !== undefined)
    rep.at(
      'COMPOSITE_NAME_CONFLICT',
      `composite name "${ct.name}" is used twice (first by compositeTools[${first}])`,
      at,
      'rename one of the two composites',
    );
  else seen.set(ct.name, i);
  if (ct.failureMode !== undefined)
    rep.at(
      'UNSUPPORTED',
      'failureMode appears in ToolHive examples but is not part of its workflow config; it has no effect',
      [...base, 'failureMode'],
      'remove failureMode and set onError on the steps that may fail',
      'warning',
      true,
    );
}

function compileComposite(
  ct: CompositeToolConfig,
  base: ConfigPath,
  tools: ToolIndex,
  rep: Reporter,
): { plan: CompositePlan; tool: Record<string, unknown> } | undefined {
  const parameters = checkParameters(ct, base, rep);
  const steps = ct.steps;
  const dag = checkDag(steps);
  for (const p of dag.problems) reportDag(p, ct, base, rep);
  const stepPath = (i: number): ConfigPath => [...base, 'steps', i];

  // Pass 1: each step's tool and the output schema it offers (a step may read a step written after it).
  const resolved: Array<ResolvedTool | undefined> = steps.map((s, i) => {
    const name = s.type === 'tool' ? s.tool : s.type === 'forEach' ? s.step?.tool : undefined;
    if (name === undefined) return undefined;
    const r = tools.resolve(name);
    if ('problem' in r) {
      const where = s.type === 'tool' ? [...stepPath(i), 'tool'] : [...stepPath(i), 'step', 'tool'];
      rep.at(r.problem.code, r.problem.message, where, r.problem.hint);
      return undefined;
    }
    return r.tool;
  });
  const schemas = new Map(steps.map((s, i) => [s.id, stepOutputSchema(s, resolved[i])]));
  const ids = new Set(steps.map((s) => s.id));
  const params = (parameters.properties ?? {}) as Record<string, SchemaLike>;
  const scopeFor = (ancestors: Iterable<string>): TemplateScope => ({
    params,
    steps: { all: ids, ancestors: new Map([...ancestors].map((a) => [a, schemas.get(a) ?? null])) },
  });

  // Pass 2: each step's plan, its templates checked against what has run before it.
  const ctx: TemplateContext = { rep, reads: [] };
  const plans = steps.map((s, i) =>
    compileStep({ step: s, path: stepPath(i), scope: scopeFor(ancestorsOf(steps, s.id)), tool: resolved[i], ctx }),
  );
  const output = ct.output ? compileOutput(ct.output, [...base, 'output'], scopeFor(ids), ctx) : undefined;
  checkDefaultResults(ct, ctx.reads, rep);
  const annotations = checkAnnotations(ct, base, resolved, rep);

  const tool: Record<string, unknown> = {
    name: ct.name,
    description: ct.description,
    inputSchema: parameters,
    ...(output ? { outputSchema: output.schema } : {}),
    annotations,
  };
  if (!dag.levels || plans.some((p) => p === undefined)) return undefined;
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const plan: CompositePlan = {
    name: ct.name,
    parameters,
    timeoutMs: parseDuration(ct.timeout) ?? 30 * 60_000,
    steps: plans as StepPlan[],
    levels: dag.levels.map((l) => l.map((id) => index.get(id)!)),
    maxParallel: MAX_PARALLEL,
    ...(output ? { output: output.plan } : {}),
    resultStep: steps.length - 1,
  };
  return { plan, tool };
}

/** The parameters' JSON Schema: an object schema (ToolHive's rule), `{type: object}` when absent. */
function checkParameters(ct: CompositeToolConfig, base: ConfigPath, rep: Reporter): Record<string, unknown> {
  const p = ct.parameters;
  if (!p) return { type: 'object', properties: {} };
  const at = [...base, 'parameters'];
  if (p.type !== 'object')
    rep.at(
      'COMPOSITE_PARAMETERS',
      `parameters must be a JSON Schema of type object, not ${p.type === undefined ? 'a schema without type' : JSON.stringify(p.type)}`,
      p.type === undefined ? at : [...at, 'type'],
      'write parameters: {type: object, properties: {name: {type: string}}, required: [name]}',
      'error',
      p.type === undefined,
    );
  const props = p.properties;
  if (props !== undefined && (props === null || typeof props !== 'object' || Array.isArray(props)))
    rep.at(
      'COMPOSITE_PARAMETERS',
      'parameters.properties must be a mapping of parameter names to schemas',
      [...at, 'properties'],
      'write properties: {name: {type: string}}',
    );
  const names = props && typeof props === 'object' ? Object.keys(props) : [];
  if (Array.isArray(p.required))
    p.required.forEach((r, i) => {
      if (typeof r === 'string' && names.includes(r)) return;
      const guess = suggest(String(r), names);
      rep.at(
        'COMPOSITE_PARAMETERS',
        `parameters.required names "${String(r)}", which parameters.properties does not declare`,
        [...at, 'required', i],
        guess ? `did you mean "${guess}"?` : 'declare it under parameters.properties',
      );
    });
  return { ...p, type: 'object' };
}

function reportDag(p: DagProblem, ct: CompositeToolConfig, base: ConfigPath, rep: Reporter): void {
  const step: ConfigPath = [...base, 'steps', p.step];
  switch (p.code) {
    case 'EMPTY_WORKFLOW':
      return rep.at(
        p.code,
        `composite "${ct.name}": ${p.message}`,
        [...base, 'steps'],
        'add a step: {id: first, tool: <backend.tool>}',
      );
    case 'TOO_MANY_STEPS':
      return rep.at(p.code, `composite "${ct.name}": ${p.message}`, step, 'split the workflow into several composites');
    case 'DUPLICATE_STEP':
      return rep.at(p.code, p.message, [...step, 'id'], 'give every step its own id');
    case 'UNKNOWN_DEPENDENCY': {
      const s = ct.steps[p.step];
      const guess = suggest(
        s.dependsOn[p.dependency!],
        ct.steps.map((x) => x.id).filter((id) => id !== s.id),
      );
      return rep.at(
        p.code,
        p.message,
        [...step, 'dependsOn', p.dependency!],
        guess ? `did you mean "${guess}"?` : 'name a step id of this workflow',
      );
    }
    case 'CYCLE':
      return rep.at(
        p.code,
        p.message,
        [...step, 'dependsOn'],
        'remove one dependsOn entry on the cycle',
        'error',
        true,
      );
  }
}
