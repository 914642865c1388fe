/**
 * Runs `count` tasks with at most `limit` in flight; the next starts as soon as one settles. The
 * first rejection rejects the whole at once and no further task starts (those in flight are left to
 * the caller, which cancels them); `stopped()` true also stops starting new ones.
 */
export function runBounded(
  count: number,
  limit: number,
  task: (index: number) => Promise<void>,
  stopped: () => boolean,
): Promise<void> {
  if (count === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let next = 0;
    let active = 0;
    let failed = false;
    const startNext = (): void => {
      while (!failed && active < limit && next < count && !stopped()) {
        const index = next++;
        active++;
        task(index).then(
          () => {
            active--;
            if (failed) return;
            if (next < count && !stopped()) startNext();
            else if (active === 0) resolve();
          },
          (err) => {
            active--;
            if (failed) return;
            failed = true;
            reject(err);
          },
        );
      }
      if (active === 0 && !failed) resolve();
    };
    startNext();
  });
}
