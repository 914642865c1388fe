import { isMap, isScalar, LineCounter, parseAllDocuments, parseDocument, visit, type Document } from 'yaml';
import { fromManifest, isVirtualMcpServer } from './manifest.ts';
import type { Diagnostic, PhaseResult } from '../diagnostics.ts';
import { createLocator, type Locator } from './locate.ts';

/** A parsed config file: the YAML document, its plain data, and a locator for diagnostics. */
export interface ParsedConfig {
  file: string;
  text: string;
  doc: Document;
  locator: Locator;
  data: unknown;
  /**
   * Group options the file itself implies, below the flags: a VirtualMCPServer's group lives in
   * Kubernetes, in the manifest's namespace.
   */
  groupDefaults?: { source: 'kubernetes'; namespace?: string };
}

/**
 * Parses YAML text into a document with positions. Pure: the caller reads the file.
 * Empty files, syntax errors, duplicate keys and a non-mapping root each get their own code.
 */
export function parseConfig(file: string, text: string): PhaseResult<ParsedConfig | undefined> {
  if (/^kind:\s*["']?VirtualMCPServer["']?\s*$/m.test(text)) {
    const manifest = parseManifest(file, text);
    if (manifest) return manifest;
  }
  const lineCounter = new LineCounter();
  // YAML counts a lone CR (classic Mac line endings) as a line break, the yaml package does not:
  // it would read such a file as one line (a comment-first file as empty). Same length, so every
  // offset still points into `text`.
  const lines = text.replace(/\r(?!\n)/g, '\n');
  // logLevel 'error': yaml would otherwise print process warnings (collection keys) past our diagnostics.
  const doc = parseDocument(lines, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
    logLevel: 'error',
  });
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number) => {
    // yaml reports errors found at end of input (an unclosed quote or bracket) past the last
    // newline; point at the end of the last non-blank line instead, so the frame shows the text.
    const clamped = offset >= text.length ? text.trimEnd().length : offset;
    const p = lineCounter.linePos(Math.max(0, clamped));
    return { line: p.line, column: p.col };
  };
  const span = ([start, end]: readonly number[]) => {
    const e = lineCounter.linePos(end);
    return { ...at(start), endLine: e.line, endColumn: e.col };
  };
  for (const err of doc.errors) {
    const dup = err.code === 'DUPLICATE_KEY';
    const firstLine = err.message.split('\n')[0];
    diagnostics.push({
      code: dup ? 'DUPLICATE_KEY' : 'YAML_SYNTAX',
      severity: 'error',
      message: dup ? 'duplicate key: a mapping key may appear only once' : `YAML syntax error: ${firstLine}`,
      file,
      ...at(err.pos[0]),
      hint: dup ? 'remove or rename one of the two keys' : `fix the YAML syntax (${err.code})`,
    });
  }
  for (const warn of doc.warnings) {
    diagnostics.push({
      code: 'YAML_SYNTAX',
      severity: 'warning',
      message: `YAML warning: ${warn.message.split('\n')[0]}`,
      file,
      ...at(warn.pos[0]),
    });
  }
  const locator = createLocator(doc, lineCounter);
  if (diagnostics.some((d) => d.severity === 'error')) return { value: undefined, diagnostics };

  // A file of only comments has no contents; one of only `---` has an empty null scalar.
  const empty = isScalar(doc.contents) && doc.contents.value === null && !doc.contents.source;
  if (doc.contents === null || doc.contents === undefined || empty) {
    diagnostics.push({
      code: 'EMPTY_FILE',
      severity: 'error',
      message: 'the config file is empty',
      file,
      line: 1,
      column: 1,
      hint: 'start with `name: my-gateway` and a `backends:` list, or run `vmcp init --from <mcp.json>`',
    });
    return { value: undefined, diagnostics };
  }
  if (!isMap(doc.contents)) {
    const span = locator.at([]);
    diagnostics.push({
      code: 'NOT_A_MAPPING',
      severity: 'error',
      message: 'the config must be a mapping of keys (name, backends, ...) at the top level',
      file,
      line: span.line,
      column: span.column,
      hint: 'write `key: value` pairs at the top level, e.g. `name: my-gateway`',
    });
    return { value: undefined, diagnostics };
  }
  // `{a: 1}: x` or `[a]: x` parses, but a config key must be a plain name.
  visit(doc, {
    Pair(_, pair) {
      if (pair.key === null || isScalar(pair.key)) return;
      diagnostics.push({
        code: 'YAML_SYNTAX',
        severity: 'error',
        message: 'a mapping key must be a plain name, not a list or mapping',
        file,
        ...span((pair.key as { range?: [number, number] }).range ?? [0, 0]),
        hint: 'check the indentation and the `:` on this line; quote the key if it really contains brackets',
      });
    },
  });
  if (diagnostics.some((d) => d.severity === 'error')) return { value: undefined, diagnostics };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    diagnostics.push({
      code: 'YAML_SYNTAX',
      severity: 'error',
      message: `YAML could not be converted: ${(err as Error).message.split('\n')[0]}`,
      file,
      line: 1,
      column: 1,
      hint: 'check anchors and aliases (`&a`, `*a`) in the file',
    });
    return { value: undefined, diagnostics };
  }
  return { value: { file, text, doc, locator, data }, diagnostics };
}

/**
 * A ToolHive `VirtualMCPServer` manifest (possibly among other objects, `---`-separated): the
 * config it stands for, with a locator that maps every config path into the manifest. Undefined
 * when no document is a VirtualMCPServer (the file is then read as a plain config).
 */
function parseManifest(file: string, text: string): PhaseResult<ParsedConfig | undefined> | undefined {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text.replace(/\r(?!\n)/g, '\n'), {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
    logLevel: 'error',
  });
  if (!Array.isArray(parsed)) return undefined;
  const docs = parsed as Document[];
  const servers = docs.filter(isVirtualMcpServer);
  const target = servers[0];
  if (!target) return undefined;
  const diagnostics: Diagnostic[] = [];
  for (const d of docs)
    for (const err of d.errors) {
      const p = lineCounter.linePos(err.pos[0]);
      diagnostics.push({
        code: err.code === 'DUPLICATE_KEY' ? 'DUPLICATE_KEY' : 'YAML_SYNTAX',
        severity: 'error',
        message: `YAML syntax error: ${err.message.split('\n')[0]}`,
        file,
        line: p.line,
        column: p.col,
        hint: `fix the YAML syntax (${err.code})`,
      });
    }
  if (diagnostics.length) return { value: undefined, diagnostics };
  const base = createLocator(target, lineCounter);
  for (const extra of servers.slice(1)) {
    const at = createLocator(extra, lineCounter).at(['kind']);
    diagnostics.push({
      code: 'UNSUPPORTED',
      severity: 'warning',
      message: `the file holds ${servers.length} VirtualMCPServers; vmcp reads the first (${String(target.getIn(['metadata', 'name']))}) and not this one`,
      file,
      line: at.line,
      column: at.column,
      hint: 'put each VirtualMCPServer in its own file: one file is one gateway',
    });
  }
  const others = docs.filter((d) => !servers.includes(d) && isMap(d.contents));
  if (others.length) {
    const names = others.map((d) =>
      `${d.get('kind')} ${(d.getIn(['metadata', 'name']) as string | undefined) ?? ''}`.trim(),
    );
    const at = base.at(['kind']);
    diagnostics.push({
      code: 'UNSUPPORTED',
      severity: 'info',
      message: `vmcp reads the VirtualMCPServer; the file's ${others.length} other object(s) (${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''}) are not read`,
      file,
      line: at.line,
      column: at.column,
      hint: 'the backends come from groupRef (vmcp compile --group-source kubernetes) or from backends in spec.config',
    });
  }
  const translated = fromManifest(target.toJS({ maxAliasCount: 100 }), file, base);
  diagnostics.push(...translated.diagnostics);
  const locator: Locator = {
    at: (path, anchor) => base.at(translated.pathOf(path), anchor),
    nearest: (path) => base.nearest(translated.pathOf(path)),
  };
  const namespace = target.getIn(['metadata', 'namespace']);
  return {
    value: {
      file,
      text,
      doc: target,
      locator,
      data: translated.data,
      groupDefaults: { source: 'kubernetes', ...(typeof namespace === 'string' ? { namespace } : {}) },
    },
    diagnostics,
  };
}
