/**
 * Child processes for the benchmarks: every process is spawned with `process.execPath` in its own
 * process group (so a gateway's stdio backends die with it), tracked, and killed by group id on
 * stop, on scenario failure, and on exit. Also /proc readers for CPU time and RSS.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ECHO = join(REPO, 'test/fixtures/servers/echo-server.mjs');
export const BASELINE = join(REPO, 'bench/baseline/proxy.mjs');
export const VMCP_CLI = join(REPO, 'bin/vmcp.mjs');

const live = new Set<ChildProcess>();

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** performance.now() at spawn. */
  startedAt: number;
  /** Everything written to stderr so far (capped), for error messages. */
  stderr(): string;
}

/** Spawns `node <args>` (with process.execPath) as a tracked process-group leader. */
export function spawnNode(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; stdin?: 'pipe' | 'ignore' } = {},
): Spawned {
  const startedAt = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${args.join(' ')}`);
  live.add(child);
  child.on('exit', () => live.delete(child));
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (err.length < 64_000) err += s;
  });
  if (opts.stdin !== 'pipe') child.stdout!.resume();
  return { child, pid: child.pid, startedAt, stderr: () => err };
}

// The runtime logs its URL (pino JSON); the baseline and the fixtures print `listening <port>`.
const PORT_PATTERNS = [/https?:\/\/[^\s/"']+:(\d{2,5})\/mcp/, /^listening (\d{2,5})$/m];

/** Resolves with the port and the time (performance.now()) the process said it listens. */
export function waitForListening(p: Spawned, timeoutMs: number): Promise<{ port: number; at: number }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (e?: Error, v?: { port: number; at: number }) => {
      clearTimeout(timer);
      p.child.stderr!.off('data', onData);
      p.child.stdout!.off('data', onData);
      p.child.off('exit', onExit);
      if (e) reject(e);
      else resolve(v!);
    };
    const onData = (chunk: Buffer | string) => {
      const at = performance.now();
      buf += chunk.toString();
      for (const re of PORT_PATTERNS) {
        const m = re.exec(buf);
        if (m) return done(undefined, { port: Number(m[1]), at });
      }
    };
    const onExit = (code: number | null) =>
      done(new Error(`process exited (${code}) before listening: ${p.stderr().slice(-2000)}`));
    const timer = setTimeout(
      () => done(new Error(`not listening after ${timeoutMs} ms: ${p.stderr().slice(-2000)}`)),
      timeoutMs,
    );
    p.child.stderr!.on('data', onData);
    p.child.stdout!.on('data', onData);
    p.child.on('exit', onExit);
  });
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`. */
export async function stop(p: Spawned | ChildProcess, graceMs = 1500): Promise<void> {
  const child = 'child' in p ? p.child : p;
  const pid = child.pid!;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    killGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  // Stragglers (backends that ignored SIGTERM) in the group.
  killGroup(pid, 'SIGKILL');
  live.delete(child);
}

/** Stops every tracked process. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => stop(c)));
}

export function liveCount(): number {
  return live.size;
}

process.on('exit', () => {
  for (const c of live) killGroup(c.pid!, 'SIGKILL');
});

let clkTck = 0;
/** User + system CPU time of a process (all threads) in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  if (!clkTck) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clkTck;
}

/** Resident set size in MB, from /proc/<pid>/status VmRSS. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
