/** Legacy HTTP+SSE transport (client side): GET opens the event stream, POSTs go to its endpoint. */
import type { ResolvedBackend, TransportFactory, Wire, WireHooks } from '../plugins.ts';
import { CredentialsError, withCredentials } from './credentials.ts';
import { messageTooLargeText } from '../limits.ts';
import { deliverText, transportError } from './deliver.ts';
import { ownHeaderNames, postJson, withForwarded } from './http-client.ts';
import { CONNECT_TIMEOUT_MS, leanPoolFor } from './lean-http.ts';
import { httpRequest, readSse } from './node-http.ts';
import { MessageTooLargeError, type SentRequest } from './upstream-response.ts';

/** A POST in flight; `aborted` also covers an abort that came while credentials were awaited. */
interface Call {
  aborted: boolean;
  sent?: SentRequest;
}

/** Connects to an SSE backend; resolves once the server has announced its POST endpoint. */
export const sseTransport: TransportFactory = async (backend: ResolvedBackend, hooks: WireHooks): Promise<Wire> => {
  const url = new URL(backend.url ?? '');
  /** Bounds the wait for the stream's head, then for its endpoint event. */
  const connectMs = backend.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const stream = new AbortController();
  const calls = new Map<number, Call>();
  let closed = false;
  const streamHeaders: Record<string, string> = { ...backend.resolvedHeaders, accept: 'text/event-stream' };
  if (backend.outgoing) await withCredentials(backend, streamHeaders);
  // A server that accepts the connection and never answers must not hold the connect forever.
  const res = await httpRequest(url, {
    method: 'GET',
    headers: streamHeaders,
    signal: stream.signal,
    headTimeoutMs: connectMs,
    agent: backend.httpsAgent,
  });
  if (res.statusCode !== 200) {
    if (res.statusCode === 401) backend.outgoing?.invalidate?.(backend.subject?.current);
    res.resume();
    stream.abort();
    throw new Error(`SSE endpoint answered HTTP ${res.statusCode}`);
  }
  let connected = false;
  const endpoint = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no endpoint event on the SSE stream within ${connectMs} ms`)),
      connectMs,
    ).unref();
    const onEvent = (event: string, data: string) => {
      if (event === 'endpoint') {
        if (connected) return; // announced once; a later one cannot move the session
        clearTimeout(timer);
        let offered: URL;
        try {
          offered = new URL(data, url);
        } catch {
          return reject(new Error(`SSE endpoint event is not a URL: ${JSON.stringify(data.slice(0, 200))}`));
        }
        // Like the MCP SDK's SSEClientTransport: POSTs (and their credentials) stay on the stream's origin.
        if (offered.origin !== url.origin) {
          return reject(
            new Error(
              `vmcp: backend "${backend.name}": the SSE stream at ${url.origin}${url.pathname} offered the endpoint ${offered.origin}${offered.pathname}, on another origin; refused`,
            ),
          );
        }
        connected = true;
        resolve(offered);
      } else if (event === 'message') deliverText(data, hooks);
    };
    readSse(res, onEvent, { limit: backend.maxMessageBytes }).then(
      () => {
        clearTimeout(timer);
        reject(new Error('SSE stream ended before the endpoint event'));
        if (!closed && connected) hooks.onclose('SSE stream closed');
      },
      (err: MessageTooLargeError) => {
        clearTimeout(timer);
        const text = messageTooLargeText(backend.name, err.limit, err.what);
        reject(new Error(text));
        if (closed || !connected) return;
        hooks.log.warn({ limit: err.limit }, `${text}; SSE stream reset`);
        hooks.onclose(`${text}; SSE stream reset`);
      },
    );
  }).catch((err: Error) => {
    stream.abort(); // nothing may stay open behind a failed connect
    throw err;
  });
  // POSTs only carry messages (answers come on the stream): a lean keep-alive client.
  const pool = leanPoolFor(endpoint, backend.httpsAgent, connectMs);
  const path = endpoint.pathname + endpoint.search;
  /** Header names the config and the gateway set; a client's passthrough header never overrides them. */
  const own = ownHeaderNames(backend.resolvedHeaders);
  const post = async (data: string, id?: number, forward?: Record<string, string>) => {
    const call: Call = { aborted: false };
    if (id !== undefined) calls.set(id, call);
    try {
      const h: Record<string, string> = { ...backend.resolvedHeaders, 'content-type': 'application/json' };
      if (backend.outgoing) await withCredentials(backend, h);
      if (call.aborted) return;
      const all = forward ? withForwarded(forward, h, own) : h;
      call.sent = postJson(endpoint, path, all, data, backend.maxMessageBytes, pool, undefined, backend.httpsAgent);
      const r = await call.sent.response;
      const text = await r.text();
      if (r.status === 401) backend.outgoing?.invalidate?.(backend.subject?.current);
      if (r.status >= 400 && id !== undefined)
        hooks.onmessage(transportError(id, `backend answered HTTP ${r.status}: ${text.slice(0, 200)}`));
    } catch (err) {
      let why: string;
      if (err instanceof MessageTooLargeError) why = messageTooLargeText(backend.name, err.limit, err.what);
      else why = err instanceof CredentialsError ? err.message : `backend unreachable: ${(err as Error).message}`;
      if (!call.aborted && !closed && id !== undefined) hooks.onmessage(transportError(id, why));
    } finally {
      if (id !== undefined) calls.delete(id);
    }
  };
  const abort = (call: Call) => {
    call.aborted = true;
    call.sent?.abort();
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
    async close() {
      closed = true;
      for (const call of calls.values()) abort(call);
      calls.clear();
      pool?.close();
      stream.abort();
    },
  };
};
