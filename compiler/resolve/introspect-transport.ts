/**
 * Opens the upstream transport for one introspection and owns its clean-up: a bounded stderr
 * tail, the child's exit status, the raw initialize result, and a close that never leaves an orphan.
 */
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { IntrospectTarget } from './introspect.ts';
import { GroupStdioTransport } from './introspect-stdio.ts';
import { caAgent } from '../../runtime/ca-bundle.ts';
import { caFetch } from '../../runtime/auth/in/ca-fetch.ts';

const STDERR_MAX_LINES = 20;
const STDERR_MAX_BYTES = 4096;
/** How long a stdio server's process group gets after SIGTERM before SIGKILL. */
const CLOSE_GRACE_MS = 1000;

/** How a stdio child ended. */
export interface ChildExit {
  code: number | null;
  signal: string | null;
}

/** The raw `initialize` result, captured before the SDK's schemas strip unknown fields. */
export interface RawInitialize {
  protocolVersion?: string;
  capabilities?: Record<string, unknown>;
  serverInfo?: Record<string, unknown>;
  instructions?: string;
}

/** One open upstream transport and what we observed about it. */
export interface UpstreamConnection {
  transport: Transport;
  /** Resolves when the transport closes (the child exited, or the stream ended). */
  closed: Promise<void>;
  stderrTail(): string[];
  childExit(): ChildExit | undefined;
  rawInitialize(): RawInitialize | undefined;
  /** The protocol version the HTTP transport negotiated, if it records one. */
  transportProtocolVersion(): string | undefined;
  /** Closes the transport and makes sure a stdio child is gone. Never throws. */
  dispose(close: () => Promise<void>): Promise<void>;
}

/** Builds (without starting) the SDK client transport for a target. */
export function openUpstream(t: IntrospectTarget): UpstreamConnection {
  const tail = new StderrTail();
  let raw: RawInitialize | undefined;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  let transport: Transport;
  let stdio: GroupStdioTransport | undefined;
  if (t.transport === 'stdio') {
    stdio = new GroupStdioTransport({
      command: t.command ?? '',
      args: t.args ?? [],
      // The child gets exactly this environment, so keep PATH, HOME and friends.
      env: { ...getDefaultEnvironment(), ...t.env },
      cwd: t.cwd,
      graceMs: CLOSE_GRACE_MS,
    });
    stdio.stderr.on('data', (chunk: Buffer) => tail.push(chunk));
    transport = stdio;
  } else {
    const url = new URL(t.url ?? '');
    const requestInit: RequestInit = { headers: t.headers ?? {} };
    // A private CA (caBundlePath) is trusted for this connection only.
    const fetch = t.caBundlePath
      ? (caFetch(caAgent(t.caBundlePath, `backend "${t.name}"`)) as typeof globalThis.fetch)
      : undefined;
    transport =
      t.transport === 'sse'
        ? new SSEClientTransport(url, { requestInit, ...(fetch ? { fetch } : {}) })
        : new StreamableHTTPClientTransport(url, { requestInit, ...(fetch ? { fetch } : {}) });
  }

  // Protocol.connect chains callbacks that are already set, so these observe every message.
  transport.onclose = () => markClosed();
  transport.onmessage = (msg) => {
    const result = (msg as { result?: Record<string, unknown> }).result;
    if (!raw && result && typeof result.protocolVersion === 'string' && isRecord(result.capabilities)) {
      raw = {
        protocolVersion: result.protocolVersion,
        capabilities: result.capabilities,
        serverInfo: isRecord(result.serverInfo) ? result.serverInfo : undefined,
        instructions: typeof result.instructions === 'string' ? result.instructions : undefined,
      };
    }
  };

  return {
    transport,
    closed,
    stderrTail: () => tail.lines(),
    childExit: () => {
      const child = stdio?.process;
      return child && (child.exitCode !== null || child.signalCode !== null)
        ? { code: child.exitCode, signal: child.signalCode }
        : undefined;
    },
    rawInitialize: () => raw,
    transportProtocolVersion: () => (transport as { protocolVersion?: string }).protocolVersion,
    dispose: async (close) => {
      if (transport instanceof StreamableHTTPClientTransport) {
        // Free the server's session; a server may answer 405, and a dead one not at all.
        await withinMs(
          transport.terminateSession().catch(() => {}),
          CLOSE_GRACE_MS,
        );
      }
      await withinMs(
        close().catch(() => {}),
        CLOSE_GRACE_MS,
      );
      // Idempotent, and also right when the client never got to close it (a failed connect):
      // ends stdin, SIGTERMs the server's process group (a wrapper such as `npx` and everything
      // it started), SIGKILLs it after the grace period, and resolves once it is gone.
      await stdio?.close();
    },
  };
}

/** Waits for `p`, but no longer than `ms`. */
export function withinMs(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void p.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keeps the last lines of a stream, bounded in lines and bytes, so a chatty server costs little. */
class StderrTail {
  private kept: string[] = [];
  private partial = '';

  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    if (this.partial.length > STDERR_MAX_BYTES) this.partial = this.partial.slice(-STDERR_MAX_BYTES);
    for (const line of parts) if (line.trim()) this.kept.push(line);
    if (this.kept.length > STDERR_MAX_LINES) this.kept = this.kept.slice(-STDERR_MAX_LINES);
  }

  lines(): string[] {
    const all = this.partial.trim() ? [...this.kept, this.partial] : [...this.kept];
    const out: string[] = [];
    let bytes = 0;
    // Newest lines matter most (the fatal error is usually last), so fill the budget from the end.
    for (let i = all.length - 1; i >= 0 && out.length < STDERR_MAX_LINES; i--) {
      const line = all[i].length > 500 ? `${all[i].slice(0, 500)}…` : all[i];
      bytes += Buffer.byteLength(line) + 1;
      if (bytes > STDERR_MAX_BYTES) break;
      out.unshift(line);
    }
    return out;
  }
}
