/** Legacy HTTP+SSE transport (client side): GET opens the event stream, POSTs go to its endpoint. */
import type { ResolvedBackend, TransportFactory, Wire, WireHooks } from '../plugins.ts';
import { CredentialsError, withCredentials } from './credentials.ts';
import { deliverText, transportError } from './deliver.ts';
import { LeanHttpPool, httpRequest, postJson, readSse, type SentRequest } from './http-client.ts';

const ENDPOINT_TIMEOUT_MS = 10_000;

/** A POST in flight; `aborted` also covers an abort that came while credentials were awaited. */
interface Call {
  aborted: boolean;
  sent?: SentRequest;
}

/** Connects to an SSE backend; resolves once the server has announced its POST endpoint. */
export const sseTransport: TransportFactory = async (backend: ResolvedBackend, hooks: WireHooks): Promise<Wire> => {
  const url = new URL(backend.url ?? '');
  const stream = new AbortController();
  const calls = new Map<number, Call>();
  let closed = false;
  const streamHeaders: Record<string, string> = { ...backend.resolvedHeaders, accept: 'text/event-stream' };
  if (backend.outgoing) await withCredentials(backend, streamHeaders);
  const res = await httpRequest(url, {
    method: 'GET',
    headers: streamHeaders,
    signal: stream.signal,
  });
  if (res.statusCode !== 200) {
    if (res.statusCode === 401) backend.outgoing?.invalidate?.(backend.subject?.current);
    res.resume();
    stream.abort();
    throw new Error(`SSE endpoint answered HTTP ${res.statusCode}`);
  }
  const endpoint = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no endpoint event on the SSE stream')), ENDPOINT_TIMEOUT_MS);
    void readSse(res, (event, data) => {
      if (event === 'endpoint') {
        clearTimeout(timer);
        resolve(new URL(data, url));
      } else if (event === 'message') deliverText(data, hooks);
    }).then(() => {
      clearTimeout(timer);
      reject(new Error('SSE stream ended before the endpoint event'));
      if (!closed) hooks.onclose('SSE stream closed');
    });
  });
  // POSTs only carry messages (answers come on the stream): a lean keep-alive client on http:.
  const pool = endpoint.protocol === 'http:' ? new LeanHttpPool(endpoint) : undefined;
  const path = endpoint.pathname + endpoint.search;
  const post = async (data: string, id?: number) => {
    const call: Call = { aborted: false };
    if (id !== undefined) calls.set(id, call);
    try {
      const h: Record<string, string> = { ...backend.resolvedHeaders, 'content-type': 'application/json' };
      if (backend.outgoing) await withCredentials(backend, h);
      if (call.aborted) return;
      call.sent = postJson(endpoint, path, h, data, pool);
      const r = await call.sent.response;
      const text = await r.text();
      if (r.status === 401) backend.outgoing?.invalidate?.(backend.subject?.current);
      if (r.status >= 400 && id !== undefined) hooks.onmessage(transportError(id, `backend answered HTTP ${r.status}: ${text.slice(0, 200)}`));
    } catch (err) {
      const why = err instanceof CredentialsError ? err.message : `backend unreachable: ${(err as Error).message}`;
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
    send(data, id) {
      void post(data, id);
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
