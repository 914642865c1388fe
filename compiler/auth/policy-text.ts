/**
 * Reading Cedar policy text for positions: Cedar's JSON form of a policy says which entities it
 * names but not where, so these find the literals (`Tool::"x"`, `resource is Tool`) in the text.
 */

/** An entity literal or `is` type as written in a policy; offsets are string indexes. */
export interface PolicyLiteral {
  /** `Tool` for `Tool::"x"` (namespaces joined with `::`). */
  type: string;
  /** The decoded id; undefined for the type after `is`. */
  id?: string;
  start: number;
  end: number;
}

interface Token {
  kind: 'ident' | 'string' | 'path' | 'other';
  text: string;
  start: number;
  end: number;
}

/** Cedar reports UTF-8 byte offsets; this gives the string index (for text with non-ASCII characters). */
export function charIndex(text: string, byteOffset: number): number {
  return Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8').length;
}

/** Decodes a Cedar string literal's body (`\n`, `\t`, `\r`, `\0`, `\\`, `\'`, `\"`, `\u{1F600}`). */
function decodeString(body: string): string {
  return body.replace(/\\(u\{([0-9a-fA-F]{1,6})\}|.)/gs, (_m, esc: string, hex?: string) => {
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return ({ n: '\n', r: '\r', t: '\t', '0': '\0' } as Record<string, string>)[esc] ?? esc;
  });
}

/** Splits policy text into identifiers, strings and `::`, skipping whitespace and `//` comments. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out.push({
        kind: 'string',
        text: decodeString(text.slice(i + 1, j)),
        start: i,
        end: Math.min(j + 1, text.length),
      });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      out.push({ kind: 'ident', text: m[0], start: i, end: i + m[0].length });
      i += m[0].length;
    } else if (c === ':' && text[i + 1] === ':') {
      out.push({ kind: 'path', text: '::', start: i, end: i + 2 });
      i += 2;
    } else {
      out.push({ kind: 'other', text: c, start: i, end: i + 1 });
      i++;
    }
  }
  return out;
}

/** Every entity literal (`Ns::Tool::"x"`) and every type after `is`, in text order. */
export function policyLiterals(text: string): PolicyLiteral[] {
  const toks = tokens(text);
  const out: PolicyLiteral[] = [];
  for (let i = 0; i < toks.length; i++) {
    if (toks[i].kind !== 'ident' || toks[i - 1]?.kind === 'path') continue;
    // Read `ident (:: ident)*`, then either `:: "id"` (an entity) or, after `is`, a type name.
    const names = [toks[i].text];
    let j = i + 1;
    while (toks[j]?.kind === 'path' && toks[j + 1]?.kind === 'ident') {
      names.push(toks[j + 1].text);
      j += 2;
    }
    if (toks[j]?.kind === 'path' && toks[j + 1]?.kind === 'string') {
      out.push({ type: names.join('::'), id: toks[j + 1].text, start: toks[i].start, end: toks[j + 1].end });
    } else if (toks[i - 1]?.kind === 'ident' && toks[i - 1].text === 'is') {
      out.push({ type: names.join('::'), start: toks[i].start, end: toks[j - 1].end });
    }
  }
  return out;
}
