/** Legacy HTTP+SSE transport (client side): GET opens the event stream, POSTs go to its endpoint. */
import type { ResolvedBackend, TransportFactory, Wire, WireHooks } from '../plugins.ts';
import { CredentialsError, withCredentials } from './credentials.ts';
import { deliverText, transportError } from './deliver.ts';
import { httpRequest, readBody, readSse } from './http-client.ts';

const ENDPOINT_TIMEOUT_MS = 10_000;

/** Connects to an SSE backend; resolves once the server has announced its POST endpoint. */
export const sseTransport: TransportFactory = async (backend: ResolvedBackend, hooks: WireHooks): Promise<Wire> => {
  const url = new URL(backend.url ?? '');
  const stream = new AbortController();
  const controllers = new Map<number, AbortController>();
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
  const post = async (data: string, id?: number) => {
    const ac = new AbortController();
    if (id !== undefined) controllers.set(id, ac);
    try {
      const h: Record<string, string> = { ...backend.resolvedHeaders, 'content-type': 'application/json' };
      if (backend.outgoing) await withCredentials(backend, h);
      const r = await httpRequest(endpoint, {
        method: 'POST',
        headers: h,
        body: data,
        signal: ac.signal,
      });
      const text = await readBody(r);
      if (r.statusCode === 401) backend.outgoing?.invalidate?.(backend.subject?.current);
      if ((r.statusCode ?? 0) >= 400 && id !== undefined) hooks.onmessage(transportError(id, `backend answered HTTP ${r.statusCode}: ${text.slice(0, 200)}`));
    } catch (err) {
      const why = err instanceof CredentialsError ? err.message : `backend unreachable: ${(err as Error).message}`;
      if (!ac.signal.aborted && !closed && id !== undefined) hooks.onmessage(transportError(id, why));
    } finally {
      if (id !== undefined) controllers.delete(id);
    }
  };
  return {
    send(data, id) {
      void post(data, id);
    },
    abort(id) {
      controllers.get(id)?.abort();
      controllers.delete(id);
    },
    async close() {
      closed = true;
      for (const ac of controllers.values()) ac.abort();
      stream.abort();
    },
  };
};
