/**
 * Introspection: connect to each backend once with the real SDK client, and record what it offers
 * (server info, protocol version, capabilities, instructions and every catalog item) as a lock entry.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { compareStrings } from '../../runtime/canonical.ts';
import type { BackendEndpoint } from '../../runtime/compiled-gateway.ts';
import { diagnostic, type Diagnostic } from '../diagnostics.ts';
import {
  CATALOG_KINDS,
  hashBackend,
  type BackendIdentity,
  type CatalogKind,
  type LockedBackend,
  type LockedItem,
} from '../lock.ts';
import { listKind, listMethod } from './introspect-lists.ts';
import { openUpstream, withinMs, type ChildExit, type UpstreamConnection } from './introspect-transport.ts';

/** One backend to introspect; env and header values are resolved and may be secrets. */
export interface IntrospectTarget extends BackendEndpoint {
  /** What goes in the lock (never resolved secrets). */
  identity: BackendIdentity;
  /** Budget for connect plus every list, in milliseconds. */
  timeoutMs: number;
}

/** What one introspection found: a lock entry when the backend answered, and its diagnostics. */
export interface IntrospectResult {
  name: string;
  backend?: LockedBackend;
  diagnostics: Diagnostic[];
  ms: number;
}

/** Item counts per catalog kind, for progress output. */
export type CatalogCounts = Record<CatalogKind, number>;

/** A progress event from `introspectAll`. */
export interface IntrospectProgress {
  name: string;
  phase: 'start' | 'done' | 'failed';
  ms?: number;
  counts?: CatalogCounts;
}

/** The capability that gates each catalog kind. */
const CAPABILITY: Record<CatalogKind, string> = {
  tools: 'tools',
  prompts: 'prompts',
  resources: 'resources',
  resourceTemplates: 'resources',
};

/**
 * What the gateway declares in its upstream `initialize` (runtime/backend/supervisor.ts). Some servers
 * list more tools to a client that can take sampling, elicitation or roots requests (server-everything
 * adds get-roots-list, trigger-elicitation-request and trigger-sampling-request), so introspection
 * must declare the same to lock the catalog the gateway will see, or every start reports drift. No
 * handler is needed: nothing is called here, and a request the server sends anyway
 * (server-everything asks for roots) gets "method not found".
 */
const CLIENT_CAPABILITIES = { sampling: {}, elicitation: {}, roots: { listChanged: true } };

/** Why a run stopped early; carried as an abort reason so pending requests reject at once. */
class Stop extends Error {}
/** The backend closed the connection (for stdio: the child exited) while we were waiting. */
class PeerClosed extends Stop {}

/** Introspects one backend; never throws, failures are BACKEND_UNREACHABLE diagnostics. */
export async function introspectBackend(t: IntrospectTarget, signal?: AbortSignal): Promise<IntrospectResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const diagnostics: Diagnostic[] = [];
  const abort = new AbortController();
  const stopped = new Promise<never>((_, reject) => {
    abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
  });
  stopped.catch(() => {});
  const timer = setTimeout(() => abort.abort(new Stop(`timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
  const onCancel = () => abort.abort(new Stop('introspection was cancelled'));
  if (signal?.aborted) onCancel();
  signal?.addEventListener('abort', onCancel, { once: true });

  let phase = 'start';
  let result: IntrospectResult;
  let upstream: UpstreamConnection | undefined;
  const client = new Client({ name: 'vmcp-introspect', version: '0.1.0' }, { capabilities: CLIENT_CAPABILITIES });
  try {
    upstream = openUpstream(t);
    const conn = upstream;
    // A child that dies mid-request would otherwise leave us waiting for the timeout.
    const died = conn.closed.then(() => {
      throw new PeerClosed('closed the connection');
    });
    died.catch(() => {});
    const step = <T>(p: Promise<T>) => Promise.race([p, stopped, died]);
    // The SDK's own per-request timeout is only a backstop: our deadline fires first and says so.
    const options = () => ({ signal: abort.signal, timeout: t.timeoutMs + 1000 });

    phase = 'initialize';
    await step(client.connect(conn.transport, options()));
    const raw = conn.rawInitialize();
    const capabilities =
      raw?.capabilities ?? (client.getServerCapabilities() as Record<string, unknown> | undefined) ?? {};
    const lists = {} as Record<CatalogKind, Record<string, LockedItem>>;
    for (const kind of CATALOG_KINDS) {
      lists[kind] = {};
      if (!capabilities[CAPABILITY[kind]]) continue;
      phase = listMethod(kind);
      try {
        const got = await step(listKind(client, t.name, kind, options()));
        lists[kind] = got.items;
        diagnostics.push(...got.diagnostics);
      } catch (err) {
        // Servers that predate resource templates advertise resources without this method.
        if (kind === 'resourceTemplates' && err instanceof McpError && err.code === ErrorCode.MethodNotFound) continue;
        throw err;
      }
    }
    const unhashed: Omit<LockedBackend, 'hash'> = {
      identity: t.identity,
      status: 'ok',
      serverInfo: raw?.serverInfo ?? (client.getServerVersion() as Record<string, unknown> | undefined),
      protocolVersion: raw?.protocolVersion ?? conn.transportProtocolVersion(),
      capabilities,
      instructions: raw?.instructions ?? client.getInstructions(),
      ...lists,
    };
    result = { name: t.name, backend: { ...unhashed, hash: hashBackend(unhashed) }, diagnostics, ms: 0 };
  } catch (err) {
    // A failure of our own making (timeout, cancel) is the cause even if the child then exits.
    // Otherwise let the child's exit status and last stderr lines arrive before describing it.
    const ours = err instanceof Stop && !(err instanceof PeerClosed);
    if (upstream && !ours && t.transport === 'stdio') await withinMs(upstream.closed, 100);
    const exit = ours ? undefined : upstream?.childExit();
    diagnostics.push(unreachable(t, phase, err, exit, upstream?.stderrTail() ?? []));
    result = { name: t.name, diagnostics, ms: 0 };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCancel);
    if (!abort.signal.aborted) abort.abort(new Stop('done'));
    if (upstream) await upstream.dispose(() => client.close());
  }
  // Wall time includes tearing the backend down: that is what the user waits for.
  return { ...result, diagnostics: result.diagnostics.map((d) => redact(d, t)), ms: elapsed() };
}

/** Introspects many backends with bounded concurrency; results are sorted by backend name. */
export async function introspectAll(
  targets: IntrospectTarget[],
  opts: { concurrency?: number; onProgress?: (e: IntrospectProgress) => void } = {},
): Promise<IntrospectResult[]> {
  const results: IntrospectResult[] = [];
  const queue = [...targets];
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      opts.onProgress?.({ name: t.name, phase: 'start' });
      const r = await introspectBackend(t);
      results.push(r);
      if (r.backend) {
        const counts = Object.fromEntries(
          CATALOG_KINDS.map((k) => [k, Object.keys(r.backend![k]).length]),
        ) as CatalogCounts;
        opts.onProgress?.({ name: t.name, phase: 'done', ms: r.ms, counts });
      } else {
        opts.onProgress?.({ name: t.name, phase: 'failed', ms: r.ms });
      }
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 4, targets.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results.sort((a, b) => compareStrings(a.name, b.name));
}

/** One BACKEND_UNREACHABLE error that names the backend and the cause, never a secret. */
function unreachable(
  t: IntrospectTarget,
  phase: string,
  err: unknown,
  exit: ChildExit | undefined,
  stderr: string[],
): Diagnostic {
  const during = phase === 'initialize' || phase === 'start' ? 'before initialize' : `during ${phase}`;
  let cause: string;
  if (exit) {
    cause = exit.code !== null ? `exited with code ${exit.code} ${during}` : `was killed by ${exit.signal} ${during}`;
  } else if (err instanceof Stop) {
    cause = `${err.message} ${during}`;
  } else {
    cause = `failed ${during}: ${describeError(err)}`;
  }
  const hints: string[] = [];
  if (stderr.length) hints.push(`last stderr lines:\n${stderr.map((l) => `  | ${l}`).join('\n')}`);
  if (t.transport === 'stdio' && exit === undefined && /ENOENT/.test(cause))
    hints.push(`is "${t.command}" installed and on PATH?`);
  if (cause.startsWith('timed out'))
    hints.push('check that the server starts on its own, or raise the backend timeout');
  return diagnostic(
    'BACKEND_UNREACHABLE',
    `backend "${t.name}" ${cause}`,
    hints.length ? { hint: hints.join('\n') } : {},
  );
}

/** A one-line cause; fetch failures hide the useful part (e.g. ECONNREFUSED) in `cause`. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const inner = (err as { cause?: { code?: string; message?: string } }).cause;
  const extra = inner?.code ?? inner?.message;
  const msg = err.message.split('\n')[0];
  return extra && !msg.includes(extra) ? `${msg} (${extra})` : msg;
}

/**
 * Removes resolved env and header values from a diagnostic: a server may echo its API key on
 * stderr, and an error may quote a header. Very short values ("1", "true") are not secrets and
 * would mangle every message.
 */
function redact(d: Diagnostic, t: IntrospectTarget): Diagnostic {
  // A header like "Bearer <token>" may be quoted whole or as its token alone.
  const headerParts = Object.values(t.headers ?? {}).flatMap((v) => [
    v,
    ...v.split(/\s+/).filter((p) => p.length >= 8),
  ]);
  const secrets = [...Object.values(t.env ?? {}), ...headerParts]
    .filter((v) => v.length >= 6)
    .sort((a, b) => b.length - a.length);
  const scrub = (text: string) => secrets.reduce((out, s) => out.split(s).join('***'), text);
  return { ...d, message: scrub(d.message), ...(d.hint === undefined ? {} : { hint: scrub(d.hint) }) };
}
