/**
 * Positions inside a YAML string value: which file line and column hold character `i` of a policy.
 * The locator gives where the value node starts (the quote of `'...'`, the `|` of a block scalar);
 * from there this walks the raw YAML text alongside the parsed value, skipping what YAML removed
 * (indentation, quotes, escapes, folded line breaks).
 */
import type { Span } from '../config/locate.ts';

/** A 1-based file position. */
export interface Position {
  line: number;
  column: number;
}

/** Maps a string index of the value to its file position; `value.length` gives the end. */
export type ValuePosition = (index: number) => Position;

type Style = 'plain' | 'single' | 'double' | 'block';

interface Char {
  ch: string;
  offset: number;
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

/** The raw characters a block scalar's value comes from: its content lines without indentation. */
function blockChars(source: string, header: number, end: number): Char[] {
  const out: Char[] = [];
  const bodyStart = source.indexOf('\n', header);
  if (bodyStart < 0) return out;
  const lines: Array<[number, number]> = [];
  for (let at = bodyStart + 1; at < Math.max(end, bodyStart + 1) && at <= source.length; ) {
    const nl = source.indexOf('\n', at);
    const stop = nl < 0 ? source.length : nl;
    lines.push([at, stop]);
    at = stop + 1;
  }
  // The first line with content sets the indentation (an explicit indicator like `|2` is rare).
  const first = lines.find(([s, e]) => source.slice(s, e).trim() !== '');
  const indent = first ? /^ */.exec(source.slice(first[0], first[1]))![0].length : 0;
  for (const [s, e] of lines) {
    for (let k = Math.min(s + indent, e); k < e; k++) if (source[k] !== '\r') out.push({ ch: source[k], offset: k });
    out.push({ ch: '\n', offset: e });
  }
  return out;
}

/**
 * Pairs each character of `value` with the offset of the raw character it came from. Equal characters
 * pair up; a YAML escape pairs with its backslash; a folded line break (a space in the value) pairs
 * with the newline; raw whitespace with no partner (indentation, dropped breaks) is skipped.
 */
function align(value: string, raw: Char[], style: Style): number[] {
  const map: number[] = [];
  let j = 0;
  for (let i = 0; i < value.length; ) {
    if (j >= raw.length) {
      map.push(raw.length ? raw[raw.length - 1].offset : 0);
      i++;
      continue;
    }
    const { ch, offset } = raw[j];
    if (style === 'double' && ch === '\\') {
      const next = raw[j + 1]?.ch;
      if (next === '\n') {
        j += 2; // an escaped line break joins the lines
        continue;
      }
      map.push(offset);
      i++;
      j += next === 'x' ? 4 : next === 'u' ? 6 : next === 'U' ? 10 : 2;
    } else if (style === 'single' && ch === "'" && raw[j + 1]?.ch === "'") {
      map.push(offset);
      i++;
      j += 2;
    } else if (ch === value[i] || (ch === '\n' && value[i] === ' ')) {
      map.push(offset);
      i++;
      j++;
    } else {
      j++;
    }
  }
  const last = map.length ? map[map.length - 1] + 1 : (raw[0]?.offset ?? 0);
  map.push(last);
  return map;
}

/** A stand-in for the YAML text when the caller has none: the likeliest spelling of the value at its span. */
function synthesize(value: string, span: Span): string {
  const pad = '\n'.repeat(span.line - 1) + ' '.repeat(span.column - 1);
  if (span.endLine === span.line) {
    const width = span.endColumn - span.column;
    const single = `'${value.replace(/'/g, "''")}'`;
    const double = JSON.stringify(value);
    const spelled = [value, single, double].find((s) => s.length === width) ?? value;
    return pad + spelled;
  }
  // A block scalar whose content is indented to the column of its `|` (the usual `- |` layout).
  const indent = ' '.repeat(span.column - 1);
  return `${pad}|\n${value
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => indent + l)
    .join('\n')}\n`;
}

/**
 * Positions inside the string value located at `span`. With the YAML `source`, exact for every scalar
 * style; without it, a guess: single-line values by their width, multi-line ones as `- |` blocks.
 */
export function valuePosition(value: string, span: Span, source?: string): ValuePosition {
  const text = source ?? synthesize(value, span);
  const starts = lineStartsOf(text);
  const offsetOf = (line: number, column: number) => (starts[line - 1] ?? text.length) + column - 1;
  const start = offsetOf(span.line, span.column);
  const end = span.endLine > starts.length ? text.length : offsetOf(span.endLine, span.endColumn);
  const c = text[start];
  const style: Style = c === '|' || c === '>' ? 'block' : c === "'" ? 'single' : c === '"' ? 'double' : 'plain';
  let raw: Char[];
  if (style === 'block') raw = blockChars(text, start, end);
  else {
    raw = [];
    for (let k = style === 'plain' ? start : start + 1; k < Math.max(end, start + 1) && k < text.length; k++)
      raw.push({ ch: text[k], offset: k });
  }
  const map = align(value, raw, style);
  const toPosition = (offset: number): Position => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo] + 1 };
  };
  return (index) => toPosition(map[Math.max(0, Math.min(index, value.length))]);
}
