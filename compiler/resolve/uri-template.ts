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
  for (const m of template.matchAll(/\{([+#./;?&]?)([^}]*)\}/g)) {
    out += escapeRegExp(template.slice(last, m.index));
    last = (m.index ?? 0) + m[0].length;
    const op = m[1];
    if (op === '' ) out += '([^/?#]+)';
    else if (op === '+' || op === '#') out += '(.+)';
    else if (op === '/') out += '((?:/[^/?#]*)*)';
    else if (op === '.') out += '((?:\\.[^/?#.]*)*)';
    else if (op === ';') out += '((?:;[^/?#]*)*)';
    else out += '((?:[?&][^#]*)?)';
  }
  return `${out}${escapeRegExp(template.slice(last))}$`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
