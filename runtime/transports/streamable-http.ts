/**
 * Streamable HTTP transport (client side): one POST per message. On http: and https: URLs the POSTs go through
 * the lean keep-alive client with a request head serialized once per session state; an abort
 * destroys that exchange's socket (no AbortController per request).
 */
import type { JsonRpcMessage, ResolvedBackend, TransportFactory, Wire, WireHooks } from '../plugins.ts';
import { CredentialsError, withCredentials } from './credentials.ts';
import { messageTooLargeText } from '../limits.ts';
import { deliverText, transportError } from './deliver.ts';
import { forwardedLines, headerLines, leanHeadersOk, ownHeaderNames, postJson, withForwarded } from './http-client.ts';
import { CONNECT_TIMEOUT_MS, leanPoolFor } from './lean-http.ts';
import { httpRequest, readSse } from './node-http.ts';
import { MessageTooLargeError, type SentRequest } from './upstream-response.ts';

/** GET stream re-open backoff: first delay (unless the server sent `retry:`), cap, and how long a stream must stay up to reset it. */
const LISTEN_RETRY_MS = 1000;
const LISTEN_RETRY_CAP_MS = 30_000;
const LISTEN_STABLE_MS = 10_000;

/** A POST in flight; `aborted` also covers an abort that came while credentials were awaited. */
interface Call {
  aborted: boolean;
  sent?: SentRequest;
}

/** Connects to a Streamable HTTP backend; the session is minted by the backend at initialize. */
export const streamableHttpTransport: TransportFactory = async (
  backend: ResolvedBackend,
  hooks: WireHooks,
): Promise<Wire> => {
  const url = new URL(backend.url ?? '');
  const path = url.pathname + url.search;
  /** Bounds a connection attempt (lean pool) and the wait for the GET stream's head. */
  const connectMs = backend.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const pool = leanPoolFor(url, backend.httpsAgent, connectMs);
  const calls = new Map<number, Call>();
  let sessionId: string | undefined;
  let protocolVersion: string | undefined;
  let closed = false;
  let listener: AbortController | undefined;
  /** The GET stream: the last event id seen, the server's `retry:`, failed opens in a row, the re-open timer. */
  let lastEventId: string | undefined;
  let retryMs: number | undefined;
  let listenFailures = 0;
  let listenTimer: NodeJS.Timeout | undefined;
  let listenSupported = true;
  /** Serialized header lines for the lean client; undefined until built, false when it cannot be used. */
  let lines: string | false | undefined;
  /** Header names the config and the gateway set; a client's passthrough header never overrides them. */
  const own = ownHeaderNames(backend.resolvedHeaders);
  const agent = backend.httpsAgent;

  const headers = (): Record<string, string> => {
    const h: Record<string, string> = {
      ...backend.resolvedHeaders,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    if (sessionId) h['mcp-session-id'] = sessionId;
    if (protocolVersion) h['mcp-protocol-version'] = protocolVersion;
    return h;
  };
  const setSession = (sid: string | undefined) => {
    if (sid !== sessionId) lines = undefined;
    sessionId = sid;
  };
  const deliver = (msg: JsonRpcMessage, related?: number) => hooks.onmessage(msg, related);

  /**
   * Starts the POST: per-request headers when credentials apply, else the cached lines. `forward`
   * (passthrough headers of the calling client) is added to this request only.
   */
  const send = (h: Record<string, string> | undefined, data: string, forward?: Record<string, string>): SentRequest => {
    const limit = backend.maxMessageBytes;
    if (h)
      return postJson(url, path, forward ? withForwarded(forward, h, own) : h, data, limit, pool, undefined, agent);
    if (lines === undefined) {
      const all = headers();
      lines = pool && leanHeadersOk(all) ? headerLines(all) : false;
    }
    if (lines === false) {
      const all = headers();
      return postJson(
        url,
        path,
        forward ? withForwarded(forward, all, own) : all,
        data,
        limit,
        undefined,
        undefined,
        agent,
      );
    }
    return postJson(url, path, {}, data, limit, pool, forward ? lines + forwardedLines(forward, own) : lines);
  };

  const post = async (data: string, id?: number, forward?: Record<string, string>) => {
    const call: Call = { aborted: false };
    if (id !== undefined) calls.set(id, call);
    try {
      let h: Record<string, string> | undefined;
      if (backend.outgoing) await withCredentials(backend, (h = headers()));
      if (call.aborted) return;
      call.sent = send(h, data, forward);
      const res = await call.sent.response;
      const sid = res.header('mcp-session-id');
      if (sid !== undefined) setSession(sid);
      const status = res.status;
      if (status === 202) return res.discard();
      if (status === 404 && sessionId) {
        res.discard();
        setSession(undefined);
        if (!closed) hooks.onclose('backend session expired (HTTP 404)');
        return;
      }
      if (status >= 400) {
        if (status === 401) backend.outgoing?.invalidate?.(backend.subject?.current);
        const text = await res.text();
        if (id !== undefined) deliver(transportError(id, `backend answered HTTP ${status}: ${text.slice(0, 200)}`));
        return;
      }
      if ((res.header('content-type') ?? '').includes('text/event-stream')) {
        await res.sse((event, text) => event === 'message' && deliverText(text, hooks, id));
      } else {
        const text = await res.text();
        if (text) deliverText(text, hooks, id);
      }
    } catch (err) {
      if (call.aborted || closed) return;
      let why: string;
      if (err instanceof MessageTooLargeError) {
        why = messageTooLargeText(backend.name, err.limit, err.what);
        hooks.log.warn(
          { limit: err.limit, id },
          `backend sent ${err.what} over the size limit; dropped, exchange reset`,
        );
      } else why = err instanceof CredentialsError ? err.message : `backend unreachable: ${(err as Error).message}`;
      if (id !== undefined) deliver(transportError(id, why));
    } finally {
      if (id !== undefined) calls.delete(id);
    }
  };

  const abort = (call: Call) => {
    call.aborted = true;
    call.sent?.abort();
  };

  // Server-initiated messages (logging, list_changed, requests without a related call) arrive on GET.
  // The stream is optional (405: not offered); when it drops it is re-opened with backoff, resuming
  // after the last event id seen (Last-Event-ID), so backend notifications are not lost for good.
  const listen = async () => {
    if (closed || listener || !listenSupported) return;
    const ctl = (listener = new AbortController());
    let openedAt: number | undefined;
    try {
      const h = headers();
      h.accept = 'text/event-stream';
      delete h['content-type'];
      if (lastEventId) h['last-event-id'] = lastEventId;
      if (backend.outgoing) await withCredentials(backend, h);
      if (closed) return;
      const res = await httpRequest(url, {
        method: 'GET',
        headers: h,
        signal: ctl.signal,
        headTimeoutMs: connectMs,
        agent,
      });
      if (res.statusCode === 405) listenSupported = false;
      if (res.statusCode === 401) backend.outgoing?.invalidate?.(backend.subject?.current);
      if (res.statusCode !== 200) return void res.resume();
      openedAt = performance.now();
      await readSse(
        res,
        (event, text, id) => {
          if (id !== undefined) lastEventId = id;
          if (event === 'message') deliverText(text, hooks);
        },
        { limit: backend.maxMessageBytes, onRetry: (ms) => (retryMs = ms) },
      );
    } catch (err) {
      if (err instanceof MessageTooLargeError && !closed) {
        hooks.log.warn(
          { limit: err.limit },
          `${messageTooLargeText(backend.name, err.limit, err.what)}; GET stream reset`,
        );
      }
      // Otherwise unreachable or refused: tried again below.
    } finally {
      if (listener === ctl) listener = undefined;
      if (!closed && listenSupported)
        scheduleListen(openedAt !== undefined && performance.now() - openedAt >= LISTEN_STABLE_MS);
    }
  };
  /** Exponential backoff with jitter from the server's `retry:` (or 1 s), capped; reset by a stream that stayed up. */
  const scheduleListen = (wasStable: boolean) => {
    listenFailures = wasStable ? 0 : listenFailures + 1;
    const base = Math.min(LISTEN_RETRY_CAP_MS, (retryMs ?? LISTEN_RETRY_MS) * 2 ** Math.min(listenFailures - 1, 16));
    const delay = wasStable ? Math.min(LISTEN_RETRY_CAP_MS, retryMs ?? 0) : base / 2 + Math.random() * (base / 2);
    clearTimeout(listenTimer);
    listenTimer = setTimeout(() => {
      listenTimer = undefined;
      void listen();
    }, delay).unref();
  };

  return {
    send(data, id, forward) {
      void post(data, id, forward);
    },
    abort(id) {
      const call = calls.get(id);
      if (call) abort(call);
      calls.delete(id);
    },
    setProtocolVersion(version) {
      protocolVersion = version;
      lines = undefined;
      void listen();
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(listenTimer);
      listener?.abort();
      for (const call of calls.values()) abort(call);
      calls.clear();
      pool?.close();
      if (!sessionId) return;
      try {
        const h = headers();
        if (backend.outgoing) await withCredentials(backend, h);
        const res = await httpRequest(url, { method: 'DELETE', headers: h, signal: AbortSignal.timeout(1000), agent });
        res.resume();
      } catch {
        // Best effort: the backend expires the session on its own.
      }
    },
  };
};
