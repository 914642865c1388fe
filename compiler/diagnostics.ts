/**
 * Diagnostics are data: every user-facing problem is one of these, printed by the CLI as
 * `file:line:col severity[CODE] message`, with a code frame and an optional hint.
 */

/** Every diagnostic code vmcp emits. Documented, with an example and the fix, in docs/diagnostics.md. */
export type DiagnosticCode =
  // YAML and file level
  | 'FILE_NOT_FOUND'
  | 'EMPTY_FILE'
  | 'YAML_SYNTAX'
  | 'DUPLICATE_KEY'
  | 'NOT_A_MAPPING'
  // Schema level
  | 'UNKNOWN_KEY'
  | 'MISSING_KEY'
  | 'WRONG_TYPE'
  | 'BAD_ENUM'
  | 'BAD_DURATION'
  | 'BAD_URL'
  | 'BAD_VALUE'
  | 'UNSUPPORTED'
  // Semantic checks
  | 'DUPLICATE_BACKEND'
  | 'UNKNOWN_BACKEND'
  | 'PREFIX_COLLISION'
  | 'MISSING_STRATEGY_FIELD'
  | 'ENV_UNSET'
  | 'BAD_ENV_REF'
  | 'NON_POSITIVE_DURATION'
  | 'NO_BACKENDS'
  | 'GROUP_IMPORT'
  // groupRef lookup (compiler/resolve/lookup-group.ts)
  | 'GROUP_LOOKUP'
  | 'GROUP_RESOLVED'
  | 'GROUP_NOT_LOOKED_UP'
  | 'GROUP_MEMBER_SKIPPED'
  | 'GROUP_MEMBER_SHADOWED'
  | 'GROUP_CHANGED'
  | 'GROUP_AUTH_UNSUPPORTED'
  | 'ANONYMOUS_NON_LOOPBACK'
  | 'INSECURE_ISSUER'
  | 'RESTRICTED_HEADER'
  | 'PASSTHROUGH_NO_HTTP_BACKEND'
  // Compile: introspection and the lock
  | 'BACKEND_UNREACHABLE'
  | 'MALFORMED_ITEM'
  | 'LOCK_MISSING'
  | 'LOCK_STALE'
  | 'LOCK_INVALID'
  | 'BACKEND_ABSENT'
  // Compile: catalog
  | 'NAME_CONFLICT'
  | 'PRIORITY_DROPPED'
  | 'PRIORITY_UNRANKED'
  | 'PROMPT_DROPPED'
  | 'INVALID_NAME'
  | 'NAME_TOO_LONG'
  | 'DUPLICATE_URI'
  | 'UNKNOWN_TOOL'
  | 'RATE_LIMIT_UNKNOWN_TOOL'
  | 'OPTIMIZER_NAME_CONFLICT'
  | 'EMBEDDING_UNREACHABLE'
  // Compile: composite tools (compiler/composite/)
  | 'TEMPLATE_SYNTAX'
  | 'TEMPLATE_UNKNOWN_ROOT'
  | 'TEMPLATE_UNKNOWN_PARAM'
  | 'TEMPLATE_UNKNOWN_STEP'
  | 'TEMPLATE_NOT_ANCESTOR'
  | 'TEMPLATE_UNKNOWN_FIELD'
  | 'TEMPLATE_UNCHECKED_OUTPUT'
  | 'DUPLICATE_STEP'
  | 'UNKNOWN_DEPENDENCY'
  | 'CYCLE'
  | 'EMPTY_WORKFLOW'
  | 'TOO_MANY_STEPS'
  | 'STEP_UNKNOWN_TOOL'
  | 'STEP_HIDDEN_TOOL'
  | 'STEP_ABSENT_BACKEND'
  | 'STEP_MISSING_ARGUMENT'
  | 'STEP_UNKNOWN_ARGUMENT'
  | 'STEP_ARGUMENT_TYPE'
  | 'STEP_INCOMPLETE'
  | 'STEP_IGNORED_FIELD'
  | 'STEP_RETRY'
  | 'FOREACH_INNER_STEP'
  | 'DEFAULT_RESULTS_REQUIRED'
  | 'CONDITION_NOT_BOOLEAN'
  | 'COMPOSITE_NAME_CONFLICT'
  | 'COMPOSITE_UNSAFE_ANNOTATIONS'
  | 'COMPOSITE_LIMIT'
  | 'COMPOSITE_PARAMETERS'
  | 'COMPOSITE_OUTPUT'
  | 'DEPRECATED_KEY'
  // Compile: authorization policies
  | 'POLICY_SYNTAX'
  | 'POLICY_UNKNOWN_ENTITY'
  | 'OUTPUT_STALE'
  | 'SECRET_LEAK'
  | 'VERIFY_MISMATCH'
  | 'INTERNAL';

/** How bad a diagnostic is: errors fail the command, warnings are printed. */
export type Severity = 'error' | 'warning' | 'info';

/** One problem, with the place it concerns (1-based line and column; 0 when not tied to a place). */
export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  hint?: string;
  /** Where the offending text ends, for the code frame underline. */
  endLine?: number;
  endColumn?: number;
}

/** The result of every compiler phase. */
export interface PhaseResult<T> {
  value: T;
  diagnostics: Diagnostic[];
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Builds a diagnostic that is not tied to a source position (for example a backend failure). */
export function diagnostic(
  code: DiagnosticCode,
  message: string,
  extra: Partial<Omit<Diagnostic, 'code' | 'message'>> = {},
): Diagnostic {
  return { code, severity: 'error', message, file: '', line: 0, column: 0, ...extra };
}

/** Sorts diagnostics by file, line, column, then code, so output order never depends on discovery order. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      a.column - b.column ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}
