/**
 * Where composite diagnostics point: a config node (its value, or the key of a block value), or a
 * character inside a template string. A template offset is mapped back through the YAML scalar's
 * quoting (plain, '…', "…" with escapes, or a `|` block) so the caret lands on the offending
 * character; when the mapping cannot be verified it falls back to the start of the scalar. Pure.
 */
import { isScalar, Scalar, type Document } from 'yaml';
import type { Diagnostic, DiagnosticCode, Severity } from '../diagnostics.ts';
import type { ConfigPath, Locator, Span } from '../config/locate.ts';

/** The config file as the composite checks see it. */
export interface SourceFile {
  file: string;
  locator: Locator;
  /** The parsed document, for template positions inside scalars. */
  doc: Document;
  /** The config text. */
  source: string;
}

/** Builds positioned diagnostics for one config file. */
export interface Reporter {
  diagnostics: Diagnostic[];
  /** At the node at `path` (a scalar's value, or the key of a block value; `key`: always the key). */
  at(code: DiagnosticCode, message: string, path: ConfigPath, hint?: string, severity?: Severity, key?: boolean): void;
  /** At character `offset` of the template string at `path`. */
  inTemplate(
    code: DiagnosticCode,
    message: string,
    path: ConfigPath,
    offset: number,
    hint?: string,
    severity?: Severity,
  ): void;
}

/** A reporter that collects into a fresh list. */
export function createReporter(src: SourceFile): Reporter {
  const diagnostics: Diagnostic[] = [];
  const push = (code: DiagnosticCode, message: string, span: Span, hint?: string, severity: Severity = 'error') =>
    diagnostics.push({
      code,
      severity,
      message,
      file: src.file,
      line: span.line,
      column: span.column,
      endLine: span.endLine,
      endColumn: span.endColumn,
      ...(hint ? { hint } : {}),
    });
  return {
    diagnostics,
    at(code, message, path, hint, severity, key) {
      push(code, message, key ? src.locator.at(path, 'key') : locateNode(src.locator, path), hint, severity);
    },
    inTemplate(code, message, path, offset, hint, severity) {
      const node = src.doc.getIn(path as unknown[], true);
      const at = isScalar(node) ? sourceOffset(src.source, node, offset) : undefined;
      const span = at === undefined ? locateNode(src.locator, path) : pointAt(src.source, at);
      push(code, message, span, hint, severity);
    },
  };
}

/** A scalar's value, or the key of a block value (`steps:` above its list), as catalog.ts does. */
function locateNode(locator: Locator, path: ConfigPath): Span {
  const value = locator.at(path, 'value');
  const key = locator.at(path, 'key');
  return path.length && value.line !== key.line ? key : value;
}

/** A one-character span at a source offset (1-based line and column). */
function pointAt(source: string, offset: number): Span {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column, endLine: line, endColumn: column + 1 };
}

/**
 * The source offset of character `offset` of a scalar's value, or undefined when the scalar's form
 * is not mapped (folded blocks, multi-line flow scalars) or the mapping does not check out.
 */
export function sourceOffset(source: string, node: Scalar, offset: number): number | undefined {
  const value = String(node.value);
  const [start, end] = node.range ?? [0, 0];
  const raw = source.slice(start, end);
  let map: number[] | undefined;
  if (node.type === Scalar.PLAIN) map = raw.startsWith(value) ? [...value].map((_c, i) => start + i) : undefined;
  else if (node.type === Scalar.QUOTE_SINGLE) map = mapQuoted(raw, start, (r, i) => (r.startsWith("''", i) ? 2 : 1));
  else if (node.type === Scalar.QUOTE_DOUBLE) map = mapQuoted(raw, start, escapeLength);
  else if (node.type === Scalar.BLOCK_LITERAL) map = mapLiteralBlock(raw, start);
  const at = map?.[offset];
  // Trust the mapping only where the source shows the same character as the value.
  return at !== undefined && source[at] === value[offset] ? at : undefined;
}

/** Source offsets of each value character of a one-line quoted scalar; `step` is a character's source length. */
function mapQuoted(raw: string, start: number, step: (raw: string, i: number) => number): number[] | undefined {
  if (raw.includes('\n')) return undefined;
  const out: number[] = [];
  for (let i = 1; i < raw.length - 1; ) {
    out.push(start + i + (step(raw, i) > 1 && raw[i] === '\\' ? 1 : 0));
    i += step(raw, i);
  }
  return out;
}

/** `\"` and other one-letter escapes take two source characters; `\xhh`, `\uhhhh`, `\Uhhhhhhhh` more. */
function escapeLength(raw: string, i: number): number {
  if (raw[i] !== '\\') return 1;
  const kind = raw[i + 1];
  return kind === 'x' ? 4 : kind === 'u' ? 6 : kind === 'U' ? 10 : 2;
}

/** Source offsets of each value character of a `|` block: content lines lose their indentation. */
function mapLiteralBlock(raw: string, start: number): number[] | undefined {
  const header = raw.indexOf('\n');
  if (header < 0) return undefined;
  const lines = raw.slice(header + 1).split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  if (!Number.isFinite(indent)) return undefined;
  const out: number[] = [];
  let lineStart = start + header + 1;
  for (const line of lines) {
    const content = line.slice(indent);
    for (let c = 0; c <= content.length; c++) out.push(lineStart + indent + c); // `<=`: the newline
    lineStart += line.length + 1;
  }
  return out;
}
