/**
 * The tool a step calls, as a plan ToolTarget: its arguments expanded (templates at any depth) and
 * checked against the tool's pinned inputSchema: missing required arguments, unknown ones where
 * additionalProperties is false (with a did-you-mean), and types where they are known. Pure.
 */
import type { StepConfig } from '../../schemas/vmcp.ts';
import type { ToolTarget } from '../../runtime/composite/plan.ts';
import type { ConfigPath } from '../config/locate.ts';
import { suggest } from '../config/suggest.ts';
import { expandArguments, type TemplateContext } from './compile-template.ts';
import type { ResolvedTool } from './resolve-tool.ts';
import type { InnerStep } from './step-options.ts';
import { checkArguments } from './step-checks.ts';
import type { SchemaLike, TemplateScope } from './template-check.ts';

/** The target of a tool step (or a forEach's inner step) named `name`; undefined when the tool did not resolve. */
export function toolTarget(
  step: StepConfig | InnerStep,
  name: string,
  path: ConfigPath,
  scope: TemplateScope,
  tool: ResolvedTool | undefined,
  ctx: TemplateContext,
): ToolTarget | undefined {
  const args = expandArguments(step.arguments, [...path, 'arguments'], scope, ctx);
  if (!tool) return undefined;
  const schema = (tool.pinned.inputSchema ?? {}) as SchemaLike & { required?: string[] };
  for (const issue of checkArguments(args.values, schema, name)) {
    const parent = issue.path.slice(0, -1);
    const key = issue.path[issue.path.length - 1];
    const known = Object.keys(propsAt(schema, parent));
    if (issue.code === 'STEP_MISSING_ARGUMENT') {
      const where = step.arguments ? [...path, 'arguments', ...parent] : [...path, 'tool'];
      ctx.rep.at(
        issue.code,
        issue.message,
        where,
        `add ${key}: under ${step.arguments ? 'arguments' : 'a new arguments: mapping'}`,
        'error',
        step.arguments !== undefined,
      );
    } else if (issue.code === 'STEP_UNKNOWN_ARGUMENT') {
      const guess = suggest(key, known);
      ctx.rep.at(
        issue.code,
        issue.message,
        [...path, 'arguments', ...issue.path],
        guess ? `did you mean "${guess}"?` : `remove ${key}`,
        'error',
        true,
      );
    } else {
      ctx.rep.at(
        issue.code,
        issue.message,
        [...path, 'arguments', ...issue.path],
        'pass a value of the type the tool’s pinned inputSchema declares',
      );
    }
  }
  return {
    tool: name,
    ...(tool.exposed !== undefined ? { exposed: tool.exposed } : {}),
    backend: tool.backendIndex,
    name: tool.original,
    arguments: args.expansion,
  };
}

function propsAt(schema: SchemaLike, path: string[]): Record<string, SchemaLike> {
  let s: SchemaLike | undefined = schema;
  for (const k of path) s = s?.properties?.[k];
  return s?.properties ?? {};
}
