/**
 * The compiler's public API. Every function is pure or takes its I/O injected, and answers
 * `{ value, diagnostics }`: `value` is absent when a diagnostic is an error. The CLI in cli/ is one
 * caller; an editor integration or a CI script can be another.
 */
import { compile as runCompile, type CompileContext, type CompileOutput } from './compile.ts';
import { loadConfig, type ConfigContext, type ValidConfig } from './config/validate.ts';
import { checkCompositesWithLock } from './composite/check-with-lock.ts';
import { hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.ts';
import { diffSurfaces, type DiffReport } from './diff/diff.ts';
import { loadSide, type SideReader } from './diff/load-side.ts';
import { verifyBundle, type VerifyCheck, type VerifyInput } from './verify.ts';
import { createGroupLookup, lockGroupOf } from './resolve/lookup-group.ts';

/** A phase's answer: the value when it succeeded, and every diagnostic either way. */
export interface Result<T> {
  value?: T;
  diagnostics: Diagnostic[];
}

/**
 * Static checks of a config, with no network: the config, its defaults applied, and its resolved
 * group. Given the text of its vmcp.lock.json, composite tools are checked against the pinned schemas
 * and a looked-up `groupRef` uses the members pinned there.
 */
export function validate(file: string, text: string, ctx: ConfigContext, lockText?: string): Result<ValidConfig> {
  const r = loadConfig(file, text, { ...ctx, group: { lockGroup: lockGroupOf(lockText), ...ctx.group } });
  const composite = r.value ? checkCompositesWithLock(r.value, text, lockText) : [];
  const diagnostics = sortDiagnostics([...r.diagnostics, ...composite]);
  return r.value && !hasErrors(composite) ? { value: r.value, diagnostics } : { diagnostics };
}

/**
 * The whole pipeline: lock, catalog, gateway data, router module, bundle and manifest (nothing is
 * written). A `groupRef` to look up is read from ToolHive or Kubernetes unless `lookupGroup` is given.
 */
export function compile(ctx: CompileContext): Promise<Result<CompileOutput>> {
  return runCompile({ ...ctx, lookupGroup: ctx.lookupGroup ?? createGroupLookup(ctx.env) });
}

/**
 * The semantic diff of two releases. Each side is a path (config, lock, manifest or bundle) or
 * `git:<ref>:<path>`, read through `reader`.
 */
export async function diff(before: string, after: string, reader: SideReader): Promise<Result<DiffReport>> {
  const sides = await Promise.all([loadSide(before, reader), loadSide(after, reader)]);
  const diagnostics = sides.flatMap((s) => s.diagnostics);
  sides.forEach((s, i) => {
    if (s.error) diagnostics.push(sideError(s.error, i === 0 ? before : after));
  });
  const [a, b] = sides;
  if (!a.surface || !b.surface) return { diagnostics };
  return { value: diffSurfaces(a.surface, b.surface), diagnostics };
}

/**
 * Checks a bundle against its manifest (hashes, size, and the input hashes when the config and lock
 * texts are given). The value lists every check; a failed check is also an error diagnostic.
 */
export function verify(input: VerifyInput): Result<VerifyCheck[]> {
  const r = verifyBundle(input);
  if (r.error) return { diagnostics: [sideError(r.error, input.bundleFile)] };
  const diagnostics = r.checks
    .filter((c) => !c.ok)
    .map(
      (c): Diagnostic => ({
        code: 'VERIFY_MISMATCH',
        severity: 'error',
        message: `${c.what} differs: the manifest says ${c.expected}, the file has ${c.actual}`,
        file: input.bundleFile,
        line: 0,
        column: 0,
        hint: 'rebuild with vmcp compile, or check that the bundle was not modified after it was built',
      }),
    );
  return diagnostics.length ? { value: r.checks, diagnostics } : { value: r.checks, diagnostics: [] };
}

function sideError(message: string, file: string): Diagnostic {
  return { code: 'FILE_NOT_FOUND', severity: 'error', message, file, line: 0, column: 0 };
}

export type { CompileContext, CompileOutput } from './compile.ts';
export type { ConfigContext, ValidConfig } from './config/validate.ts';
export type { Diagnostic, DiagnosticCode, Severity } from './diagnostics.ts';
export type { DiffReport, Change } from './diff/diff.ts';
export type { SideReader } from './diff/load-side.ts';
export type { Manifest } from './emit/manifest.ts';
export type { GroupOptions, GroupSource, PinnedGroup } from './resolve/group-pin.ts';
export type { LookupGroup } from './resolve/lookup-group.ts';
export type { VerifyCheck, VerifyInput } from './verify.ts';
export type { CompiledGateway } from '../runtime/compiled-gateway.ts';
export { formatDiagnostics } from './format-diagnostics.ts';
