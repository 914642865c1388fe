/**
 * stdio transport: spawns the backend as a child process and speaks newline-delimited JSON-RPC.
 *
 * The child leads its own process group (`detached`), so `npx -y server` or a `sh -c` wrapper is
 * stopped together with everything it started: close signals the whole group, and an exit of this
 * process that skips close (process.exit, an uncaught exception) SIGKILLs every live group.
 */
import { messageTooLargeText } from '../limits.ts';
import type { JsonRpcMessage, ResolvedBackend, TransportFactory, Wire, WireHooks } from '../plugins.ts';
import { transportError } from './deliver.ts';
import { LineSplitter } from './line-splitter.ts';
import { ProcessGroups, USE_GROUPS, stopProcessGroup } from './process-groups.ts';
import { startChild, type Child } from './spawner.ts';
import { MESSAGE_WITH_METHOD, RAW_ABOVE_BYTES, rawResponse, upstreamIdOf } from './stdio-framing.ts';

const KILL_GRACE_MS = 2000;

/** Spawns `backend.command` with the merged environment; resolves once the process has spawned. */
export const stdioTransport: TransportFactory = async (backend: ResolvedBackend, hooks: WireHooks): Promise<Wire> => {
  const groups = hooks.processGroups ?? new ProcessGroups();
  let child: Child;
  try {
    child = await startChild(
      {
        command: backend.command ?? '',
        args: backend.args ?? [],
        env: backend.resolvedEnv,
        cwd: backend.cwd,
        detached: USE_GROUPS,
      },
      groups.spawner,
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot start "${backend.command}": ${e.message}${startHint(backend.command ?? '', e)}`);
  }
  const untrack = groups.track(child);
  let closed = false;
  let closing: Promise<void> | undefined;
  const stderrTail: string[] = [];
  const finish = (reason: string) => {
    if (closed) return;
    closed = true;
    hooks.onclose(reason);
  };
  const lines = new LineSplitter(
    backend.maxMessageBytes,
    {
      big(pieces, bytes) {
        // A large answer is relayed as bytes: its id and result are found at its edges, never parsed.
        const msg = rawResponse(pieces, bytes);
        if (!msg) return false;
        hooks.onmessage(msg);
        return true;
      },
      line(text) {
        let msg: JsonRpcMessage;
        try {
          msg = JSON.parse(text);
        } catch {
          hooks.log.warn({ line: text.slice(0, 200) }, 'backend wrote a non-JSON line to stdout; ignored');
          return;
        }
        if (msg !== null && typeof msg === 'object') hooks.onmessage(msg);
      },
      oversize(head, tail, bytes) {
        const id = upstreamIdOf(head, tail);
        const text = messageTooLargeText(backend.name, backend.maxMessageBytes, `a ${bytes}-byte message`);
        hooks.log.warn({ bytes, limit: backend.maxMessageBytes, id }, 'backend message over the size limit; dropped');
        // The stream is back in step at the next newline: fail just the call the message answered.
        // When the message names no call of ours, nothing can be failed precisely: restart the child.
        if (MESSAGE_WITH_METHOD.test(head)) return; // a notification or request of the backend's: dropped
        if (id !== undefined) hooks.onmessage(transportError(id, text));
        else finish(`${text}; restarting the backend`);
      },
    },
    RAW_ABOVE_BYTES,
  );
  child.stdout.on('data', (chunk: Buffer) => lines.push(chunk));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (!line) continue;
      stderrTail.push(line.slice(0, 300));
      if (stderrTail.length > 5) stderrTail.shift();
      hooks.log.debug({ stderr: line.slice(0, 1000) }, 'backend stderr');
    }
  });
  // EPIPE or a reset after the child died is reported by 'exit'.
  for (const s of [child.stdin, child.stdout, child.stderr]) s.on('error', () => {});
  let exited = false;
  const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
    if (exited) return;
    exited = true;
    const tail = stderrTail.length ? `; stderr: ${stderrTail.join(' | ')}` : '';
    finish(`process exited (${signal ? `signal ${signal}` : `code ${code}`})${tail}`);
  };
  child.on('exit', onExit);
  // It may have exited between starting and these listeners.
  if (child.exitCode !== null || child.signalCode !== null)
    queueMicrotask(() => onExit(child.exitCode, child.signalCode));
  return {
    pid: child.pid,
    send(data) {
      if (!closed) child.stdin.write(`${data}\n`);
    },
    // Also called after the child exited on its own: its grandchildren may still run.
    close: () => (closing ??= stopProcessGroup(child, KILL_GRACE_MS).finally(untrack)),
  };
};

/** What to install when a backend's command is missing (the rest of the error names the command). */
const INSTALL: Record<string, string> = {
  npx: 'npx comes with Node.js (npm)',
  node: 'install Node.js',
  uvx: 'uvx comes with uv (pip install uv)',
  uv: 'pip install uv',
  docker: 'install Docker',
  python: 'install Python 3',
  python3: 'install Python 3',
  deno: 'install Deno',
  bunx: 'bunx comes with Bun',
};

/** The next step after a spawn error: for a missing command, what to install or where to point. */
export function startHint(command: string, err: NodeJS.ErrnoException): string {
  if (err.code !== 'ENOENT') return '';
  const base = command.split(/[\\/]/).pop() ?? command;
  const how = INSTALL[base];
  return `; "${command}" is not installed or not on PATH: ${how ? `${how}, or ` : 'install it, or '}give its full path in the backend's command`;
}
