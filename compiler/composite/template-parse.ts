/**
 * Parses the subset of Go's text/template that ToolHive workflows use into data (runtime/composite/
 * template-ast.ts): text, `{{ pipeline }}` actions with `{{-`/`-}}` trimming, comments,
 * `if / else if / else / end`, field paths (`.params.x`, `.steps.s1.output.y`, `.`), string (both
 * quote styles), number, boolean and nil literals, parenthesized pipelines, `|`, and the functions
 * in TEMPLATE_FUNCTIONS. Anything else is an error at its offset, found at compile time. Pure.
 */
import {
  TEMPLATE_FUNCTIONS,
  type Command,
  type Operand,
  type Pipeline,
  type Template,
  type TemplateNode,
} from '../../runtime/composite/template-ast.ts';

/** A template that is not in the supported subset, at an offset into its text. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

type Token =
  | { k: 'field'; path: string[]; at: number }
  | { k: 'ident'; v: string; at: number }
  | { k: 'lit'; v: string | number | boolean | null; at: number }
  | { k: 'punct'; v: '(' | ')' | '|'; at: number };

const UNSUPPORTED_KEYWORDS = new Set(['range', 'with', 'define', 'template', 'block', 'break', 'continue']);

/** Parses `text`; throws TemplateError with the offset of the first construct outside the subset. */
export function parseTemplate(text: string): Template {
  const root: TemplateNode[] = [];
  type Frame = { node: Extract<TemplateNode, { t: 'if' }>; body: TemplateNode[]; sawElse: boolean };
  const frames: Frame[] = [];
  const out = () => (frames.length ? frames[frames.length - 1].body : root);
  let pos = 0;
  let actions = 0;
  let trimNext = false;
  while (pos < text.length) {
    const open = text.indexOf('{{', pos);
    let chunk = text.slice(pos, open < 0 ? text.length : open);
    if (trimNext) chunk = chunk.replace(/^\s+/, '');
    if (open < 0) {
      if (chunk) out().push({ t: 'text', v: chunk });
      break;
    }
    const trimLeft = text.startsWith('{{- ', open) || text.startsWith('{{-\t', open) || text.startsWith('{{-\n', open);
    if (trimLeft) chunk = chunk.replace(/\s+$/, '');
    if (chunk) out().push({ t: 'text', v: chunk });
    const close = findClose(text, open + 2);
    if (typeof close === 'object') throw new TemplateError('unterminated string', close.quote);
    if (close < 0) throw new TemplateError('unclosed action: "{{" without "}}"', open);
    const trimRight = close > open + 2 && /\s-$/.test(text.slice(open + 2, close));
    const innerStart = open + 2 + (trimLeft ? 1 : 0);
    const innerEnd = trimRight ? close - 1 : close;
    pos = close + 2;
    trimNext = trimRight;
    const inner = text.slice(innerStart, innerEnd);
    const trimmed = inner.trim();
    const at = innerStart + (inner.length - inner.trimStart().length);
    if (trimmed.startsWith('/*')) {
      if (!trimmed.endsWith('*/')) throw new TemplateError('unclosed comment: "/*" without "*/"', at);
      continue;
    }
    actions++;
    const tokens = lex(inner, innerStart);
    if (tokens.length === 0) throw new TemplateError('empty action "{{ }}"', open);
    const first = tokens[0];
    if (first.k === 'ident' && UNSUPPORTED_KEYWORDS.has(first.v)) {
      throw new TemplateError(
        `"${first.v}" is not supported in vmcp workflow templates (supported: if, else, end, and pipelines)`,
        first.at,
      );
    }
    if (first.k === 'ident' && first.v === 'if') {
      const node: Extract<TemplateNode, { t: 'if' }> = { t: 'if', branches: [], at: first.at };
      const cond = parsePipeline(tokens.slice(1), first.at, 'if');
      const body: TemplateNode[] = [];
      node.branches.push({ cond, body });
      out().push(node);
      frames.push({ node, body, sawElse: false });
      continue;
    }
    if (first.k === 'ident' && first.v === 'else') {
      const frame = frames[frames.length - 1];
      if (!frame) throw new TemplateError('"else" outside an "if"', first.at);
      if (frame.sawElse) throw new TemplateError('a second "else" in one "if"', first.at);
      const second = tokens[1];
      if (second?.k === 'ident' && second.v === 'if') {
        const body: TemplateNode[] = [];
        frame.node.branches.push({ cond: parsePipeline(tokens.slice(2), second.at, 'else if'), body });
        frame.body = body;
      } else {
        if (tokens.length > 1) throw new TemplateError('unexpected words after "else"', tokens[1].at);
        frame.sawElse = true;
        frame.node.otherwise = [];
        frame.body = frame.node.otherwise;
      }
      continue;
    }
    if (first.k === 'ident' && first.v === 'end') {
      if (tokens.length > 1) throw new TemplateError('unexpected words after "end"', tokens[1].at);
      if (!frames.pop()) throw new TemplateError('"end" without an "if"', first.at);
      continue;
    }
    out().push({ t: 'action', p: parsePipeline(tokens, at, 'action'), at });
  }
  if (frames.length) throw new TemplateError('"if" without a matching "end"', frames[frames.length - 1].node.at);
  const significant = root.filter((n) => !(n.t === 'text' && n.v.trim() === ''));
  const whole = actions === 1 && significant.length === 1 && significant[0].t === 'action';
  return { nodes: root, whole };
}

/**
 * The `}}` that closes the action opened before `from`, skipping quoted strings (which may contain
 * `}}`); -1 if none, or where an unterminated string starts.
 */
function findClose(text: string, from: number): number | { quote: number } {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const quote = i;
      for (i++; i < text.length && text[i] !== '"' && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
      if (i >= text.length || text[i] !== '"') return { quote };
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) return { quote: i };
      i = end;
    } else if (c === '}' && text[i + 1] === '}') return i;
  }
  return -1;
}

function parsePipeline(tokens: Token[], at: number, what: string): Pipeline {
  if (tokens.length === 0) throw new TemplateError(`missing value in ${what}`, at);
  const cmds: Command[] = [];
  let i = 0;
  const command = (): Command => {
    const t = tokens[i];
    if (t === undefined || (t.k === 'punct' && t.v !== '('))
      throw new TemplateError('missing value in pipeline', t?.at ?? at);
    if (t.k === 'ident') {
      if (!TEMPLATE_FUNCTIONS.includes(t.v)) {
        throw new TemplateError(`function "${t.v}" is not defined (available: ${TEMPLATE_FUNCTIONS.join(', ')})`, t.at);
      }
      i++;
      const args: Operand[] = [];
      while (i < tokens.length && !(tokens[i].k === 'punct' && (tokens[i] as { v: string }).v !== '('))
        args.push(operand());
      return { fn: t.v, args, at: t.at };
    }
    const arg = operand();
    if (i < tokens.length && !(tokens[i].k === 'punct' && (tokens[i] as { v: string }).v !== '(')) {
      throw new TemplateError('a value cannot take arguments (only functions can)', tokens[i].at);
    }
    return { arg, at: t.at };
  };
  const operand = (): Operand => {
    const t = tokens[i++];
    if (t.k === 'field') return { k: 'field', path: t.path, at: t.at };
    if (t.k === 'lit') return { k: 'lit', v: t.v, at: t.at };
    if (t.k === 'ident') throw new TemplateError(`function "${t.v}" used as a value: wrap it in parentheses`, t.at);
    if (t.v !== '(') throw new TemplateError(`unexpected "${t.v}"`, t.at);
    let depth = 1;
    const start = i;
    while (i < tokens.length && depth > 0) {
      const u = tokens[i++];
      if (u.k === 'punct' && u.v === '(') depth++;
      else if (u.k === 'punct' && u.v === ')') depth--;
    }
    if (depth > 0) throw new TemplateError('unclosed "("', t.at);
    const p = parsePipeline(tokens.slice(start, i - 1), t.at, 'parentheses');
    // `(index .list 0).name`: fields read from the value, written right after the parenthesis.
    const close = tokens[i - 1];
    const next = tokens[i];
    if (next?.k === 'field' && next.path.length > 0 && next.at === close.at + 1) {
      i++;
      return { k: 'pipe', p, path: next.path, at: t.at };
    }
    return { k: 'pipe', p, at: t.at };
  };
  for (;;) {
    cmds.push(command());
    if (i >= tokens.length) break;
    const t = tokens[i];
    if (t.k === 'punct' && t.v === '|') {
      i++;
      if (i >= tokens.length) throw new TemplateError('missing command after "|"', t.at);
      continue;
    }
    throw new TemplateError(`unexpected ${describe(t)}`, t.at);
  }
  return { cmds, at };
}

function describe(t: Token): string {
  return t.k === 'punct'
    ? `"${t.v}"`
    : t.k === 'ident'
      ? `"${t.v}"`
      : t.k === 'field'
        ? `".${t.path.join('.')}"`
        : `${JSON.stringify(t.v)}`;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const FIELD = /\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?/y;
const NUMBER = /-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/y;

/** Splits the inside of one action into tokens; `base` is its offset in the template. */
function lex(src: string, base: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const at = base + i;
    if (c === '(' || c === ')' || c === '|') {
      out.push({ k: 'punct', v: c, at });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new TemplateError('unterminated string', at);
      let v: string;
      try {
        v = JSON.parse(src.slice(i, j + 1));
      } catch {
        throw new TemplateError('invalid escape in string', at);
      }
      out.push({ k: 'lit', v, at });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('unterminated raw string', at);
      out.push({ k: 'lit', v: src.slice(i + 1, j), at });
      i = j + 1;
    } else if (c === '$') {
      throw new TemplateError('variables ($name) are not supported in vmcp workflow templates', at);
    } else if (c === '.' && !/[0-9]/.test(src[i + 1] ?? '')) {
      FIELD.lastIndex = i;
      const m = FIELD.exec(src)!;
      out.push({ k: 'field', path: m[1] ? m[1].split('.') : [], at });
      i += m[0].length;
    } else if (/[-0-9.]/.test(c)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(src);
      if (!m) throw new TemplateError(`unexpected "${c}"`, at);
      out.push({ k: 'lit', v: Number(m[0]), at });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      IDENT.lastIndex = i;
      const v = IDENT.exec(src)![0];
      if (v === 'true' || v === 'false') out.push({ k: 'lit', v: v === 'true', at });
      else if (v === 'nil') out.push({ k: 'lit', v: null, at });
      else out.push({ k: 'ident', v, at });
      i += v.length;
      if (src[i] === '.')
        throw new TemplateError(
          `"${v}.${src.slice(i + 1).split(/[\s|()]/)[0]}": fields are read from "." (write .${v}…)`,
          at,
        );
    } else {
      throw new TemplateError(`unexpected "${c}"`, at);
    }
  }
  return out;
}
