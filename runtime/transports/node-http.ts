/**
 * node:http for what the lean pool does not carry: https, POSTs with headers the lean client writes
 * itself, the GET event streams and DELETE. Keep-alive agents, a deadline on the response head, and
 * body/SSE readers bounded by the backend's message size limit.
 */
import http from 'node:http';
import https from 'node:https';
import { SseParser } from './deliver.ts';
import { MessageTooLargeError, type SentRequest, type UpstreamResponse } from './upstream-response.ts';

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });

/** Options for one node:http request. */
export interface HttpRequestOptions {
  method: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Fail when no response head has arrived by then (connect included). */
  headTimeoutMs?: number;
  /** https: the backend's own agent (a `caBundlePath` trust store) instead of the shared one. */
  agent?: https.Agent;
}

/** Sends one request on a keep-alive agent; resolves with the response (body unread). */
export function httpRequest(url: URL, opts: HttpRequestOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
    let timer: NodeJS.Timeout | undefined;
    const req = mod.request(
      url,
      {
        method: opts.method,
        headers,
        agent: url.protocol === 'https:' ? (opts.agent ?? httpsAgent) : httpAgent,
        signal: opts.signal,
      },
      (res) => {
        clearTimeout(timer);
        resolve(res);
      },
    );
    if (opts.headTimeoutMs !== undefined) {
      const ms = opts.headTimeoutMs;
      timer = setTimeout(
        () =>
          req.destroy(
            Object.assign(new Error(`timed out after ${ms} ms waiting for a response`), { code: 'ETIMEDOUT' }),
          ),
        ms,
      ).unref();
    }
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(opts.body);
  });
}

/** POSTs with node:http; the response reads like a lean one, bounded by `limit`. `agent`: see HttpRequestOptions. */
export function postNode(
  url: URL,
  headers: Record<string, string>,
  body: string,
  limit: number,
  agent?: https.Agent,
): SentRequest {
  let req: http.ClientRequest | undefined;
  const response = new Promise<UpstreamResponse>((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const h: Record<string, string | number> = { ...headers, 'content-length': Buffer.byteLength(body) };
    req = mod.request(
      url,
      { method: 'POST', headers: h, agent: url.protocol === 'https:' ? (agent ?? httpsAgent) : httpAgent },
      (res) => resolve(wrapIncoming(res, limit)),
    );
    req.on('error', reject);
    req.end(body);
  });
  return { response, abort: () => req?.destroy() };
}

function wrapIncoming(res: http.IncomingMessage, limit: number): UpstreamResponse {
  return {
    status: res.statusCode ?? 0,
    header: (name) => {
      const v = res.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    text: () => readBody(res, limit),
    sse: (onEvent) => readSse(res, onEvent, { limit }),
    discard: () => void res.resume(),
  };
}

/** Reads a whole node:http response body as text; past `limit` bytes the response is destroyed. */
export function readBody(res: http.IncomingMessage, limit = Infinity): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    res.on('data', (c: Buffer) => {
      if ((bytes += c.length) > limit) {
        chunks.length = 0;
        res.destroy();
        return reject(new MessageTooLargeError(limit, 'a response body'));
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(new Error('response aborted'));
    });
  });
}

/** Options of readSse: the event size bound and the server's `retry:` hint. */
export interface ReadSseOptions {
  limit?: number;
  onRetry?(ms: number): void;
}

/**
 * Parses a node:http text/event-stream response, calling `onEvent(event, data, id)` per event;
 * resolves when it ends or breaks off. An event over `limit` destroys the response and rejects
 * with MessageTooLargeError.
 */
export function readSse(
  res: http.IncomingMessage,
  onEvent: (event: string, data: string, id: string | undefined) => void,
  opts: ReadSseOptions = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const limit = opts.limit ?? Infinity;
    const parser = new SseParser(onEvent, {
      maxBytes: limit,
      onRetry: opts.onRetry,
      onTooLarge: () => {
        res.destroy();
        reject(new MessageTooLargeError(limit, 'an SSE event'));
      },
    });
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => parser.push(chunk));
    const done = () => resolve();
    res.on('end', done);
    res.on('close', done);
    res.on('error', done);
  });
}
