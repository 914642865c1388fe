/**
 * stdio transport: spawns the backend as a child process and speaks newline-delimited JSON-RPC.
 *
 * The child leads its own process group (`detached`), so `npx -y server` or a `sh -c` wrapper is
 * stopped together with everything it started: close signals the whole group, and an exit of this
 * process that skips close (process.exit, an uncaught exception) SIGKILLs every live group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { messageTooLargeText } from '../limits.ts';
import { RawJson } from '../raw-json.ts';
import type { JsonRpcMessage, ResolvedBackend, TransportFactory, Wire, WireHooks } from '../plugins.ts';
import { transportError } from './deliver.ts';
import { LineSplitter } from './line-splitter.ts';

const KILL_GRACE_MS = 2000;
/** Windows has no process groups to signal; there the direct child is killed as before. */
const USE_GROUPS = process.platform !== 'win32';
/** Answers longer than this are relayed as bytes (RawJson) instead of being parsed and re-serialized. */
export const RAW_ABOVE_BYTES = 256 * 1024;
const EDGE = 256;
/** `{"result":` at the start, with the id at the end (`,"jsonrpc":"2.0","id":7}` as the MCP SDK writes it). */
const RESULT_FIRST = /^\s*\{\s*"result"\s*:\s*/;
const ID_LAST = /\s*,\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(\d+)|"id"\s*:\s*(\d+)\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0")?)\s*\}\s*$/;
/** The id first (`{"jsonrpc":"2.0","id":7,"result":`), the result last. */
const ID_FIRST = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(\d+)|"id"\s*:\s*(\d+)\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0")?)\s*,\s*"result"\s*:\s*/;
const RESULT_LAST = /\s*\}\s*$/;

/**
 * Where the result object of a response lies in its bytes, and the response's id, read from the
 * first and last bytes only. Undefined unless the message is shaped like a response whose
 * top-level keys are exactly result, id and jsonrpc, with an object result: then the caller parses.
 */
export function resultSpanOf(pieces: Buffer[], bytes: number): { id: number; start: number; end: number } | undefined {
  const head = pieces[0].toString('latin1', 0, Math.min(EDGE, pieces[0].length));
  const last = pieces[pieces.length - 1];
  const tailBuf = last.length >= EDGE || pieces.length === 1 ? last.subarray(Math.max(0, last.length - EDGE)) : Buffer.concat(pieces.slice(-2)).subarray(-EDGE);
  const tail = tailBuf.toString('latin1');
  let m = RESULT_FIRST.exec(head);
  let t = m && ID_LAST.exec(tail);
  let id: string | undefined;
  if (m && t) id = t[1] ?? t[2];
  else {
    m = ID_FIRST.exec(head);
    t = m && RESULT_LAST.exec(tail);
    if (m && t) id = m[1] ?? m[2];
  }
  if (!m || !t || id === undefined) return undefined;
  const start = m[0].length;
  const end = bytes - t[0].length;
  // The result must be one object: `{` first and `}` last (the edges are ASCII, so chars are bytes).
  if (head.charCodeAt(start) !== 0x7b || tail.charCodeAt(tail.length - t[0].length - 1) !== 0x7d || end <= start) return undefined;
  return { id: Number(id), start, end };
}

/** Bytes [start, end) of the concatenation of `pieces`, without copying them. */
export function sliceParts(pieces: Buffer[], start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (const p of pieces) {
    const from = Math.max(start - offset, 0);
    const to = Math.min(end - offset, p.length);
    if (to > from) out.push(from === 0 && to === p.length ? p : p.subarray(from, to));
    offset += p.length;
    if (offset >= end) break;
  }
  return out;
}

/** A message whose first key is `method` (or `jsonrpc` then `method`): not an answer to one of our calls. */
const MESSAGE_WITH_METHOD = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"method"/;
/** Between checks for members still running after the child exited (each check may scan /proc). */
const GROUP_POLL_MS = 50;

/** Spawns `backend.command` with the merged environment; resolves once the process has spawned. */
export const stdioTransport: TransportFactory = (backend: ResolvedBackend, hooks: WireHooks): Promise<Wire> =>
  new Promise((resolve, reject) => {
    const child = spawn(backend.command ?? '', backend.args ?? [], {
      env: backend.resolvedEnv,
      cwd: backend.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: USE_GROUPS,
      windowsHide: true,
    });
    const untrack = trackProcessGroup(child);
    let closed = false;
    let exited = false;
    let closing: Promise<void> | undefined;
    const stderrTail: string[] = [];
    const finish = (reason: string) => {
      if (closed) return;
      closed = true;
      hooks.onclose(reason);
    };
    const lines = new LineSplitter(backend.maxMessageBytes, {
      big(pieces, bytes) {
        // A large answer is relayed as bytes: its id and result are found at its edges, never parsed.
        const span = resultSpanOf(pieces, bytes);
        if (!span) return false;
        hooks.onmessage({ jsonrpc: '2.0', id: span.id, result: new RawJson(sliceParts(pieces, span.start, span.end)) });
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
    }, RAW_ABOVE_BYTES);
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
    child.stdin.on('error', () => {}); // EPIPE after the child died is reported by 'exit'
    child.on('error', (err) => {
      if (!exited) {
        exited = true;
        untrack();
        reject(new Error(`cannot start "${backend.command}": ${err.message}`));
      }
      finish(`spawn failed: ${err.message}`);
    });
    child.on('exit', (code, signal) => {
      exited = true;
      const tail = stderrTail.length ? `; stderr: ${stderrTail.join(' | ')}` : '';
      finish(`process exited (${signal ? `signal ${signal}` : `code ${code}`})${tail}`);
    });
    child.on('spawn', () => {
      const wire: Wire = {
        pid: child.pid,
        send(data) {
          if (!closed) child.stdin.write(`${data}\n`);
        },
        // Also called after the child exited on its own: its grandchildren may still run.
        close: () => (closing ??= stopProcessGroup(child, KILL_GRACE_MS).finally(untrack)),
      };
      resolve(wire);
    });
  });

/**
 * The id of the upstream request an oversized response answers, read from its edges only: the
 * top-level id comes first (`{"jsonrpc":"2.0","id":7,…`, `{"id":7,…`) or last (`…,"id":7}`, as
 * the MCP SDK writes responses). Anything else (an id nested inside the result) is not trusted.
 */
export function upstreamIdOf(head: string, tail: string): number | undefined {
  const first = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(\d+)\s*,/.exec(head);
  const last = /[,{]\s*"id"\s*:\s*(\d+)\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0"\s*)?\}\s*$/.exec(tail);
  const m = first ?? last;
  return m ? Number(m[1]) : undefined;
}

/** Process groups of children whose close has not finished; SIGKILLed if this process exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

/**
 * Remembers a detached child's process group until the returned function is called, so that an
 * exit of this process that skips close still kills it (a synchronous SIGKILL from an 'exit' hook;
 * SIGKILL of this process itself cannot be hooked).
 */
export function trackProcessGroup(child: ChildProcess): () => void {
  const pgid = child.pid;
  if (!USE_GROUPS || pgid === undefined) return () => {};
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const g of liveGroups) signalGroup(g, 'SIGKILL');
    });
  }
  liveGroups.add(pgid);
  // Forget an emptied group at once: its id may be reused by an unrelated group later.
  child.once('exit', () => signalGroup(pgid, 0) || liveGroups.delete(pgid));
  return () => liveGroups.delete(pgid);
}

/**
 * Stops a child spawned with `detached: true` and everything it started: ends stdin, SIGTERMs the
 * group, waits up to `graceMs` for every member to exit, then SIGKILLs the group. Resolves when the
 * group is gone (or SIGKILL was sent), with our ends of the child's pipes closed so that a member
 * that escaped the group cannot keep this process alive. Never throws.
 */
export async function stopProcessGroup(child: ChildProcess, graceMs: number): Promise<void> {
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
