/**
 * The lock phase: with --frozen, the lock on disk (checked fresh against the config); otherwise
 * every backend introspected once (the compile's only network step, injected through the context).
 */
import type { ConfigContext, ValidConfig } from '../config/validate.ts';
import type { Diagnostic } from '../diagnostics.ts';
import { LOCKFILE_VERSION, absentBackend, type Lockfile } from '../lock.ts';
import { addIntrospectionCredentials } from './introspect-credentials.ts';
import type { IntrospectResult, IntrospectTarget } from './introspect.ts';
import { checkLockFreshness, parseLock } from './lock-check.ts';
import { introspectionTargets } from './targets.ts';

/** What the lock phase needs from the compile context. */
export interface PinContext extends ConfigContext {
  file: string;
  /** The current lock file's text, if there is one. */
  lockText?: string;
  frozen: boolean;
  allowMissing: boolean;
  /** Connects to the backends; injected so the pipeline stays testable. */
  introspect: (targets: IntrospectTarget[]) => Promise<IntrospectResult[]>;
}

/** Produces the lock for this compile; absent backends are warned about at their config entry. */
export async function pinLock(
  valid: ValidConfig,
  ctx: PinContext,
): Promise<{ value?: Lockfile; diagnostics: Diagnostic[] }> {
  let lock: Lockfile;
  const diagnostics: Diagnostic[] = [];
  const done = (value?: Lockfile) => ({
    value: diagnostics.some((d) => d.severity === 'error') ? undefined : value,
    diagnostics,
  });
  if (ctx.frozen) {
    const parsed = parseLock(ctx.lockText, ctx.file);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.value) return done();
    diagnostics.push(...checkLockFreshness(valid, parsed.value));
    // A stale lock no longer describes the backends: conflicts computed from it would mislead.
    if (diagnostics.some((d) => d.severity === 'error')) return done();
    lock = parsed.value;
  } else {
    const prepared = await addIntrospectionCredentials(introspectionTargets(valid, ctx.env), valid, ctx.env);
    for (const f of prepared.failures) {
      const b = valid.backends.find((x) => x.name === f.name)!;
      const at = b.origin.locator.at(b.origin.path);
      diagnostics.push({
        code: 'BACKEND_UNREACHABLE',
        severity: ctx.allowMissing ? 'warning' : 'error',
        message: `backend "${f.name}": cannot get credentials to list it: ${f.message}`,
        file: b.origin.file,
        line: at.line,
        column: at.column,
        hint: 'check the token endpoint and the client secret env variable, or pass --allow-missing',
      });
    }
    const failed = new Set(prepared.failures.map((f) => f.name));
    const results = await ctx.introspect(prepared.targets.filter((t) => !failed.has(t.name)));
    lock = { lockfileVersion: LOCKFILE_VERSION, backends: {}, ...(valid.group ? { group: valid.group } : {}) };
    for (const r of results) {
      const b = valid.backends.find((x) => x.name === r.name)!;
      const at = b.origin.locator.at(b.origin.path);
      for (const d of r.diagnostics) {
        const severity = d.code === 'BACKEND_UNREACHABLE' && ctx.allowMissing ? 'warning' : d.severity;
        diagnostics.push({ ...d, severity, file: b.origin.file, line: at.line, column: at.column });
      }
      if (r.backend) lock.backends[r.name] = r.backend;
      else if (ctx.allowMissing) lock.backends[r.name] = absentBackend(b.identity);
    }
    if (diagnostics.some((d) => d.code === 'BACKEND_UNREACHABLE' && d.severity === 'error')) {
      diagnostics.push({
        code: 'BACKEND_UNREACHABLE',
        severity: 'info',
        message: 'the lock was not written because a backend could not be reached',
        file: ctx.file,
        line: 1,
        column: 1,
        hint: 'fix the backend, or pass --allow-missing to record it as absent',
      });
      return done();
    }
  }
  for (const b of valid.backends) {
    if (lock.backends[b.name]?.status === 'absent') {
      const at = b.origin.locator.at(b.origin.path);
      diagnostics.push({
        code: 'BACKEND_ABSENT',
        severity: 'warning',
        message: `backend "${b.name}" is recorded as absent in the lock: it exposes nothing until the next compile reaches it`,
        file: b.origin.file,
        line: at.line,
        column: at.column,
      });
    }
  }
  return done(lock);
}
