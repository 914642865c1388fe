/**
 * The tool search index of the optimizer: what a tool's document is, how text becomes terms, and
 * how a query is ranked. The compiler builds the index with these exact rules (compiler/emit) and
 * ships it serialized in the bundle; the runtime loads it and ranks queries with the same rules, so
 * a term means the same thing on both sides.
 *
 * Ranking is MiniSearch's BM25+ over four fields (name, title, description, parameters), with
 * Porter stemming, identifier splitting (`create_pull_request`, `getUserById`) and prefix and fuzzy
 * matching of longer terms. A few verbs and nouns that tools and their users name differently are
 * folded into one term (`remove` → `delete`, `ticket` → `issue`): a fixed, documented list, applied
 * to documents and queries alike.
 */
import MiniSearch, { type Options, type SearchOptions } from 'minisearch';
import { stemmer } from 'stemmer';

/** One tool as indexed: its exposed name and the text fields searched. */
export interface ToolDocument {
  id: string;
  name: string;
  title: string;
  description: string;
  params: string;
}

/**
 * Words that mean one action or thing in tool catalogs, folded to the first word of each group.
 * Kept short and general on purpose (no product names): it fixes vocabulary gaps, not rankings.
 */
const SYNONYM_GROUPS: readonly string[][] = [
  ['delete', 'remove', 'erase', 'destroy', 'drop', 'trash'],
  ['create', 'add', 'new', 'make', 'insert', 'write'],
  ['get', 'fetch', 'retrieve', 'read', 'view', 'show', 'display', 'load', 'see'],
  ['list', 'enumerate'],
  ['update', 'edit', 'modify', 'change', 'set', 'rename', 'patch'],
  ['search', 'find', 'query', 'lookup', 'look', 'locate', 'discover'],
  ['send', 'message', 'notify', 'dm', 'reply'],
  ['issue', 'ticket', 'bug'],
  ['repository', 'repo', 'project'],
  ['file', 'document', 'doc'],
  ['folder', 'directory', 'dir'],
  ['page', 'website', 'site', 'webpage', 'url', 'link'],
  ['screenshot', 'capture', 'snapshot'],
  ['navigate', 'goto', 'visit', 'browse'],
  ['comment', 'note', 'annotate'],
  ['user', 'member', 'person', 'people', 'account'],
  ['run', 'execute', 'exec', 'invoke'],
];

const STOPWORDS: ReadonlySet<string> = new Set(
  'a an the and or of to for in on at by with from into onto is are be been was were it its this that these those i me my we our you your can could would should will please want need some any about as do does how what which who whom when where there their them then than so if not no'.split(
    ' ',
  ),
);

/** stemmed word → canonical stemmed term. */
const FOLD: ReadonlyMap<string, string> = new Map(
  SYNONYM_GROUPS.flatMap((group) => group.map((w) => [stemmer(w), stemmer(group[0])] as [string, string])),
);

/** Splits text into lower-case words, breaking identifiers at `_`, `-`, `.`, `/` and camelCase. */
export function tokenize(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** A word as a term: stop words dropped, stemmed, synonyms folded. */
export function processTerm(word: string): string | null {
  const w = word.toLowerCase();
  if (w.length < 2 || STOPWORDS.has(w)) return null;
  const s = stemmer(w);
  return FOLD.get(s) ?? s;
}

/** The index options; identical when building (compiler) and loading (runtime). */
export const INDEX_OPTIONS: Options<ToolDocument> = {
  fields: ['name', 'title', 'description', 'params'],
  storeFields: [],
  tokenize,
  processTerm,
};

const SEARCH: SearchOptions = {
  boost: { name: 3, title: 2, description: 1.5, params: 1 },
  prefix: (term) => term.length >= 4,
  fuzzy: (term) => (term.length >= 6 ? 0.15 : false),
  combineWith: 'OR',
  weights: { fuzzy: 0.3, prefix: 0.5 },
};

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

/** Builds the index of `tools` (compile time). */
export function buildIndex(tools: readonly any[]): MiniSearch<ToolDocument> {
  const index = new MiniSearch<ToolDocument>(INDEX_OPTIONS);
  index.addAll(tools.map(documentOf));
  return index;
}

/** Loads an index serialized by buildIndex (start-up). */
export function loadIndex(json: string): MiniSearch<ToolDocument> {
  return MiniSearch.loadJSON<ToolDocument>(json, INDEX_OPTIONS);
}

/** Tool names ranked for a task description and optional keywords (keywords count double), best first. */
export function rank(
  index: MiniSearch<ToolDocument>,
  description: string,
  keywords: readonly string[] = [],
): Array<{ id: string; score: number }> {
  const text = [description, ...keywords, ...keywords].join(' ');
  return index.search(text, SEARCH).map((r) => ({ id: String(r.id), score: r.score }));
}
