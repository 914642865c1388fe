/**
 * Compiles an RFC 6570 URI template to an anchored RegExp source, so the runtime routes
 * `resources/read` with one regex test per template.
 *   "file:///{path}"        → "^file:///([^/?#]+)$"
 *   "repo://{+path}"        → "^repo://(.+)$"
 *   "search://{q}{?limit}"  → "^search://([^/?#]+)(?:\?[^#]*)?$"
 */
export function templatePattern(template: string): string {
  let out = '^';
  let last = 0;
  /** The operators of the run of adjacent expressions being built (no literal text between them). */
  let run: string[] = [];
  const flush = () => {
    // Adjacent expressions whose groups can match the same characters ("{+a}{+b}", "{x}{y}") would
    // give adjacent greedy groups, which backtrack polynomially on a long URI that fails to match.
    // Routing needs no captures, so one group that matches their concatenation (a slight superset)
    // takes their place. Disjoint neighbours ("{q}{?limit}") stay as they are.
    const merged: string[] = [];
    for (const op of run) {
      const prev = merged[merged.length - 1];
      if (prev === undefined || disjoint(prev, op)) merged.push(op);
      else merged[merged.length - 1] = prev === '' && op === '' ? '' : '*';
    }
    for (const op of merged) out += op === '*' ? '(.*)' : GROUP[op];
    run = [];
  };
  for (const m of template.matchAll(/\{([+#./;?&]?)([^}]*)\}/g)) {
    const literal = template.slice(last, m.index);
    if (literal) {
      flush();
      out += escapeRegExp(literal);
    }
    last = (m.index ?? 0) + m[0].length;
    run.push(m[1]);
  }
  flush();
  return `${out}${escapeRegExp(template.slice(last))}$`;
}

/** True when what `next` matches starts with a character the group of `prev` can never contain. */
function disjoint(prev: string, next: string): boolean {
  if (next === '?' || next === '&') return prev === '' || prev === '/' || prev === '.' || prev === ';';
  return next === '/' && prev === '';
}

/** The group each RFC 6570 operator expands to; `?` and `&` share the query form. */
const GROUP: Record<string, string> = {
  '': '([^/?#]+)',
  '+': '(.+)',
  '#': '(.+)',
  '/': '((?:/[^/?#]*)*)',
  '.': '((?:\\.[^/?#.]*)*)',
  ';': '((?:;[^/?#]*)*)',
  '?': '((?:[?&][^#]*)?)',
  '&': '((?:[?&][^#]*)?)',
};

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
