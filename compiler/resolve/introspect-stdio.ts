/**
 * A stdio client transport for the SDK Client that runs the server in its own process group, so
 * closing it also stops what the server started (`npx -y …`, `sh -c …` wrappers). The SDK's
 * StdioClientTransport signals only its direct child and cannot put it in a group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { ProcessGroups, stopProcessGroup } from '../../runtime/transports/process-groups.ts';

/** What to spawn; `env` is the whole environment of the child (merge defaults in yourself). */
export interface GroupStdioParams {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** How long the group gets after SIGTERM before SIGKILL. */
  graceMs: number;
}

/** Live groups are SIGKILLed if this process is interrupted mid-introspection (see onSignal). */
const live = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Newline-delimited JSON-RPC over a child's stdin/stdout, with the child leading its own group. */
export class GroupStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** The child's stderr, readable before start so that no early line is lost. */
  readonly stderr = new PassThrough();
  private child?: ChildProcess;
  private readonly buffer = new ReadBuffer();
  /** This child's group, SIGKILLed if the compiler exits before closing it. */
  private readonly groups = new ProcessGroups();
  private closing?: Promise<void>;

  constructor(private readonly params: GroupStdioParams) {}

  /** The child once it has spawned (its exit status is read for diagnostics); not after a failed spawn. */
  get process(): ChildProcess | undefined {
    return this.child?.pid === undefined ? undefined : this.child;
  }

  start(): Promise<void> {
    if (this.child) throw new Error('GroupStdioTransport already started');
    return new Promise((resolve, reject) => {
      const child = spawn(this.params.command, this.params.args, {
        env: this.params.env,
        cwd: this.params.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
        windowsHide: true,
      });
      this.child = child;
      const untrack = this.groups.track(child);
      const kill = () => {
        if (child.pid !== undefined && process.platform !== 'win32') {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      };
      this.stop = () => {
        live.delete(kill);
        if (live.size === 0) for (const s of SIGNALS) process.off(s, onSignal);
        return stopProcessGroup(child, this.params.graceMs).finally(untrack);
      };
      if (live.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
      live.add(kill);
      child.on('error', (err) => {
        reject(err);
        this.onerror?.(err);
      });
      child.on('spawn', () => resolve());
      // 'close' waits for stdout and stderr to end, so every line has been read by then.
      child.on('close', () => this.onclose?.());
      child.stdin!.on('error', (err) => this.onerror?.(err));
      child.stdout!.on('data', (chunk: Buffer) => this.read(chunk));
      child.stdout!.on('error', (err) => this.onerror?.(err));
      child.stderr!.pipe(this.stderr);
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.child?.stdin;
      if (!stdin || this.closing) return reject(new Error('Not connected'));
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /** Ends stdin, SIGTERMs the group, SIGKILLs it after the grace period; resolves when it is gone. */
  close(): Promise<void> {
    return (this.closing ??= this.stop().finally(() => this.buffer.clear()));
  }

  private stop: () => Promise<void> = async () => {};

  private read(chunk: Buffer): void {
    try {
      this.buffer.append(chunk);
    } catch (err) {
      this.onerror?.(err as Error);
      void this.close();
      return;
    }
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.buffer.readMessage();
      } catch (err) {
        // A line that is not JSON-RPC (a server logging to stdout) is reported and skipped.
        this.onerror?.(err as Error);
        continue;
      }
      if (message === null) return;
      this.onmessage?.(message);
    }
  }
}

/**
 * An interrupted compile must not leave servers behind: they lead their own groups, so the
 * terminal's Ctrl-C no longer reaches them. Kill them, then let the signal do what it would have
 * done had we not listened (unless someone else handles it).
 */
function onSignal(signal: NodeJS.Signals): void {
  for (const kill of live) kill();
  live.clear();
  for (const s of SIGNALS) process.off(s, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
