/**
 * What a workflow template reads, checked against what can exist when it runs: declared parameters,
 * steps that are ancestors in the graph (so they have run), the fields of a step's `outputSchema`,
 * and the `.workflow` and `.forEach` fields ToolHive defines. Also the JSON type a whole-value
 * template produces, where it is known, for checking arguments against a tool's input schema. Pure.
 */
import type { Command, Operand, Pipeline, Template, TemplateNode } from '../../runtime/composite/template-ast.ts';

/** A JSON Schema, loosely: only what the checks read. */
export interface SchemaLike {
  type?: string | string[];
  properties?: Record<string, SchemaLike>;
  additionalProperties?: boolean | SchemaLike;
  items?: SchemaLike;
}

/** What a template may read at its place in the workflow. */
export interface TemplateScope {
  /** Declared parameters (the composite's `parameters.properties`). */
  params: Record<string, SchemaLike>;
  /** Every step id of the workflow, and for those that are ancestors of this place, their output schema (null: none). */
  steps: { all: ReadonlySet<string>; ancestors: ReadonlyMap<string, SchemaLike | null> };
  /** Set inside a forEach step: the name its items are read under. */
  forEachItem?: string;
}

/** One finding, at an offset into the template text. */
export interface TemplateIssue {
  code:
    | 'TEMPLATE_UNKNOWN_ROOT'
    | 'TEMPLATE_UNKNOWN_PARAM'
    | 'TEMPLATE_UNKNOWN_STEP'
    | 'TEMPLATE_NOT_ANCESTOR'
    | 'TEMPLATE_UNKNOWN_FIELD'
    | 'TEMPLATE_UNCHECKED_OUTPUT';
  severity: 'error' | 'warning';
  message: string;
  at: number;
}

const STEP_FIELDS = ['output', 'status', 'error', 'content'];
const WORKFLOW_FIELDS = ['id', 'duration_ms', 'step_count', 'status', 'start_time'];
const BOOLEAN_FUNCTIONS = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'not']);
const STRING_FUNCTIONS = new Set(['json', 'quote', 'printf']);

/** Checks every field `t` reads; `type` is the JSON type of a whole-value template when known. */
export function checkTemplate(t: Template, scope: TemplateScope): { issues: TemplateIssue[]; type?: string } {
  const issues: TemplateIssue[] = [];
  const types = new Map<Operand, string | undefined>();
  const visitNodes = (nodes: TemplateNode[]) => {
    for (const n of nodes) {
      if (n.t === 'action') visitPipeline(n.p);
      else if (n.t === 'if') {
        for (const b of n.branches) {
          visitPipeline(b.cond);
          visitNodes(b.body);
        }
        if (n.otherwise) visitNodes(n.otherwise);
      }
    }
  };
  const visitPipeline = (p: Pipeline) => {
    for (const c of p.cmds) for (const o of c.fn === undefined ? [c.arg] : c.args) visitOperand(o);
  };
  const visitOperand = (o: Operand) => {
    if (o.k === 'pipe') return visitPipeline(o.p);
    if (o.k === 'field') types.set(o, checkField(o, scope, issues));
  };
  visitNodes(t.nodes);
  if (!t.whole) return { issues, type: 'string' };
  const action = t.nodes.find((n) => n.t === 'action') as Extract<TemplateNode, { t: 'action' }>;
  return { issues, type: pipelineType(action.p, types) };
}

function checkField(
  o: Extract<Operand, { k: 'field' }>,
  scope: TemplateScope,
  issues: TemplateIssue[],
): string | undefined {
  const [root, name, ...rest] = o.path;
  const issue = (code: TemplateIssue['code'], message: string, severity: TemplateIssue['severity'] = 'error') => {
    issues.push({ code, severity, message, at: o.at });
    return undefined;
  };
  const dotted = `.${o.path.join('.')}`;
  switch (root) {
    case undefined:
      return undefined;
    case 'params': {
      if (name === undefined) return 'object';
      const schema = scope.params[name];
      if (!schema) {
        const known = Object.keys(scope.params);
        return issue(
          'TEMPLATE_UNKNOWN_PARAM',
          `${dotted} reads parameter "${name}", which the composite does not declare${known.length ? ` (parameters: ${known.join(', ')})` : ''}`,
        );
      }
      return walkSchema(schema, rest, dotted, issue);
    }
    case 'steps': {
      if (name === undefined) return 'object';
      if (!scope.steps.all.has(name)) {
        return issue(
          'TEMPLATE_UNKNOWN_STEP',
          `${dotted} reads step "${name}", which is not a step of this workflow (steps: ${[...scope.steps.all].join(', ')})`,
        );
      }
      if (!scope.steps.ancestors.has(name)) {
        return issue(
          'TEMPLATE_NOT_ANCESTOR',
          `${dotted} reads step "${name}", which may not have run yet here: add "${name}" to dependsOn (directly or through a step that depends on it)`,
        );
      }
      const [field, ...inner] = rest;
      if (field === undefined) return 'object';
      if (!STEP_FIELDS.includes(field))
        return issue('TEMPLATE_UNKNOWN_FIELD', `${dotted}: a step has ${STEP_FIELDS.join(', ')}, not "${field}"`);
      if (field === 'status' || field === 'error')
        return inner.length
          ? issue('TEMPLATE_UNKNOWN_FIELD', `${dotted}: .steps.${name}.${field} is a string`)
          : 'string';
      if (field === 'content') return undefined;
      const schema = scope.steps.ancestors.get(name);
      if (!schema) {
        if (inner.length)
          issue(
            'TEMPLATE_UNCHECKED_OUTPUT',
            `${dotted} cannot be checked: the tool of step "${name}" declares no outputSchema`,
            'warning',
          );
        return undefined;
      }
      return walkSchema(schema, inner, dotted, issue);
    }
    case 'vars':
      return undefined;
    case 'workflow':
      if (name !== undefined && !WORKFLOW_FIELDS.includes(name))
        return issue('TEMPLATE_UNKNOWN_FIELD', `${dotted}: .workflow has ${WORKFLOW_FIELDS.join(', ')}`);
      return name === 'duration_ms' || name === 'step_count' ? 'integer' : name === undefined ? 'object' : 'string';
    case 'forEach':
      if (scope.forEachItem === undefined)
        return issue('TEMPLATE_UNKNOWN_ROOT', `${dotted} is only defined inside a forEach step`);
      if (name !== undefined && name !== scope.forEachItem && name !== 'index') {
        return issue(
          'TEMPLATE_UNKNOWN_FIELD',
          `${dotted}: inside this forEach, .forEach has ${scope.forEachItem} and index`,
        );
      }
      return name === 'index' ? 'integer' : undefined;
    default:
      return issue(
        'TEMPLATE_UNKNOWN_ROOT',
        `${dotted}: templates read .params, .steps, .vars, .workflow and .forEach, not .${root}`,
      );
  }
}

/** Follows `path` through object properties; unknown where the schema allows any key. */
function walkSchema(
  schema: SchemaLike,
  path: string[],
  dotted: string,
  issue: (code: TemplateIssue['code'], message: string, severity?: TemplateIssue['severity']) => undefined,
): string | undefined {
  let s: SchemaLike | undefined = schema;
  for (const key of path) {
    if (!s) return undefined;
    const props: Record<string, SchemaLike> | undefined = s.properties;
    if (props && Object.hasOwn(props, key)) s = props[key];
    else if (props && s.additionalProperties === false) {
      return issue(
        'TEMPLATE_UNKNOWN_FIELD',
        `${dotted}: "${key}" is not a property here (properties: ${Object.keys(props).join(', ') || 'none'})`,
      );
    } else if (props && s.additionalProperties === undefined) {
      // Undeclared but not forbidden: probably a typo, possibly a field the schema leaves open.
      return issue(
        'TEMPLATE_UNKNOWN_FIELD',
        `${dotted}: "${key}" is not declared (properties: ${Object.keys(props).join(', ') || 'none'})`,
        'warning',
      );
    } else s = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
  }
  const t = s?.type;
  return typeof t === 'string' ? t : undefined;
}

function pipelineType(p: Pipeline, types: Map<Operand, string | undefined>): string | undefined {
  const last: Command = p.cmds[p.cmds.length - 1];
  if (last.fn === undefined) {
    const o = last.arg;
    if (o.k === 'lit')
      return o.v === null
        ? 'null'
        : typeof o.v === 'number'
          ? Number.isInteger(o.v)
            ? 'integer'
            : 'number'
          : typeof o.v;
    if (o.k === 'pipe') return o.path ? undefined : pipelineType(o.p, types);
    return types.get(o);
  }
  if (BOOLEAN_FUNCTIONS.has(last.fn)) return 'boolean';
  if (STRING_FUNCTIONS.has(last.fn)) return 'string';
  if (last.fn === 'len') return 'integer';
  return undefined;
}
