import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';

/** A path into the config, as zod reports it: keys and array indexes. */
export type ConfigPath = readonly PropertyKey[];

/** A 1-based source span. */
export interface Span {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** Which part of a key/value pair a diagnostic should point at. */
export type Anchor = 'key' | 'value';

/** Resolves config paths to source spans using the parsed YAML document's node ranges. */
export interface Locator {
  /** The span of the node at `path`; `anchor: 'key'` points at the mapping key instead of its value. */
  at(path: ConfigPath, anchor?: Anchor): Span;
  /** The deepest existing node on `path` (for a missing key: its parent mapping's key). */
  nearest(path: ConfigPath): { span: Span; depth: number };
}

/** Builds a locator over a parsed document. */
export function createLocator(doc: Document, lineCounter: LineCounter): Locator {
  const toSpan = (start: number, end: number): Span => {
    const s = lineCounter.linePos(start);
    const e = lineCounter.linePos(Math.max(start, end));
    return { line: s.line, column: s.col, endLine: e.line, endColumn: e.col };
  };
  const rangeOf = (node: Node | Pair | null | undefined): Span | undefined => {
    if (!node) return undefined;
    if (isPair(node)) return rangeOf(node.key as Node) ?? rangeOf(node.value as Node);
    const r = (node as Node).range;
    return r ? toSpan(r[0], r[1]) : undefined;
  };

  // Walks the path; returns the pairs/nodes visited so a caller can pick key or value.
  const walk = (path: ConfigPath) => {
    let node: unknown = doc.contents;
    let lastPair: Pair | undefined;
    let depth = 0;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        lastPair = pair;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        lastPair = undefined;
        node = item;
      } else {
        break;
      }
      depth++;
    }
    return { node: node as Node | null, pair: lastPair, depth };
  };

  const fallback: Span = { line: 1, column: 1, endLine: 1, endColumn: 1 };
  const rootSpan = () => rangeOf(doc.contents as Node) ?? fallback;

  return {
    at(path, anchor = 'value') {
      const { node, pair, depth } = walk(path);
      if (depth < path.length) return this.nearest(path).span;
      if (anchor === 'key' && pair) return rangeOf(pair.key as Node) ?? rootSpan();
      // A key with no value (`cwd:`) has a null node: point at its key.
      return rangeOf(node) ?? (pair ? rangeOf(pair.key as Node) : undefined) ?? rootSpan();
    },
    nearest(path) {
      const { pair, depth, node } = walk(path);
      if (depth === 0) return { span: rootSpan(), depth };
      const span = (pair ? rangeOf(pair.key as Node) : rangeOf(node)) ?? rootSpan();
      return { span, depth };
    },
  };
}

/** Formats a path as the user writes it: `aggregation.tools[0].workload`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}
