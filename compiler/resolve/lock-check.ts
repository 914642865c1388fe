import type { Diagnostic } from '../diagnostics.ts';
import type { ValidConfig } from '../config/validate.ts';
import { CATALOG_KINDS, LOCKFILE_VERSION, sameIdentity, type Lockfile } from '../lock.ts';

/** Parses `vmcp.lock.json` text; LOCK_MISSING when absent, LOCK_INVALID when unreadable. */
export function parseLock(
  text: string | undefined,
  configFile: string,
): { value?: Lockfile; diagnostics: Diagnostic[] } {
  const lockFile = lockPathFor(configFile);
  if (text === undefined) {
    return {
      diagnostics: [
        {
          code: 'LOCK_MISSING',
          severity: 'error',
          message: `--frozen needs ${lockFile}, which does not exist`,
          file: configFile,
          line: 0,
          column: 0,
          hint: 'run `vmcp compile` without --frozen once and commit the lock',
        },
      ],
    };
  }
  try {
    const lock = JSON.parse(text) as Lockfile;
    const ok =
      lock &&
      lock.lockfileVersion === LOCKFILE_VERSION &&
      typeof lock.backends === 'object' &&
      Object.values(lock.backends).every(
        (b) => b && typeof b.identity === 'object' && CATALOG_KINDS.every((k) => typeof b[k] === 'object'),
      );
    if (!ok) throw new Error(`expected lockfileVersion ${LOCKFILE_VERSION} with a backends object`);
    return { value: lock, diagnostics: [] };
  } catch (err) {
    return {
      diagnostics: [
        {
          code: 'LOCK_INVALID',
          severity: 'error',
          message: `${lockFile} is not a valid lock: ${(err as Error).message}`,
          file: lockFile,
          line: 1,
          column: 1,
          hint: 'regenerate it with `vmcp compile` (without --frozen)',
        },
      ],
    };
  }
}

/** The lock path beside a config: `dir/vmcp.yaml` → `dir/vmcp.lock.json`. */
export function lockPathFor(configFile: string): string {
  const slash = configFile.lastIndexOf('/');
  return `${slash >= 0 ? configFile.slice(0, slash + 1) : ''}vmcp.lock.json`;
}

/** LOCK_STALE for every backend whose identity no longer matches the lock, or that the lock lacks. */
export function checkLockFreshness(valid: ValidConfig, lock: Lockfile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const hint = 'run `vmcp compile` without --frozen to refresh the lock, review the diff, and commit it';
  for (const b of valid.backends) {
    const entry = lock.backends[b.name];
    const at = b.origin.locator.at(b.origin.path);
    const base = {
      code: 'LOCK_STALE' as const,
      severity: 'error' as const,
      file: b.origin.file,
      line: at.line,
      column: at.column,
      hint,
    };
    if (!entry) out.push({ ...base, message: `backend "${b.name}" is not in the lock` });
    else if (!sameIdentity(entry.identity, b.identity)) {
      const was = entry.identity.url ?? [entry.identity.command, ...(entry.identity.args ?? [])].join(' ');
      out.push({
        ...base,
        message: `backend "${b.name}" changed since the lock was written (the lock pins ${entry.identity.transport} ${was})`,
      });
    }
  }
  const names = new Set(valid.backends.map((b) => b.name));
  for (const name of Object.keys(lock.backends)) {
    if (!names.has(name)) {
      const at = valid.parsed.locator.at(['backends'], 'key');
      out.push({
        code: 'LOCK_STALE',
        severity: 'error',
        message: `the lock pins backend "${name}", which the config no longer has`,
        file: valid.parsed.file,
        line: at.line,
        column: at.column,
        hint,
      });
    }
  }
  return out;
}
