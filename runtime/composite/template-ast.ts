/**
 * A workflow template as data. The compiler parses each template once (compiler/composite/
 * template-parse.ts) into this shape and emits it into the generated module; the runtime evaluates
 * it (template-eval.ts) with no parser, no `eval` and no `new Function` in the bundle. The subset is
 * the part of Go's text/template that ToolHive workflows use. Offsets point into the template text,
 * for compile-time diagnostics.
 */

/** A value an argument produces. */
export type Operand =
  /** `.a.b.c` (path ['a','b','c']); `.` is the empty path. */
  | { k: 'field'; path: string[]; at: number }
  /** A string, number, boolean or nil literal. */
  | { k: 'lit'; v: string | number | boolean | null; at: number }
  /** `( pipeline )`, with the fields read from its value when written `(pipeline).a.b`. */
  | { k: 'pipe'; p: Pipeline; path?: string[]; at: number };

/** One command of a pipeline: a function call with arguments, or a lone operand. */
export type Command = { fn: string; args: Operand[]; at: number } | { fn?: undefined; arg: Operand; at: number };

/** `cmd1 | cmd2 | …`: each result is passed as the last argument of the next command. */
export interface Pipeline {
  cmds: Command[];
  at: number;
}

/** A node of a template body. */
export type TemplateNode =
  | { t: 'text'; v: string }
  | { t: 'action'; p: Pipeline; at: number }
  | { t: 'if'; branches: Array<{ cond: Pipeline; body: TemplateNode[] }>; otherwise?: TemplateNode[]; at: number };

/** A parsed template: its body, and whether it is one action alone (its value keeps its JSON type). */
export interface Template {
  nodes: TemplateNode[];
  /** True when the whole text is a single `{{ … }}` action (surrounding whitespace allowed). */
  whole: boolean;
}

/** The functions the subset offers (beyond Go's builtins used: and, or, not, eq…, index, len, printf). */
export const TEMPLATE_FUNCTIONS: readonly string[] = [
  'and',
  'eq',
  'fromJson',
  'ge',
  'gt',
  'index',
  'json',
  'le',
  'len',
  'lt',
  'ne',
  'not',
  'or',
  'printf',
  'quote',
];
