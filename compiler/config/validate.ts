import { VmcpConfigSchema, type VmcpConfig } from '../../schemas/vmcp.ts';
import { sortDiagnostics, type Diagnostic, type PhaseResult, type Severity } from '../diagnostics.ts';
import { resolveGroup, type ReadFile, type ResolvedBackend } from '../resolve/group.ts';
import { checkSemantics } from './checks.ts';
import { parseConfig, type ParsedConfig } from './load.ts';
import { issuesToDiagnostics } from './schema-issues.ts';

/** Options normalized once for the config phases. */
export interface ConfigContext {
  env: Readonly<Record<string, string | undefined>>;
  /** Reads files named by the config (backendsFrom), relative paths resolved by the caller's convention. */
  readFile: ReadFile;
  /** Severity of unset env references: warning for validate/compile, error for serve. */
  envSeverity?: Severity;
}

/** A config that passed every check, with its resolved group. */
export interface ValidConfig {
  parsed: ParsedConfig;
  config: VmcpConfig;
  backends: ResolvedBackend[];
}

/** Checks a parsed config against the schema; returns the defaulted config when it conforms. */
export function validateSchema(parsed: ParsedConfig): PhaseResult<VmcpConfig | undefined> {
  const result = VmcpConfigSchema.safeParse(parsed.data, { reportInput: true });
  if (result.success) return { value: result.data, diagnostics: [] };
  return {
    value: undefined,
    diagnostics: issuesToDiagnostics(result.error.issues as never, parsed.file, parsed.locator, VmcpConfigSchema),
  };
}

/** parse → schema → group → semantic checks. Every problem is reported in one run. */
export function loadConfig(file: string, text: string, ctx: ConfigContext): PhaseResult<ValidConfig | undefined> {
  const parsed = parseConfig(file, text);
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  if (!parsed.value) return { value: undefined, diagnostics: sortDiagnostics(diagnostics) };
  const schema = validateSchema(parsed.value);
  diagnostics.push(...schema.diagnostics);
  if (!schema.value) return { value: undefined, diagnostics: sortDiagnostics(diagnostics) };
  const group = resolveGroup(schema.value, file, parsed.value.locator, ctx.readFile);
  diagnostics.push(...group.diagnostics);
  diagnostics.push(
    ...checkSemantics(schema.value, group.value, {
      file,
      locator: parsed.value.locator,
      env: ctx.env,
      envSeverity: ctx.envSeverity ?? 'warning',
    }),
  );
  const sorted = sortDiagnostics(diagnostics);
  const failed = sorted.some((d) => d.severity === 'error');
  return {
    value: failed ? undefined : { parsed: parsed.value, config: schema.value, backends: group.value },
    diagnostics: sorted,
  };
}
