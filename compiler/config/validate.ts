import { VmcpConfigSchema, type VmcpConfig } from '../../schemas/vmcp.ts';
import { sortDiagnostics, type Diagnostic, type PhaseResult, type Severity } from '../diagnostics.ts';
import { resolveGroup, type ReadFile, type ResolvedBackend } from '../resolve/group.ts';
import { type GroupState, groupStateOf, withDiscoveredAuth } from '../resolve/group-state.ts';
import { type GroupOptions, type PinnedGroup, withGroupDefaults } from '../resolve/group-pin.ts';
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
  /**
   * How `groupRef` is resolved: the options from flags and env, the group pinned in the lock, and
   * (in compile) the group just looked up. Without it, a group to look up is reported as pending.
   */
  group?: { options?: GroupOptions; lockGroup?: PinnedGroup; resolved?: PinnedGroup };
}

/** A config that passed every check, with its resolved group. */
export interface ValidConfig {
  parsed: ParsedConfig;
  config: VmcpConfig;
  backends: ResolvedBackend[];
  /** The group whose members joined `backends` (looked up now or read from the lock); pinned in the lock. */
  group?: PinnedGroup;
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

/** A config parsed and checked against the schema, before its group is resolved. */
export interface ReadConfig {
  parsed: ParsedConfig;
  config: VmcpConfig;
}

/** parse → schema. The compile reads `groupRef` from this before it looks the group up. */
export function readConfig(file: string, text: string): PhaseResult<ReadConfig | undefined> {
  const parsed = parseConfig(file, text);
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  if (!parsed.value) return { value: undefined, diagnostics };
  const schema = validateSchema(parsed.value);
  diagnostics.push(...schema.diagnostics);
  if (!schema.value) return { value: undefined, diagnostics };
  return { value: { parsed: parsed.value, config: schema.value }, diagnostics };
}

/** group → semantic checks, on a config that passed the schema. */
export function checkConfig(read: ReadConfig, ctx: ConfigContext): PhaseResult<ValidConfig | undefined> {
  const { parsed } = read;
  const state: GroupState = groupStateOf(read.config, {
    ...ctx.group,
    options: withGroupDefaults(ctx.group?.options, read.parsed.groupDefaults),
  });
  const config = withDiscoveredAuth(read.config, state);
  const group = resolveGroup(config, parsed.file, parsed.locator, ctx.readFile, state.pinned);
  const diagnostics: Diagnostic[] = [...group.diagnostics];
  diagnostics.push(
    ...checkSemantics(config, group.value, {
      file: parsed.file,
      locator: parsed.locator,
      env: ctx.env,
      envSeverity: ctx.envSeverity ?? 'warning',
      group: state,
    }),
  );
  const sorted = sortDiagnostics(diagnostics);
  const failed = sorted.some((d) => d.severity === 'error');
  return {
    value: failed
      ? undefined
      : { parsed, config, backends: group.value, ...(state.pinned ? { group: state.pinned } : {}) },
    diagnostics: sorted,
  };
}

/** parse → schema → group → semantic checks. Every problem is reported in one run. */
export function loadConfig(file: string, text: string, ctx: ConfigContext): PhaseResult<ValidConfig | undefined> {
  const read = readConfig(file, text);
  if (!read.value) return { value: undefined, diagnostics: sortDiagnostics(read.diagnostics) };
  const checked = checkConfig(read.value, ctx);
  return { value: checked.value, diagnostics: sortDiagnostics([...read.diagnostics, ...checked.diagnostics]) };
}
