/**
 * How text becomes search terms, for tool documents and queries alike (runtime/optimizer/search.ts):
 * identifiers split into words, stop words dropped, Porter stemming, and a fixed list of synonym
 * groups folded into one term.
 */
import { stemmer } from 'stemmer';

/**
 * Words that mean one action or thing in tool catalogs, folded to the first word of each group.
 * Kept short and general on purpose (no product names): it fixes vocabulary gaps, not rankings.
 */
export const SYNONYM_GROUPS: readonly string[][] = [
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
  ['event', 'meeting', 'appointment'],
  ['email', 'mail', 'inbox'],
  ['pull', 'pr'],
  ['monitor', 'alert', 'alarm'],
  ['task', 'todo'],
  ['secret', 'credential', 'password'],
  ['complete', 'finish', 'done'],
  ['fork', 'clone'],
  ['web', 'internet', 'online'],
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
