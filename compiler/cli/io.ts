import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics.ts';
import { formatDiagnostics, summarize } from '../format-diagnostics.ts';

/** Where the CLI writes: injected so tests can capture output. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  isTTY: boolean;
}

/** The process's own streams. */
export function processIo(): CliIo {
  return {
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    cwd: process.cwd(),
    env: process.env,
    isTTY: Boolean(process.stderr.isTTY),
  };
}

/** Reads a text file, or undefined when it does not exist or is not a file. */
export function readText(path: string): string | undefined {
  try {
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** The path as shown in diagnostics: relative to the working directory, with forward slashes. */
export function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, resolve(cwd, path));
  return (rel.startsWith('..') ? resolve(cwd, path) : rel).split('\\').join('/');
}

/** Prints diagnostics (with code frames) and returns the number of errors. */
export function reportDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[], json: boolean): number {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  if (json) return errors;
  if (diagnostics.length === 0) return 0;
  const sources = new Map<string, string>();
  for (const d of diagnostics) {
    if (d.file && !sources.has(d.file)) {
      const text = readText(resolve(io.cwd, d.file));
      if (text !== undefined) sources.set(d.file, text);
    }
  }
  io.err(`${formatDiagnostics(diagnostics, sources, { color: io.isTTY })}\n`);
  io.err(summarize(diagnostics));
  return errors;
}

/** Strips position-only fields that JSON consumers do not need to see as undefined. */
export function diagnosticsJson(diagnostics: readonly Diagnostic[]): string {
  return `${JSON.stringify(
    diagnostics.map(({ code, severity, message, file, line, column, hint }) => ({
      code,
      severity,
      message,
      file,
      line,
      column,
      ...(hint ? { hint } : {}),
    })),
    null,
    2,
  )}\n`;
}
