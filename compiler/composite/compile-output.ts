/**
 * A composite's `output`: each property's value template compiled and checked (it may read every
 * step), the shapes ToolHive requires (a value for a scalar, value or properties for an object),
 * `required` naming declared properties, and the MCP outputSchema advertised for it. Pure.
 */
import type { OutputPropertyInput } from '../../schemas/composite.ts';
import type { OutputPlan, OutputPropertyPlan } from '../../runtime/composite/plan.ts';
import type { ConfigPath } from '../config/locate.ts';
import { suggest } from '../config/suggest.ts';
import { compileTemplate, type TemplateContext } from './compile-template.ts';
import type { TemplateScope } from './template-check.ts';

/** The output as written. */
export interface OutputInput {
  properties: Record<string, OutputPropertyInput>;
  required?: string[];
}

/** The output's plan and its JSON Schema (the composite's outputSchema). */
export function compileOutput(
  output: OutputInput,
  path: ConfigPath,
  scope: TemplateScope,
  ctx: TemplateContext,
): { plan: OutputPlan; schema: Record<string, unknown> } {
  const props = compileProperties(output.properties, [...path, 'properties'], scope, ctx);
  const required = output.required ?? [];
  required.forEach((r, i) => {
    if (Object.hasOwn(output.properties, r)) return;
    const guess = suggest(r, Object.keys(output.properties));
    ctx.rep.at(
      'COMPOSITE_OUTPUT',
      `output.required names "${r}", which is not an output property`,
      [...path, 'required', i],
      guess ? `did you mean "${guess}"?` : `declare it under output.properties, or remove it`,
    );
  });
  return {
    plan: { properties: props.plans, required },
    schema: { type: 'object', properties: props.schemas, ...(required.length ? { required } : {}) },
  };
}

function compileProperties(
  properties: Record<string, OutputPropertyInput>,
  path: ConfigPath,
  scope: TemplateScope,
  ctx: TemplateContext,
): { plans: Record<string, OutputPropertyPlan>; schemas: Record<string, unknown> } {
  const plans: Record<string, OutputPropertyPlan> = {};
  const schemas: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(properties)) {
    const at = [...path, name];
    if (p.type !== 'object' && p.value === undefined)
      ctx.rep.at(
        'COMPOSITE_OUTPUT',
        `output property "${name}" (${p.type}) has no value`,
        at,
        'add value: a template such as "{{.steps.fetch.output.title}}"',
        'error',
        true,
      );
    if (p.type === 'object' && (p.value === undefined) === (p.properties === undefined))
      ctx.rep.at(
        'COMPOSITE_OUTPUT',
        `output property "${name}" (object) needs either value or properties${p.value !== undefined ? ', not both' : ''}`,
        at,
        'build the object field by field with properties, or from one template with value',
        'error',
        true,
      );
    const value = p.value === undefined ? undefined : compileTemplate(p.value, [...at, 'value'], scope, ctx);
    const nested = p.properties ? compileProperties(p.properties, [...at, 'properties'], scope, ctx) : undefined;
    plans[name] = {
      type: p.type,
      ...(value ? { value: value.template } : {}),
      ...(nested ? { properties: nested.plans } : {}),
      ...(p.default !== undefined ? { default: p.default } : {}),
    };
    schemas[name] = {
      type: p.type,
      ...(p.description !== undefined ? { description: p.description } : {}),
      ...(nested ? { properties: nested.schemas } : {}),
    };
  }
  return { plans, schemas };
}
