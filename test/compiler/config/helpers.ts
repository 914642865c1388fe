import { loadConfig, type ConfigContext } from '../../../compiler/config/validate.ts';
import type { Diagnostic, Severity } from '../../../compiler/diagnostics.ts';

/** One bad config: the YAML given, and every diagnostic wanted as `[severity ]CODE line:col[ hint=…]`. */
export interface BadCase {
  name: string;
  given: string;
  want: string[];
  /** Exact message of the first wanted diagnostic. */
  message?: string;
  env?: Record<string, string>;
  envSeverity?: Severity;
  /** Files that `backendsFrom` may read, by path relative to vmcp.yaml. */
  files?: Record<string, string>;
}

/** Strips the common indentation of a template literal and its first newline: y`\n  a: 1` → "a: 1\n". */
export function y(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = String.raw({ raw: strings }, ...values).replace(/^\n/, '');
  const lines = raw.split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines
    .map((l) => l.slice(indent))
    .join('\n')
    .replace(/[ \t]*$/, '');
}

/** Runs the pure loader the way `vmcp validate` does, with injected env and files. */
export function load(
  text: string,
  opts: { env?: Record<string, string>; envSeverity?: Severity; files?: Record<string, string> } = {},
) {
  const ctx: ConfigContext = {
    env: opts.env ?? {},
    readFile: (p) => opts.files?.[p],
    ...(opts.envSeverity ? { envSeverity: opts.envSeverity } : {}),
  };
  return loadConfig('vmcp.yaml', text, ctx);
}

/** `UNKNOWN_KEY 2:1` for errors, `warning ENV_UNSET 6:22` otherwise; hints only when asked. */
export function describeDiagnostic(d: Diagnostic, withHint: boolean): string {
  const sev = d.severity === 'error' ? '' : `${d.severity} `;
  const file = d.file === 'vmcp.yaml' ? '' : `${d.file}:`;
  return `${sev}${d.code} ${file}${d.line}:${d.column}${withHint && d.hint ? ` hint=${d.hint}` : ''}`;
}

/** Formats the diagnostics of a case so that a want entry with `hint=` compares the hint too. */
export function actual(diagnostics: readonly Diagnostic[], want: readonly string[]): string[] {
  return diagnostics.map((d, i) => describeDiagnostic(d, (want[i] ?? '').includes(' hint=')));
}

/** The header every bad config builds on: one valid stdio backend `a` (lines 1-5). */
export const HEAD = 'name: gw\nbackends:\n  - name: a\n    transport: stdio\n    command: node\n';

/** Two backends, `a` (stdio) and `b` (streamable-http), lines 1-8. */
export const HEAD2 = HEAD + '  - name: b\n    transport: streamable-http\n    url: https://b.example.com/mcp\n';
