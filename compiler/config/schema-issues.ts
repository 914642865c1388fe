import type { z } from 'zod';
import type { Diagnostic, DiagnosticCode } from '../diagnostics.ts';
import { formatPath, type ConfigPath, type Locator } from './locate.ts';
import { suggest } from './suggest.ts';
import { DURATION } from '../../schemas/vmcp.ts';

type Issue = z.core.$ZodIssue & { input?: unknown; params?: { code?: string }; keys?: string[]; values?: unknown[] };
type AnySchema = z.core.$ZodType;

/** Maps every zod issue to a positioned diagnostic. `schema` is walked for "did you mean" hints. */
export function issuesToDiagnostics(
  issues: readonly Issue[],
  file: string,
  locator: Locator,
  schema: AnySchema,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const drafts = issues.flatMap((issue) => issueToDiagnostics(issue, schema));
  // `comand: x` yields both "unknown comand" (did you mean "command"?) and "missing command": keep only the first.
  const guessed = new Set(
    drafts.flatMap((d) => (d.guess !== undefined ? [formatPath([...d.path.slice(0, -1), d.guess])] : [])),
  );
  for (const d of drafts) {
    if (d.code === 'MISSING_KEY' && guessed.has(formatPath(d.path))) continue;
    const span = d.anchorNearest ? locator.nearest(d.path).span : locator.at(d.path, d.anchor);
    out.push({
      code: d.code,
      severity: 'error',
      message: d.message,
      file,
      line: span.line,
      column: span.column,
      endLine: span.endLine,
      endColumn: span.endColumn,
      ...(d.hint ? { hint: d.hint } : {}),
    });
  }
  return out;
}

interface Draft {
  code: DiagnosticCode;
  message: string;
  path: ConfigPath;
  anchor?: 'key' | 'value';
  anchorNearest?: boolean;
  hint?: string;
  /** For an unknown key: the known key it was probably meant to be. */
  guess?: string;
}

function issueToDiagnostics(issue: Issue, schema: AnySchema): Draft[] {
  const path = issue.path as PropertyKey[];
  const where = formatPath(path);
  const parent = formatPath(path.slice(0, -1));
  const last = path[path.length - 1];
  switch (issue.code) {
    case 'unrecognized_keys':
      return (issue.keys ?? []).map((key) => {
        const known = knownKeys(schema, path);
        const guess = guessName(key, known);
        return {
          code: 'UNKNOWN_KEY' as const,
          message: `unknown key "${key}" ${path.length ? `in ${formatPath(path)}` : 'at the top level'}`,
          path: [...path, key],
          anchor: 'key' as const,
          guess,
          hint: guess ? `did you mean "${guess}"?` : known.length ? `known keys here: ${known.join(', ')}` : undefined,
        };
      });
    case 'invalid_type':
      if (issue.input === undefined) {
        return [
          {
            code: 'MISSING_KEY',
            message: `missing required key "${String(last)}" in ${parent}`,
            path,
            anchorNearest: true,
            hint: `add \`${String(last)}:\` (${describeExpected(issue.expected)})`,
          },
        ];
      }
      if (schemasAt(schema, path).includes(DURATION as never)) {
        return [
          {
            code: 'BAD_DURATION',
            message: `${where} must be a duration string, not ${describeValue(issue.input)}`,
            path,
            hint: 'durations need a unit: write "10s", "1m30s" or "500ms"',
          },
        ];
      }
      return [
        {
          code: 'WRONG_TYPE',
          message: `${where} must be ${describeExpected(issue.expected)}, not ${describeValue(issue.input)}`,
          path,
          hint: typeHint(issue.expected, issue.input),
        },
      ];
    case 'invalid_value': {
      const values = (issue.values ?? []).map(String);
      if (issue.input === undefined) {
        // A required enum key that is absent (a strategy block without `type:`): name the key, not "undefined".
        const hint = `add \`${String(last)}:\` with one of: ${values.join(', ')}`;
        return [
          {
            code: 'MISSING_KEY',
            message: `missing required key "${String(last)}" in ${parent}`,
            path,
            anchorNearest: true,
            hint,
          },
        ];
      }
      const guess = typeof issue.input === 'string' ? guessName(issue.input, values) : undefined;
      return [
        {
          code: 'BAD_ENUM',
          message: `${where} must be one of ${values.map((v) => `"${v}"`).join(', ')}, not ${describeValue(issue.input)}`,
          path,
          hint: guess ? `did you mean "${guess}"?` : `use one of: ${values.join(', ')}`,
        },
      ];
    }
    case 'invalid_union': {
      const disc = (issue as unknown as { discriminator?: string; options?: unknown[] }).discriminator;
      if (disc) {
        const options = ((issue as unknown as { options?: unknown[] }).options ?? []).map(String);
        const value =
          issue.input && typeof issue.input === 'object' ? (issue.input as Record<string, unknown>)[disc] : issue.input;
        if (value === undefined) {
          // The discriminator is missing, so zod cannot report the misspelt key (`transprt:`) as unknown.
          const keys = issue.input && typeof issue.input === 'object' ? Object.keys(issue.input) : [];
          const typo = suggest(disc, keys);
          const hint = typo
            ? `did you mean "${disc}" instead of "${typo}"?`
            : `add \`${disc}:\` with one of: ${options.join(', ')}`;
          return [
            {
              code: 'MISSING_KEY',
              message: `missing required key "${disc}" in ${parent}`,
              path,
              anchorNearest: true,
              hint,
            },
          ];
        }
        const guess = typeof value === 'string' ? guessName(value, options) : undefined;
        return [
          {
            code: 'BAD_ENUM',
            message: `${where} must be one of ${options.map((o) => `"${o}"`).join(', ')}, not ${describeValue(value)}`,
            path,
            hint: guess ? `did you mean "${guess}"?` : `use one of: ${options.join(', ')}`,
          },
        ];
      }
      return [{ code: 'WRONG_TYPE', message: `${where} has the wrong type: ${issue.message}`, path }];
    }
    case 'custom': {
      const code = (issue.params?.code ?? 'BAD_VALUE') as DiagnosticCode;
      return [
        { code, message: `${where} is ${describeValue(issue.input)}: ${issue.message}`, path, hint: customHint(code) },
      ];
    }
    case 'invalid_format': {
      const code = (issue.params?.code ?? 'BAD_VALUE') as DiagnosticCode;
      return [
        { code, message: `${where} is ${describeValue(issue.input)}: ${issue.message}`, path, hint: customHint(code) },
      ];
    }
    case 'too_small':
    case 'too_big':
      return [{ code: 'BAD_VALUE', message: `${where}: ${issue.message.replace(/^Too (small|big): /, '')}`, path }];
    default:
      return [{ code: 'BAD_VALUE', message: `${where}: ${issue.message}`, path }];
  }
}

/** Names users bring from client configs and other gateways, which edit distance cannot find. */
const ALIASES: Readonly<Record<string, string>> = {
  backend: 'workload', // aggregation.tools[].backend
  server: 'workload',
  servers: 'backends', // VS Code's top-level key
  mcpServers: 'backends', // Claude Desktop's top-level key
  http: 'streamable-http', // VS Code's `type: http`
};

function guessName(input: string, candidates: readonly string[]): string | undefined {
  const alias = Object.hasOwn(ALIASES, input) ? ALIASES[input] : undefined;
  return alias !== undefined && candidates.includes(alias) ? alias : suggest(input, candidates);
}

function customHint(code: DiagnosticCode): string | undefined {
  if (code === 'BAD_DURATION') return 'write a duration such as "30s", "1m30s" or "500ms"';
  if (code === 'BAD_URL') return 'write an absolute URL such as "https://mcp.example.com/mcp"';
  return undefined;
}

function describeExpected(expected: unknown): string {
  switch (expected) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'record':
      return 'a mapping';
    case 'int':
      return 'an integer';
    default:
      return `a ${String(expected)}`;
  }
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  return `${typeof v === 'number' ? 'the number' : 'the ' + typeof v} ${String(v)}`;
}

function typeHint(expected: unknown, input: unknown): string | undefined {
  if (expected === 'string' && (typeof input === 'number' || typeof input === 'boolean'))
    return `quote it: "${String(input)}"`;
  if (expected === 'array') return 'write a list, one `- item` per line';
  if (expected === 'object' || expected === 'record') return 'write a mapping of `key: value` lines';
  return undefined;
}

/** The keys an object schema at `path` accepts (union options merged), for suggestions. */
export function knownKeys(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(schema, path)) for (const k of objectKeys(s)) keys.add(k);
  return [...keys].sort();
}

function defOf(s: AnySchema): Record<string, unknown> & { type: string } {
  return (s as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
}

function unwrap(s: AnySchema): AnySchema[] {
  const def = defOf(s);
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
    case 'catch':
      return unwrap(def.innerType as AnySchema);
    case 'pipe':
      return unwrap(def.in as AnySchema);
    case 'union':
      return (def.options as AnySchema[]).flatMap(unwrap);
    default:
      return [s];
  }
}

function schemasAt(schema: AnySchema, path: readonly PropertyKey[]): AnySchema[] {
  let current = unwrap(schema);
  for (const seg of path) {
    const next: AnySchema[] = [];
    for (const s of current) {
      const def = defOf(s);
      if (def.type === 'object') {
        const child = (def.shape as Record<string, AnySchema>)[String(seg)];
        if (child) next.push(...unwrap(child));
      } else if (def.type === 'array' && typeof seg === 'number') next.push(...unwrap(def.element as AnySchema));
      else if (def.type === 'record') next.push(...unwrap(def.valueType as AnySchema));
    }
    current = next;
  }
  return current;
}

function objectKeys(s: AnySchema): string[] {
  const def = defOf(s);
  return def.type === 'object' ? Object.keys(def.shape as object).filter((k) => k !== '$schema') : [];
}
