import type { Diagnostic } from './diagnostics.ts';

/** Options for printing diagnostics. */
export interface FormatOptions {
  /** ANSI colours (only on a TTY). */
  color?: boolean;
  /** Lines of context above and below the offending line. */
  context?: number;
}

const ANSI = {
  red: '\x1b[31m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  reset: '\x1b[0m',
};

/**
 * Prints one diagnostic the way a compiler does:
 *   vmcp.yaml:14:7 error[UNKNOWN_KEY] unknown key "backend" in aggregation.tools[0]
 *     13 |   tools:
 *   > 14 |     - backend: github
 *        |       ^^^^^^^
 *     hint: did you mean "workload"?
 */
export function formatDiagnostic(d: Diagnostic, source: string | undefined, opts: FormatOptions = {}): string {
  const c = (code: keyof typeof ANSI, s: string) => (opts.color ? `${ANSI[code]}${s}${ANSI.reset}` : s);
  const where = d.file ? (d.line > 0 ? `${d.file}:${d.line}:${d.column} ` : `${d.file} `) : '';
  const sev = c(
    d.severity === 'error' ? 'red' : d.severity === 'warning' ? 'yellow' : 'cyan',
    `${d.severity}[${d.code}]`,
  );
  const out = [`${where}${sev} ${d.message}`];
  if (source !== undefined && d.line > 0) out.push(...codeFrame(source, d, opts.context ?? 1, c));
  if (d.hint) {
    const [first, ...rest] = d.hint.split('\n');
    out.push(`  ${c('cyan', 'hint:')} ${first}`, ...rest.map((l) => `        ${l}`));
  }
  return out.join('\n');
}

function codeFrame(
  source: string,
  d: Diagnostic,
  context: number,
  c: (k: keyof typeof ANSI, s: string) => string,
): string[] {
  const lines = source.split(/\r\n|\r|\n/);
  const first = Math.max(1, d.line - context);
  const last = Math.min(lines.length, d.line + context);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    // Tabs and control bytes (a binary file) would break the underline or the terminal: one column each.
    const text = (lines[n - 1] ?? '').replace(/\t/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '?');
    const mark = n === d.line ? '>' : ' ';
    out.push(c('dim', `  ${mark} ${String(n).padStart(width)} |`) + (text ? ` ${text}` : ''));
    if (n === d.line) {
      // Underline to the end column when the span stays on this line, else to the end of the token.
      const sameLine = d.endLine === d.line && d.endColumn !== undefined && d.endColumn > d.column;
      const tokenEnd = text.slice(d.column - 1).search(/[\s:,\]}]|$/);
      const len = sameLine ? d.endColumn! - d.column : Math.max(1, tokenEnd);
      out.push(
        c('dim', `    ${' '.repeat(width)} |`) +
          ` ${' '.repeat(Math.max(0, d.column - 1))}${c('red', '^'.repeat(Math.max(1, len)))}`,
      );
    }
  }
  return out;
}

/** Prints many diagnostics followed by a one-line summary. */
export function formatDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
  opts: FormatOptions = {},
): string {
  return diagnostics.map((d) => formatDiagnostic(d, sources.get(d.file), opts)).join('\n\n');
}

/** "2 errors, 1 warning" */
export function summarize(diagnostics: readonly Diagnostic[]): string {
  const n = (sev: string) => diagnostics.filter((d) => d.severity === sev).length;
  const e = n('error');
  const w = n('warning');
  return `${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}`;
}
