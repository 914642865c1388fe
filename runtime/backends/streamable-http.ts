/**
 * Streamable HTTP transport (client side): one POST per message. On http: URLs the POSTs go through
 * the lean keep-alive client with a request head serialized once per session state; an abort
 * destroys that exchange's socket (no AbortController per request).
 */
import type { JsonRpcMessage, ResolvedBackend, TransportFactory, Wire, WireHooks } from '../plugins.ts';
import { CredentialsError, withCredentials } from './credentials.ts';
import { deliverText, transportError } from './deliver.ts';
import { LeanHttpPool, headerLines, httpRequest, leanHeadersOk, postJson, readSse, type SentRequest } from './http-client.ts';

/** A POST in flight; `aborted` also covers an abort that came while credentials were awaited. */
interface Call {
  aborted: boolean;
  sent?: SentRequest;
}

/** Connects to a Streamable HTTP backend; the session is minted by the backend at initialize. */
export const streamableHttpTransport: TransportFactory = async (backend: ResolvedBackend, hooks: WireHooks): Promise<Wire> => {
  const url = new URL(backend.url ?? '');
  const path = url.pathname + url.search;
  const pool = url.protocol === 'http:' ? new LeanHttpPool(url) : undefined;
  const calls = new Map<number, Call>();
  let sessionId: string | undefined;
  let protocolVersion: string | undefined;
  let closed = false;
  let listener: AbortController | undefined;
  /** Serialized header lines for the lean client; undefined until built, false when it cannot be used. */
  let lines: string | false | undefined;

  const headers = (): Record<string, string> => {
    const h: Record<string, string> = { ...backend.resolvedHeaders, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (sessionId) h['mcp-session-id'] = sessionId;
    if (protocolVersion) h['mcp-protocol-version'] = protocolVersion;
    return h;
  };
  const setSession = (sid: string | undefined) => {
    if (sid !== sessionId) lines = undefined;
    sessionId = sid;
  };
  const deliver = (msg: JsonRpcMessage, related?: number) => hooks.onmessage(msg, related);

  /** Starts the POST: per-request headers when credentials apply, else the cached lines. */
  const send = (h: Record<string, string> | undefined, data: string): SentRequest => {
    if (h) return postJson(url, path, h, data, pool);
    if (lines === undefined) {
      const all = headers();
      lines = pool && leanHeadersOk(all) ? headerLines(all) : false;
    }
    return lines === false ? postJson(url, path, headers(), data) : postJson(url, path, {}, data, pool, lines);
  };

  const post = async (data: string, id?: number) => {
    const call: Call = { aborted: false };
    if (id !== undefined) calls.set(id, call);
    try {
      let h: Record<string, string> | undefined;
      if (backend.outgoing) await withCredentials(backend, (h = headers()));
      if (call.aborted) return;
      call.sent = send(h, data);
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
      const why = err instanceof CredentialsError ? err.message : `backend unreachable: ${(err as Error).message}`;
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
  const listen = async () => {
    if (closed || listener) return;
    listener = new AbortController();
    try {
      const h = headers();
      h.accept = 'text/event-stream';
      delete h['content-type'];
      if (backend.outgoing) await withCredentials(backend, h);
      const res = await httpRequest(url, { method: 'GET', headers: h, signal: listener.signal });
      if (res.statusCode !== 200) return void res.resume();
      await readSse(res, (event, text) => event === 'message' && deliverText(text, hooks));
    } catch {
      // The GET stream is optional (405 or unsupported); calls work without it.
    } finally {
      listener = undefined;
    }
  };

  return {
    send(data, id) {
      void post(data, id);
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
      listener?.abort();
      for (const call of calls.values()) abort(call);
      calls.clear();
      pool?.close();
      if (!sessionId) return;
      try {
        const h = headers();
        if (backend.outgoing) await withCredentials(backend, h);
        const res = await httpRequest(url, { method: 'DELETE', headers: h, signal: AbortSignal.timeout(1000) });
        res.resume();
      } catch {
        // Best effort: the backend expires the session on its own.
      }
    },
  };
};
