/**
 * One workflow step, compiled into its plan (runtime/composite/plan.ts): the tool resolved and its
 * arguments checked against the pinned inputSchema, templates parsed and checked, defaults and
 * ToolHive's limits applied (a limit ToolHive clamps is clamped here with a warning; one it rejects
 * is an error). Also the output schema a step offers to the templates that read it. Pure.
 */
import type { StepConfig } from '../../schemas/vmcp.ts';
import type { ElicitationAction, StepPlan } from '../../runtime/composite/plan.ts';
import type { ConfigPath } from '../config/locate.ts';
import { compileTemplate, conditionProblem, type TemplateContext } from './compile-template.ts';
import { toolTarget } from './compile-tool-target.ts';
import type { ResolvedTool } from './resolve-tool.ts';
import { capped, depthOf, onErrorOf, STEP_LIMITS, timeoutOf } from './step-options.ts';
import type { TemplateScope } from './template-check.ts';

/** The keys that belong to each step type (the others are ignored, with a warning). */
const OWN_KEYS: Record<StepConfig['type'], readonly string[]> = {
  tool: ['tool', 'arguments'],
  elicitation: ['message', 'schema', 'onDecline', 'onCancel'],
  forEach: ['collection', 'itemVar', 'maxParallel', 'maxIterations', 'step'],
};

/** What compiling a step needs: where it is, what its templates may read, and its resolved tools. */
export interface StepInput {
  step: StepConfig;
  path: ConfigPath;
  scope: TemplateScope;
  /** The tool of a tool step, or the inner tool of a forEach step (undefined when it did not resolve). */
  tool?: ResolvedTool;
  ctx: TemplateContext;
}

/** The step's plan, or undefined when it is too broken to plan (the errors are reported). */
export function compileStep({ step, path, scope, tool, ctx }: StepInput): StepPlan | undefined {
  const rep = ctx.rep;
  for (const t of ['tool', 'elicitation', 'forEach'] as const) {
    if (t === step.type) continue;
    for (const key of OWN_KEYS[t]) {
      if ((step as Record<string, unknown>)[key] !== undefined && !OWN_KEYS[step.type].includes(key))
        rep.at(
          'STEP_IGNORED_FIELD',
          `${key} applies to ${t} steps; step "${step.id}" is a ${step.type} step${step.type === 'tool' ? ' (tool is the default type)' : ''}`,
          [...path, key],
          step.type === 'tool' ? `add type: ${t}, or remove ${key}` : `remove ${key}`,
          'warning',
          true,
        );
    }
  }
  let condition: StepPlan['condition'];
  if (step.condition !== undefined) {
    const c = compileTemplate(step.condition, [...path, 'condition'], scope, ctx);
    const problem = c && conditionProblem(step.condition, c.template, c.type);
    if (problem)
      rep.at(
        'CONDITION_NOT_BOOLEAN',
        `step "${step.id}": ${problem}`,
        [...path, 'condition'],
        'a condition must render true or false, e.g. {{eq .steps.check.status "completed"}}',
      );
    condition = c?.template;
  }
  const common = {
    id: step.id,
    dependsOn: step.dependsOn,
    ...(condition ? { condition } : {}),
    timeoutMs: timeoutOf(step, path, ctx),
    onError: onErrorOf(step.onError, [...path, 'onError'], ctx),
    ...(step.defaultResults !== undefined ? { defaultResults: step.defaultResults } : {}),
  };
  if (step.type === 'tool') {
    if (step.tool === undefined) {
      rep.at(
        'STEP_INCOMPLETE',
        `tool step "${step.id}" has no tool`,
        [...path, 'id'],
        'add tool: <advertised name or backend.originalName>',
      );
      return undefined;
    }
    const target = toolTarget(step, step.tool, path, scope, tool, ctx);
    return target && { type: 'tool', ...common, ...target };
  }
  if (step.type === 'elicitation') return elicitationPlan(step, path, scope, ctx, common);
  return forEachPlan(step, path, scope, tool, ctx, common);
}

function elicitationPlan(
  step: StepConfig,
  path: ConfigPath,
  scope: TemplateScope,
  ctx: TemplateContext,
  common: Omit<Extract<StepPlan, { type: 'elicitation' }>, 'type' | 'message' | 'schema'>,
): StepPlan | undefined {
  const rep = ctx.rep;
  if (step.message === undefined)
    rep.at(
      'STEP_INCOMPLETE',
      `elicitation step "${step.id}" has no message`,
      [...path, 'type'],
      'add message: the question to ask the user',
    );
  if (step.schema === undefined)
    rep.at(
      'STEP_INCOMPLETE',
      `elicitation step "${step.id}" has no schema`,
      [...path, 'type'],
      'add schema: {type: object, properties: {…}} for the answer',
    );
  else {
    const bytes = JSON.stringify(step.schema).length;
    const depth = depthOf(step.schema);
    if (bytes > STEP_LIMITS.schemaBytes || depth > STEP_LIMITS.schemaDepth)
      rep.at(
        'COMPOSITE_LIMIT',
        `the schema of elicitation step "${step.id}" is ${bytes > STEP_LIMITS.schemaBytes ? `${bytes} bytes, over ToolHive's 100 KB` : `${depth} levels deep, over ToolHive's 10`}`,
        [...path, 'schema'],
        'ask for less at once: split the question into several elicitation steps',
      );
  }
  const message =
    step.message === undefined ? undefined : compileTemplate(step.message, [...path, 'message'], scope, ctx);
  if (!message || !step.schema) return undefined;
  const action = (r: { action: ElicitationAction } | undefined) => r?.action;
  return {
    type: 'elicitation',
    ...common,
    message: message.template,
    schema: step.schema,
    ...(step.onDecline ? { onDecline: action(step.onDecline) } : {}),
    ...(step.onCancel ? { onCancel: action(step.onCancel) } : {}),
  };
}

function forEachPlan(
  step: StepConfig,
  path: ConfigPath,
  scope: TemplateScope,
  tool: ResolvedTool | undefined,
  ctx: TemplateContext,
  common: Omit<
    Extract<StepPlan, { type: 'forEach' }>,
    'type' | 'collection' | 'itemVar' | 'maxParallel' | 'maxIterations' | 'step'
  >,
): StepPlan | undefined {
  const rep = ctx.rep;
  if (step.collection === undefined)
    rep.at(
      'STEP_INCOMPLETE',
      `forEach step "${step.id}" has no collection`,
      [...path, 'type'],
      'add collection: a template rendering a JSON array, e.g. "{{json .steps.list.output.items}}"',
    );
  if (step.step === undefined)
    rep.at(
      'STEP_INCOMPLETE',
      `forEach step "${step.id}" has no inner step`,
      [...path, 'type'],
      'add step: {tool: …, arguments: {…}} to run once per item',
    );
  const collection =
    step.collection === undefined ? undefined : compileTemplate(step.collection, [...path, 'collection'], scope, ctx);
  const inner = step.step;
  if (!inner) return undefined;
  const innerPath = [...path, 'step'];
  if (inner.type !== 'tool') {
    rep.at(
      'FOREACH_INNER_STEP',
      `the inner step of forEach "${step.id}" is ${inner.type === 'elicitation' ? 'an' : 'a'} ${inner.type} step; only tool steps run per item`,
      [...innerPath, 'type'],
      'make the inner step a tool step, or move it out of the forEach',
    );
    return undefined;
  }
  for (const key of ['condition', 'dependsOn', 'defaultResults', 'step'] as const) {
    const v = (inner as Record<string, unknown>)[key];
    if (v !== undefined && !(Array.isArray(v) && v.length === 0))
      rep.at(
        'STEP_IGNORED_FIELD',
        `${key} has no effect on the inner step of a forEach`,
        [...innerPath, key],
        `move ${key} to the forEach step "${step.id}"`,
        'warning',
        true,
      );
  }
  if (inner.tool === undefined) {
    rep.at(
      'STEP_INCOMPLETE',
      `the inner step of forEach "${step.id}" has no tool`,
      [...path, 'step'],
      'add tool: <advertised name or backend.originalName>',
      'error',
      true,
    );
    return undefined;
  }
  const itemVar = step.itemVar ?? 'item';
  const target = toolTarget(inner, inner.tool, innerPath, { ...scope, forEachItem: itemVar }, tool, ctx);
  if (!target || !collection) return undefined;
  return {
    type: 'forEach',
    ...common,
    collection: collection.template,
    itemVar,
    maxParallel: capped(
      step.maxParallel,
      STEP_LIMITS.forEachParallel,
      STEP_LIMITS.forEachParallelCap,
      [...path, 'maxParallel'],
      'maxParallel',
      ctx,
    ),
    maxIterations: capped(
      step.maxIterations,
      STEP_LIMITS.forEachIterations,
      STEP_LIMITS.forEachIterationsCap,
      [...path, 'maxIterations'],
      'maxIterations',
      ctx,
    ),
    step: {
      ...target,
      timeoutMs: timeoutOf(inner, innerPath, ctx),
      onError: onErrorOf(inner.onError, [...innerPath, 'onError'], ctx),
    },
  };
}
