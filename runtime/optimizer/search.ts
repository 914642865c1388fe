/**
 * The tool search index of the optimizer: what a tool's document is, how text becomes terms, and
 * how a query is ranked. The compiler builds the index with these exact rules (compiler/emit) and
 * ships it serialized in the bundle; the runtime loads it and ranks queries with the same rules, so
 * a term means the same thing on both sides.
 *
 * Ranking is BM25F over four fields (name, title, description, parameters) with Porter stemming,
 * identifier splitting (`create_pull_request`, `getUserById`) and prefix matching of longer query
 * terms. A few verbs and nouns that tools and their users name differently are folded into one term
 * (`remove` → `delete`, `ticket` → `issue`): a fixed, documented list, applied to documents and
 * queries alike.
 *
 * Why not a library's index: MiniSearch (tried first, the same scoring) took 2.6–4.4 ms per query and
 * 600 ms to load at 10,000 tools, against a goal of 1 ms. Here every (term, tool) weight is computed
 * at compile time and stored in flat typed arrays, so a query is a few array additions and a top-k
 * selection, and loading is a base64 decode.
 */
import { processTerm, tokenize } from './terms.ts';

export { processTerm, tokenize } from './terms.ts';

/** One tool as indexed: its exposed name and the text fields searched. */
export interface ToolDocument {
  id: string;
  name: string;
  title: string;
  description: string;
  params: string;
}

/** Parameter names and descriptions, flattened one level into nested objects and arrays. */
function paramsText(schema: any, depth = 0): string {
  const props = schema?.properties;
  if (!props || typeof props !== 'object' || depth > 2) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries<any>(props)) {
    parts.push(k);
    if (typeof v?.description === 'string') parts.push(v.description);
    parts.push(paramsText(v, depth + 1), paramsText(v?.items, depth + 1));
  }
  return parts.filter(Boolean).join(' ');
}

/** The document of one tool definition. */
export function documentOf(tool: any): ToolDocument {
  return {
    id: String(tool.name),
    name: String(tool.name),
    title: String(tool.title ?? tool.annotations?.title ?? ''),
    description: typeof tool.description === 'string' ? tool.description : '',
    params: paramsText(tool.inputSchema),
  };
}

/** Field boosts, in document field order (name, title, description, params). */
const FIELDS = ['name', 'title', 'description', 'params'] as const;
const BOOST = [3, 2, 1.5, 1];
const K1 = 1.2;
const B = 0.75;
/** Weight of a prefix match (`deploy` → `deployment`) against an exact one. */
const PREFIX_WEIGHT = 0.4;
const MIN_PREFIX = 4;
const MAX_EXPANSIONS = 16;

/** The index as shipped in the bundle: names, sorted terms, and per-term postings with BM25F weights. */
export interface SerializedIndex {
  v: 1;
  docs: string[];
  terms: string[];
  /** Postings of term i are [offsets[i], offsets[i + 1]). */
  offsets: number[];
  /** Base64 Int32Array: document indexes. */
  postings: string;
  /** Base64 Float32Array: the BM25F weight of the term in that document. */
  weights: string;
}

/** A loaded index, ready for queries. */
export interface SearchIndex {
  docs: string[];
  terms: string[];
  termIndex: Map<string, number>;
  offsets: Int32Array;
  postings: Int32Array;
  weights: Float32Array;
  /** Scratch space for one query, reused (queries run one at a time). */
  scores: Float64Array;
}

const terms = (text: string): string[] => {
  const out: string[] = [];
  for (const w of tokenize(text)) {
    const t = processTerm(w);
    if (t !== null) out.push(t);
  }
  return out;
};

/** Builds the index of `tools` (compile time). */
export function buildIndex(tools: readonly any[]): SerializedIndex {
  const docs = tools.map(documentOf);
  const n = docs.length;
  const fieldTerms = docs.map((d) => FIELDS.map((f) => terms(d[f])));
  const avg = FIELDS.map((_, f) => fieldTerms.reduce((s, ft) => s + ft[f].length, 0) / Math.max(1, n) || 1);
  // term → (doc → weighted, length-normalized term frequency)
  const tf = new Map<string, Map<number, number>>();
  fieldTerms.forEach((ft, d) => {
    ft.forEach((list, f) => {
      const norm = 1 - B + (B * list.length) / avg[f];
      for (const t of list) {
        let m = tf.get(t);
        if (!m) tf.set(t, (m = new Map()));
        m.set(d, (m.get(d) ?? 0) + BOOST[f] / norm);
      }
    });
  });
  const sorted = [...tf.keys()].sort();
  const offsets = [0];
  const postings: number[] = [];
  const weights: number[] = [];
  for (const t of sorted) {
    const m = tf.get(t)!;
    const idf = Math.log(1 + (n - m.size + 0.5) / (m.size + 0.5));
    for (const [d, w] of [...m].sort((a, b) => a[0] - b[0])) {
      postings.push(d);
      weights.push((idf * w) / (K1 + w));
    }
    offsets.push(postings.length);
  }
  const b64 = (a: Int32Array | Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  return {
    v: 1,
    docs: docs.map((d) => d.id),
    terms: sorted,
    offsets,
    postings: b64(Int32Array.from(postings)),
    weights: b64(Float32Array.from(weights)),
  };
}

/** Loads an index built by buildIndex (start-up): a base64 decode and one map of the terms. */
export function loadIndex(json: string | SerializedIndex): SearchIndex {
  const s: SerializedIndex = typeof json === 'string' ? JSON.parse(json) : json;
  const decode = <T>(b64: string, make: (buf: ArrayBuffer) => T): T => {
    const b = Buffer.from(b64, 'base64');
    const copy = new ArrayBuffer(b.byteLength);
    new Uint8Array(copy).set(b);
    return make(copy);
  };
  return {
    docs: s.docs,
    terms: s.terms,
    termIndex: new Map(s.terms.map((t, i) => [t, i])),
    offsets: Int32Array.from(s.offsets),
    postings: decode(s.postings, (b) => new Int32Array(b)),
    weights: decode(s.weights, (b) => new Float32Array(b)),
    scores: new Float64Array(s.docs.length),
  };
}

/** The first index in sorted `terms` not below `prefix`. */
function lowerBound(terms: readonly string[], prefix: string): number {
  let lo = 0;
  let hi = terms.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (terms[mid] < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Tool names ranked for a task description and optional keywords (keywords count double), best
 * first; at most `limit` of them (a top-k selection, not a full sort), among those `accept` lets
 * through (the caller's visible tools), so a caller who may see few tools still gets the best of them.
 */
export function rank(
  index: SearchIndex,
  description: string,
  keywords: readonly string[] = [],
  limit = Number.POSITIVE_INFINITY,
  accept?: (name: string) => boolean,
): Array<{ id: string; score: number }> {
  const wanted = new Map<string, number>();
  for (const t of terms(description)) wanted.set(t, (wanted.get(t) ?? 0) + 1);
  for (const t of terms(keywords.join(' '))) wanted.set(t, (wanted.get(t) ?? 0) + 2);
  const { scores, offsets, postings, weights } = index;
  const touched: number[] = [];
  const add = (ti: number, factor: number) => {
    for (let p = offsets[ti]; p < offsets[ti + 1]; p++) {
      const d = postings[p];
      if (scores[d] === 0) touched.push(d);
      scores[d] += weights[p] * factor;
    }
  };
  for (const [t, count] of wanted) {
    // Repeating a word in a query counts, but less and less (as BM25 does for documents).
    const q = count / (0.5 + count);
    const exact = index.termIndex.get(t);
    if (exact !== undefined) add(exact, q);
    if (t.length < MIN_PREFIX) continue;
    let expansions = 0;
    for (let i = lowerBound(index.terms, t); i < index.terms.length && index.terms[i].startsWith(t); i++) {
      if (i === exact) continue;
      if (++expansions > MAX_EXPANSIONS) break;
      add(i, q * PREFIX_WEIGHT);
    }
  }
  const candidates = accept ? touched.filter((d) => accept(index.docs[d])) : touched;
  const out = topK(candidates, scores, limit).map((d) => ({ id: index.docs[d], score: scores[d] }));
  for (const d of touched) scores[d] = 0;
  return out;
}

/** The `limit` best of `candidates` by `scores`, best first (ties: catalog order). */
function topK(candidates: number[], scores: Float64Array, limit: number): number[] {
  const better = (a: number, b: number) => scores[a] > scores[b] || (scores[a] === scores[b] && a < b);
  if (candidates.length <= limit) return candidates.sort((a, b) => (better(a, b) ? -1 : 1));
  // A min-heap of the best `limit` so far.
  const heap: number[] = [];
  const sift = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && better(heap[m], heap[l])) m = l;
      if (r < heap.length && better(heap[m], heap[r])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (const c of candidates) {
    if (heap.length < limit) {
      heap.push(c);
      for (let i = heap.length - 1; i > 0; ) {
        const p = (i - 1) >>> 1;
        if (!better(heap[p], heap[i])) break;
        [heap[i], heap[p]] = [heap[p], heap[i]];
        i = p;
      }
    } else if (better(c, heap[0])) {
      heap[0] = c;
      sift(0);
    }
  }
  return heap.sort((a, b) => (better(a, b) ? -1 : 1));
}
