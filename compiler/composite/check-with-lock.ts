/**
 * `vmcp validate` runs the composite checks when a lock is there to check against: the same
 * compileComposites as `compile`, over the catalog built from the pinned lock, with no network.
 * Without a usable lock (missing, unreadable, or stale for this config) it says once that the
 * workflows were checked for shape only. Pure: the caller reads the lock file.
 */
import type { ValidConfig } from '../config/validate.ts';
import type { Diagnostic } from '../diagnostics.ts';
import { buildCatalog } from '../resolve/catalog.ts';
import { checkLockFreshness, lockPathFor, parseLock } from '../resolve/lock-check.ts';
import { compileComposites } from './compile-composites.ts';

/** The composite diagnostics of a valid config against its lock text (undefined: no lock file). */
export function checkCompositesWithLock(valid: ValidConfig, text: string, lockText: string | undefined): Diagnostic[] {
  if (!valid.config.compositeTools?.length) return [];
  const file = valid.parsed.file;
  const skipped = (why: string): Diagnostic[] => {
    const at = valid.parsed.locator.at(['compositeTools'], 'key');
    return [
      {
        code: 'LOCK_MISSING',
        severity: 'info',
        message: `composite tools were checked for shape only: ${why}`,
        file,
        line: at.line,
        column: at.column,
        hint: 'run `vmcp compile` to pin the backends; validate then checks steps against their schemas',
      },
    ];
  };
  if (lockText === undefined) return skipped(`there is no ${lockPathFor(file)}`);
  const lock = parseLock(lockText, file).value;
  if (!lock) return skipped(`${lockPathFor(file)} is not a valid lock`);
  if (checkLockFreshness(valid, lock).length) return skipped(`${lockPathFor(file)} is stale for this config`);
  const ctx = { file, locator: valid.parsed.locator };
  const catalog = buildCatalog(valid.config, valid.backends, lock, ctx);
  if (catalog.diagnostics.some((d) => d.severity === 'error'))
    return skipped('the catalog has errors that `vmcp compile` reports');
  return compileComposites({
    config: valid.config,
    backends: valid.backends,
    lock,
    catalog: catalog.value,
    src: { ...ctx, doc: valid.parsed.doc, source: text },
  }).diagnostics;
}
