/**
 * One template string of a workflow, compiled: parsed once (a syntax error at its character),
 * checked against what it may read (each finding at its character, with a fix in the hint), and
 * its `.steps.X.output` reads recorded for the defaultResults check. Also step arguments as
 * Expansion trees, and the check that a `condition` can render to a boolean. Pure.
 */
import type { Expansion } from '../../runtime/composite/plan.ts';
import type { Operand, Pipeline, Template, TemplateNode } from '../../runtime/composite/template-ast.ts';
import type { ConfigPath } from '../config/locate.ts';
import { suggest } from '../config/suggest.ts';
import type { Reporter } from './place.ts';
import type { ArgumentValue } from './step-checks.ts';
import { checkTemplate, type TemplateIssue, type TemplateScope } from './template-check.ts';
import { parseTemplate, TemplateError } from './template-parse.ts';

/** A read of `.steps.<step>.output[.<field>…]`, where it was written. */
export interface OutputRead {
  step: string;
  field?: string;
  path: ConfigPath;
  at: number;
}

/** What the templates of one composite share: where to report, and the reads seen so far. */
export interface TemplateContext {
  rep: Reporter;
  reads: OutputRead[];
}

/** Parses and checks `text` (the string at `path`); undefined when it does not parse. */
export function compileTemplate(
  text: string,
  path: ConfigPath,
  scope: TemplateScope,
  ctx: TemplateContext,
): { template: Template; type?: string } | undefined {
  let template: Template;
  try {
    template = parseTemplate(text);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    ctx.rep.inTemplate(
      'TEMPLATE_SYNTAX',
      `template syntax: ${err.message}`,
      path,
      err.at,
      'vmcp templates support fields (.params.x, .steps.id.output.y), pipelines, if/else/end, and the functions and eq ne lt le gt ge not or index len printf json quote fromJson',
    );
    return undefined;
  }
  const fields = fieldOperands(template);
  const checked = checkTemplate(template, scope);
  for (const issue of checked.issues) {
    const field = fields.find((f) => f.at === issue.at);
    ctx.rep.inTemplate(
      issue.code,
      issue.message,
      path,
      issue.at,
      hintFor(issue, field?.path ?? [], scope),
      issue.severity,
    );
  }
  for (const f of fields) {
    const [root, step, part, field] = f.path;
    if (root === 'steps' && step !== undefined && part === 'output' && scope.steps.ancestors.has(step))
      ctx.reads.push({ step, ...(field !== undefined ? { field } : {}), path, at: f.at });
  }
  return { template, ...(checked.type !== undefined ? { type: checked.type } : {}) };
}

function hintFor(issue: TemplateIssue, path: string[], scope: TemplateScope): string | undefined {
  const [, name] = path;
  switch (issue.code) {
    case 'TEMPLATE_UNKNOWN_PARAM': {
      const guess = name === undefined ? undefined : suggest(name, Object.keys(scope.params));
      return guess ? `did you mean "${guess}"?` : `declare "${name}" under parameters.properties`;
    }
    case 'TEMPLATE_UNKNOWN_STEP': {
      const guess = name === undefined ? undefined : suggest(name, scope.steps.all);
      return guess ? `did you mean "${guess}"?` : 'read a step id of this workflow';
    }
    case 'TEMPLATE_NOT_ANCESTOR':
      return `add "${name}" to this step's dependsOn`;
    case 'TEMPLATE_UNKNOWN_FIELD':
      return issue.severity === 'warning'
        ? 'check the spelling against the outputSchema pinned in vmcp.lock.json'
        : 'read a field the schema declares (see the outputSchema pinned in vmcp.lock.json)';
    case 'TEMPLATE_UNCHECKED_OUTPUT':
      return 'nothing checks this field at compile time; use defaultResults or a condition if it may be absent';
    case 'TEMPLATE_UNKNOWN_ROOT':
      return 'templates read .params, .steps, .vars, .workflow, and .forEach inside a forEach step';
  }
}

/** Every field operand of a template, in text order. */
export function fieldOperands(t: Template): Array<{ path: string[]; at: number }> {
  const out: Array<{ path: string[]; at: number }> = [];
  const pipe = (p: Pipeline) => {
    for (const c of p.cmds) for (const o of c.fn === undefined ? [c.arg] : c.args) operand(o);
  };
  const operand = (o: Operand) => {
    if (o.k === 'field') out.push({ path: o.path, at: o.at });
    else if (o.k === 'pipe') pipe(o.p);
  };
  const nodes = (ns: TemplateNode[]) => {
    for (const n of ns) {
      if (n.t === 'action') pipe(n.p);
      else if (n.t === 'if') {
        for (const b of n.branches) {
          pipe(b.cond);
          nodes(b.body);
        }
        if (n.otherwise) nodes(n.otherwise);
      }
    }
  };
  nodes(t.nodes);
  return out.sort((a, b) => a.at - b.at);
}

/**
 * A step's arguments as an Expansion (strings with `{{` are templates, at any depth) and as the
 * values checkArguments judges: a template with its type, a literal, or (an object or array
 * holding templates) a template of that container type.
 */
export function expandArguments(
  args: Record<string, unknown> | undefined,
  path: ConfigPath,
  scope: TemplateScope,
  ctx: TemplateContext,
): { expansion: Expansion; values: Record<string, ArgumentValue> } {
  const values: Record<string, ArgumentValue> = {};
  if (!args) return { expansion: { lit: {} }, values };
  const obj: Record<string, Expansion> = {};
  for (const [k, v] of Object.entries(args)) {
    const p = [...path, k];
    if (typeof v === 'string' && v.includes('{{')) {
      const c = compileTemplate(v, p, scope, ctx);
      obj[k] = c ? { tpl: c.template } : { lit: v };
      values[k] = { template: true, ...(c?.type !== undefined ? { type: c.type } : {}) };
    } else {
      obj[k] = expand(v, p, scope, ctx);
      values[k] = 'lit' in obj[k] ? { literal: v } : { template: true, type: Array.isArray(v) ? 'array' : 'object' };
    }
  }
  return { expansion: { obj }, values };
}

/** A value with templates at any depth; containers of literals only fold into one literal. */
function expand(v: unknown, path: ConfigPath, scope: TemplateScope, ctx: TemplateContext): Expansion {
  if (typeof v === 'string' && v.includes('{{')) {
    const c = compileTemplate(v, path, scope, ctx);
    return c ? { tpl: c.template } : { lit: v };
  }
  if (Array.isArray(v)) {
    const items = v.map((x, i) => expand(x, [...path, i], scope, ctx));
    return items.every((x) => 'lit' in x) ? { lit: v } : { arr: items };
  }
  if (v !== null && typeof v === 'object') {
    const obj = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expand(x, [...path, k], scope, ctx)]));
    return Object.values(obj).every((x) => 'lit' in x) ? { lit: v } : { obj };
  }
  return { lit: v };
}

/** Why a condition cannot render `true` or `false`, or undefined when it can. */
export function conditionProblem(text: string, t: Template, type: string | undefined): string | undefined {
  const isBool = (s: string) => /^(true|false)$/i.test(s.trim());
  const hasLogic = t.nodes.some((n) => n.t !== 'text');
  if (!hasLogic) return isBool(text) ? undefined : `condition "${text}" is literal text, not true or false`;
  if (t.whole && type !== undefined && type !== 'boolean' && type !== 'string')
    return `condition renders ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}, not true or false`;
  const strayText = (nodes: TemplateNode[], inBranch: boolean): string | undefined => {
    for (const n of nodes) {
      if (n.t === 'text' && n.v.trim() && !(inBranch && isBool(n.v))) return n.v.trim();
      if (n.t === 'if') {
        for (const b of n.branches) {
          const s = strayText(b.body, true);
          if (s) return s;
        }
        const s = n.otherwise ? strayText(n.otherwise, true) : undefined;
        if (s) return s;
      }
    }
    return undefined;
  };
  const stray = strayText(t.nodes, false);
  return stray
    ? `condition renders the text "${stray}" around its value, so it cannot be just true or false`
    : undefined;
}
