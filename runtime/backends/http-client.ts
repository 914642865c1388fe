/** Lean HTTP plumbing for the HTTP transports: keep-alive agents and an SSE event parser. */
import http from 'node:http';
import https from 'node:https';

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });

/** Options for one upstream HTTP request. */
export interface HttpRequestOptions {
  method: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** Sends one request on a keep-alive agent; resolves with the response (body unread). */
export function httpRequest(url: URL, opts: HttpRequestOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
    const req = mod.request(url, { method: opts.method, headers, agent: url.protocol === 'https:' ? httpsAgent : httpAgent, signal: opts.signal }, resolve);
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Reads a whole response body as text. */
export function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('end', () => resolve(text));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('response aborted')));
  });
}

/** Parses a text/event-stream response, calling `onEvent(event, data)` per event; resolves at end. */
export function readSse(res: http.IncomingMessage, onEvent: (event: string, data: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let buffer = '';
    let event = '';
    let data: string[] = [];
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        let line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          if (data.length) onEvent(event || 'message', data.join('\n'));
          event = '';
          data = [];
        } else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
        else if (line.startsWith('event:')) event = line.slice(line[6] === ' ' ? 7 : 6);
      }
    });
    const done = () => resolve();
    res.on('end', done);
    res.on('close', done);
    res.on('error', done);
  });
}
