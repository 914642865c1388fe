/** Streamable HTTP transport (client side): one POST per message, each with its own AbortController. */
import type { JsonRpcMessage, ResolvedBackend, TransportFactory, Wire, WireHooks } from '../plugins.ts';
import { CredentialsError, withCredentials } from './credentials.ts';
import { deliverText, transportError } from './deliver.ts';
import { httpRequest, readBody, readSse } from './http-client.ts';

/** Connects to a Streamable HTTP backend; the session is minted by the backend at initialize. */
export const streamableHttpTransport: TransportFactory = async (backend: ResolvedBackend, hooks: WireHooks): Promise<Wire> => {
  const url = new URL(backend.url ?? '');
  const controllers = new Map<number, AbortController>();
  let sessionId: string | undefined;
  let protocolVersion: string | undefined;
  let closed = false;
  let listener: AbortController | undefined;

  const headers = (): Record<string, string> => {
    const h: Record<string, string> = { ...backend.resolvedHeaders, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (sessionId) h['mcp-session-id'] = sessionId;
    if (protocolVersion) h['mcp-protocol-version'] = protocolVersion;
    return h;
  };
  const deliver = (msg: JsonRpcMessage, related?: number) => hooks.onmessage(msg, related);

  const post = async (data: string, id?: number) => {
    const ac = new AbortController();
    if (id !== undefined) controllers.set(id, ac);
    try {
      const h = headers();
      if (backend.outgoing) await withCredentials(backend, h);
      const res = await httpRequest(url, { method: 'POST', headers: h, body: data, signal: ac.signal });
      const sid = res.headers['mcp-session-id'];
      if (typeof sid === 'string') sessionId = sid;
      const status = res.statusCode ?? 0;
      if (status === 202) return void res.resume();
      if (status === 404 && sessionId) {
        res.resume();
        sessionId = undefined;
        if (!closed) hooks.onclose('backend session expired (HTTP 404)');
        return;
      }
      if (status >= 400) {
        if (status === 401) backend.outgoing?.invalidate?.(backend.subject?.current);
        const text = await readBody(res);
        if (id !== undefined) deliver(transportError(id, `backend answered HTTP ${status}: ${text.slice(0, 200)}`));
        return;
      }
      if (String(res.headers['content-type'] ?? '').includes('text/event-stream')) {
        await readSse(res, (event, text) => event === 'message' && deliverText(text, hooks, id));
      } else {
        const text = await readBody(res);
        if (text) deliverText(text, hooks, id);
      }
    } catch (err) {
      if (ac.signal.aborted || closed) return;
      const why = err instanceof CredentialsError ? err.message : `backend unreachable: ${(err as Error).message}`;
      if (id !== undefined) deliver(transportError(id, why));
    } finally {
      if (id !== undefined) controllers.delete(id);
    }
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
      controllers.get(id)?.abort();
      controllers.delete(id);
    },
    setProtocolVersion(version) {
      protocolVersion = version;
      void listen();
    },
    async close() {
      if (closed) return;
      closed = true;
      listener?.abort();
      for (const ac of controllers.values()) ac.abort();
      controllers.clear();
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
