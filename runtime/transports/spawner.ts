/**
 * Starting a child process without stalling the event loop. Node's spawn() is synchronous: it forks,
 * then waits until the child has called exec, which takes 5–100+ ms on a loaded machine; meanwhile
 * no client request is answered (bench/README.md, "Cold start"). Here a worker thread calls spawn().
 * The child's stdin, stdout and stderr are Unix socket pairs made on the main thread (what libuv makes
 * for 'pipe' stdio anyway): the worker hands the child its ends as file descriptors, and the main
 * thread keeps the other ends and reads and writes them on its own loop, so a call never crosses
 * threads. `VMCP_SPAWN=inline` (and Windows) spawn on the main thread instead.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { spawn, type ChildProcess } from 'node:child_process';

/** What the stdio transport and the process groups use of a child. */
export interface Child {
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  readonly stdin: NodeJS.WritableStream & { destroy(): void; on(e: 'error', f: (err: Error) => void): unknown };
  readonly stdout: NodeJS.ReadableStream & { destroy(): void };
  readonly stderr: NodeJS.ReadableStream & { destroy(): void; setEncoding(e: BufferEncoding): unknown };
  kill(signal?: NodeJS.Signals): boolean;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

/** How to start a child. */
export interface ChildSpec {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  detached: boolean;
}

/**
 * Starts a child; resolves once it runs (its pid known), rejects as spawn() fails (an `Error` with
 * the errno `code`, ENOENT for a missing command). `spawner` is the owner's (its process groups');
 * without one, a spawner lives for this child alone.
 */
export function startChild(
  spec: ChildSpec,
  spawner?: Spawner,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Child> {
  if (process.platform === 'win32' || env.VMCP_SPAWN === 'inline') return startInline(spec);
  return (spawner ?? new Spawner()).start(spec);
}

function startInline(spec: ChildSpec): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(spec.command, spec.args, {
      env: spec.env,
      cwd: spec.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: spec.detached,
      windowsHide: true,
    });
    const onError = (err: Error) => reject(err);
    child.once('error', onError);
    child.once('spawn', () => {
      child.off('error', onError);
      resolve(child as ChildProcess & Child);
    });
  });
}

/** The worker's whole program: spawn as told, report start, failure and exit. */
const WORKER_SOURCE = `
const { parentPort, threadId } = require('node:worker_threads');
const { spawn } = require('node:child_process');
parentPort.on('message', (m) => {
  const post = (msg) => parentPort.postMessage({ id: m.id, ...msg });
  let child;
  try {
    child = spawn(m.command, m.args, { stdio: m.fds, env: m.env, cwd: m.cwd, detached: m.detached, windowsHide: true });
  } catch (err) {
    post({ type: 'error', message: err.message, code: err.code });
    return;
  }
  post({ type: 'forked' });
  child.on('error', (err) => post({ type: 'error', message: err.message, code: err.code }));
  child.on('spawn', () => post({ type: 'spawn', pid: child.pid, thread: threadId }));
  child.on('exit', (code, signal) => post({ type: 'exit', code, signal }));
});
`;

type WorkerEvent =
  | { id: number; type: 'forked' }
  | { id: number; type: 'spawn'; pid: number; thread: number }
  | { id: number; type: 'error'; message: string; code?: string }
  | { id: number; type: 'exit'; code: number | null; signal: NodeJS.Signals | null };

/** A child whose spawn() ran on the worker; its stdio sockets live on this thread. */
class RemoteChild extends EventEmitter {
  pid: number | undefined;
  /** The thread whose spawn() started it (never 0, the main thread's id). */
  spawnedBy: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;

  constructor(
    readonly stdin: Socket,
    readonly stdout: Socket,
    readonly stderr: Socket,
  ) {
    super();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.pid === undefined || this.exitCode !== null || this.signalCode !== null) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** The worker and the private socket server, while a spawner has children. */
interface Running {
  worker: Worker;
  server: Server;
  path: string;
  listening: Promise<void>;
  /** Removes the socket's directory (none on Linux: the socket is abstract). */
  removeDir: () => void;
}

/**
 * One worker thread and one private Unix socket server, started with the first child and stopped
 * when the last one has exited (the worker must outlive its children: it hears their exits).
 */
export class Spawner {
  private running: Running | undefined;
  /** Starts in progress plus children alive. */
  private users = 0;
  /** Accepted sockets waiting for the connect that sent their token. */
  private readonly accepted = new Map<string, (s: Socket) => void>();
  private readonly children = new Map<
    number,
    { child: RemoteChild; ends: Socket[]; resolve(c: Child): void; reject(e: Error): void }
  >();
  private nextId = 1;

  /** `tokenWaitMs`: how long a connection to the private server may take to send its token. */
  constructor(private readonly tokenWaitMs = 5_000) {}

  /** Whether its worker thread runs (from the first start until the last child has exited). */
  get active(): boolean {
    return this.running !== undefined;
  }

  async start(spec: ChildSpec): Promise<Child> {
    this.users++;
    let started = false;
    try {
      const run = (this.running ??= this.boot());
      await run.listening;
      const pairs = await Promise.all([this.pair(run), this.pair(run), this.pair(run)]);
      const [stdin, stdout, stderr] = pairs.map((p) => p.mine);
      const theirs = pairs.map((p) => p.theirs);
      const id = this.nextId++;
      const child = new RemoteChild(stdin, stdout, stderr);
      const out = await new Promise<Child>((resolve, reject) => {
        this.children.set(id, { child, ends: theirs, resolve, reject });
        run.worker.postMessage({
          id,
          command: spec.command,
          args: spec.args,
          env: spec.env,
          cwd: spec.cwd,
          detached: spec.detached,
          fds: theirs.map((s) => (s as unknown as { _handle: { fd: number } })._handle.fd),
        });
      });
      started = true;
      return out;
    } finally {
      // A child that started is released when it exits.
      if (!started) this.release();
    }
  }

  private boot(): Running {
    // On Linux the socket is abstract: it leaves nothing behind, even when the process is killed
    // with SIGKILL. Elsewhere it lives in a directory only this user can enter. Either way a
    // connection counts only with a 128-bit token this process made (onConnection).
    const dir = process.platform === 'linux' ? undefined : mkdtempSync(join(tmpdir(), 'vmcp-spawn-'));
    const path = dir ? join(dir, 's') : `\0vmcp-spawn-${process.pid}-${randomBytes(12).toString('hex')}`;
    const removeDir = () => dir && rmSync(dir, { recursive: true, force: true });
    const server = createServer({ pauseOnConnect: true }, (s) => this.onConnection(s));
    server.unref();
    const listening = new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    const worker = new Worker(WORKER_SOURCE, { eval: true, env: SHARE_ENV });
    worker.unref();
    worker.on('message', (m: WorkerEvent) => this.onEvent(m));
    worker.on('error', (err) => this.failAll(err));
    process.once('exit', removeDir);
    return { worker, server, path, listening, removeDir };
  }

  private release(): void {
    if (--this.users > 0 || !this.running) return;
    const run = this.running;
    this.running = undefined;
    void run.worker.terminate();
    run.server.close();
    process.off('exit', run.removeDir);
    run.removeDir();
  }

  /** A connected pair of Unix sockets: one end for this thread, one for the child. */
  private pair(run: Running): Promise<{ mine: Socket; theirs: Socket }> {
    const token = randomBytes(16).toString('hex');
    return new Promise((resolve, reject) => {
      const mine = connect(run.path);
      mine.once('error', reject);
      this.accepted.set(token, (theirs) => {
        mine.off('error', reject);
        resolve({ mine, theirs });
      });
      mine.write(token);
    });
  }

  /** Reads the token a connect sent first, and matches the socket to it (anything else is dropped). */
  private onConnection(s: Socket): void {
    let got = '';
    const onData = (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (got.length < 32) return;
      s.off('data', onData);
      s.setTimeout(0);
      s.pause();
      const match = got.length === 32 ? this.accepted.get(got) : undefined;
      if (!match) return void s.destroy();
      this.accepted.delete(got);
      match(s);
    };
    s.on('data', onData);
    s.on('error', () => {});
    // A connection that never sends a token is dropped (the legitimate one sends it at once).
    s.setTimeout(this.tokenWaitMs, () => {
      if (got.length < 32) s.destroy();
    });
    s.resume();
  }

  private onEvent(m: WorkerEvent): void {
    const entry = this.children.get(m.id);
    if (!entry) return;
    const { child } = entry;
    if (m.type === 'forked') {
      // The child holds its own copies now: close ours, so its exit ends the streams.
      for (const s of entry.ends) s.destroy();
      entry.ends = [];
    } else if (m.type === 'spawn') {
      child.pid = m.pid;
      child.spawnedBy = m.thread;
      entry.resolve(child);
    } else if (m.type === 'error') {
      for (const s of [...entry.ends, child.stdin, child.stdout, child.stderr]) s.destroy();
      this.children.delete(m.id);
      entry.reject(Object.assign(new Error(m.message), { code: m.code }));
    } else {
      child.exitCode = m.code;
      child.signalCode = m.signal;
      this.children.delete(m.id);
      child.emit('exit', m.code, m.signal);
      this.release();
    }
  }

  private failAll(err: Error): void {
    // The next start boots a new worker; this one's children can no longer be heard from.
    const run = this.running;
    this.running = undefined;
    if (run) {
      run.server.close();
      process.off('exit', run.removeDir);
      run.removeDir();
    }
    for (const [id, entry] of this.children) {
      this.children.delete(id);
      entry.reject(new Error(`the spawner thread failed: ${err.message}`));
    }
  }
}
