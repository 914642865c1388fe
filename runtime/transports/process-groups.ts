/**
 * Process groups of stdio children. Each child leads its own group (`detached`), so `npx -y server`
 * or a `sh -c` wrapper is stopped together with everything it started: close signals the whole
 * group, and an exit of this process that skips close SIGKILLs every group still tracked.
 */
import { Spawner, type Child } from './spawner.ts';
import { readdir, readFile } from 'node:fs/promises';

/** Windows has no process groups to signal; there the direct child is killed as before. */
export const USE_GROUPS = process.platform !== 'win32';
/** Between checks for members still running after the child exited (each check may scan /proc). */
const GROUP_POLL_MS = 50;

/**
 * The process groups of the children one owner (a gateway, a compile) started and has not finished
 * closing; SIGKILLed if this process exits first (a synchronous 'exit' hook, installed while any is
 * tracked: SIGKILL of this process itself cannot be hooked).
 */
export class ProcessGroups {
  /** Starts this owner's children off the event loop's thread (spawner.ts). */
  readonly spawner = new Spawner();
  private readonly live = new Set<number>();
  private readonly onExit = () => {
    for (const g of this.live) signalGroup(g, 'SIGKILL');
  };

  /** Remembers a detached child's group until the returned function is called (or it empties). */
  track(child: Child): () => void {
    const pgid = child.pid;
    if (!USE_GROUPS || pgid === undefined) return () => {};
    if (this.live.size === 0) process.on('exit', this.onExit);
    this.live.add(pgid);
    // Forget an emptied group at once: its id may be reused by an unrelated group later.
    child.once('exit', () => signalGroup(pgid, 0) || this.forget(pgid));
    return () => this.forget(pgid);
  }

  /** Groups still tracked. */
  get size(): number {
    return this.live.size;
  }

  private forget(pgid: number): void {
    if (this.live.delete(pgid) && this.live.size === 0) process.off('exit', this.onExit);
  }
}

/**
 * Stops a child spawned with `detached: true` and everything it started: ends stdin, SIGTERMs the
 * group, waits up to `graceMs` for every member to exit, then SIGKILLs the group. Resolves when the
 * group is gone (or SIGKILL was sent), with our ends of the child's pipes closed so that a member
 * that escaped the group cannot keep this process alive. Never throws.
 */
export async function stopProcessGroup(child: Child, graceMs: number): Promise<void> {
  const pgid = child.pid;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const childExit = exited() ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));
  child.stdin?.end();
  if (!USE_GROUPS || pgid === undefined) {
    if (!exited()) child.kill('SIGTERM');
    if (!(await within(childExit, graceMs)) && !exited()) {
      child.kill('SIGKILL');
      await within(childExit, 1000);
    }
  } else if (!exited() || (await groupAlive(pgid))) {
    signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    await within(childExit, graceMs);
    while ((await groupAlive(pgid)) && Date.now() < deadline) await sleep(GROUP_POLL_MS);
    if (await groupAlive(pgid)) {
      signalGroup(pgid, 'SIGKILL');
      await within(childExit, 1000);
    }
  }
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/** Sends `signal` (0: only checks) to every process in group `pgid`; false when the group is empty. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether group `pgid` has a member that is still running. A member whose parent died first stays a
 * zombie until init reaps it (slowly in some containers), and `kill(-pgid, 0)` still counts it; on
 * Linux /proc tells zombies apart, elsewhere a zombie counts as alive until the grace period ends.
 */
export async function groupAlive(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => d.charCodeAt(0) >= 48 && d.charCodeAt(0) <= 57);
  } catch {
    return true;
  }
  const states = await Promise.all(
    pids.map((pid) =>
      readFile(`/proc/${pid}/stat`, 'utf8').then(
        // "<pid> (<comm>) <state> <ppid> <pgrp> …"; comm may hold spaces and parentheses.
        (stat) => stat.slice(stat.lastIndexOf(')') + 2).split(' ', 3),
        () => undefined,
      ),
    ),
  );
  return states.some((f) => f !== undefined && Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X');
}

/** Resolves true when `p` settles within `ms`, false otherwise. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    void p.finally(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
