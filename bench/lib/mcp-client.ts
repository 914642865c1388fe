/**
 * A deliberately thin MCP client for the load generator (2025-11-25 sessions): JSON-RPC over one
 * keep-alive HTTP connection per client, or over a child's stdio. It parses JSON and SSE responses
 * and does nothing else, so the client's own cost stays small and identical for every target.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { createInterface } from 'node:readline';
import { spawnNode, stop, type Spawned } from './procs.ts';

export const PROTOCOL = '2025-11-25';
const CLIENT_INFO = { name: 'vmcp-bench', version: '1.0.0' };

export interface RpcClient {
  call(method: string, params?: unknown): Promise<any>;
  close(): Promise<void>;
}

export class RpcError extends Error {
  constructor(readonly error: { code: number; message: string }) {
    super(`JSON-RPC error ${error.code}: ${error.message}`);
  }
}

interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export class HttpClient implements RpcClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly url: URL;
  private sessionId: string | undefined;
  private nextId = 1;

  constructor(
    url: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.url = new URL(url);
  }

  /** Connects: initialize (minting the session), then notifications/initialized. */
  static async connect(url: string, timeoutMs?: number): Promise<HttpClient> {
    const c = new HttpClient(url, timeoutMs);
    await c.call('initialize', { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: CLIENT_INFO });
    await c.notify('notifications/initialized');
    return c;
  }

  private post(body: string, method = 'POST'): Promise<HttpReply> {
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'content-length': Buffer.byteLength(body),
    };
    if (this.sessionId) {
      headers['mcp-session-id'] = this.sessionId;
      headers['mcp-protocol-version'] = PROTOCOL;
    }
    return new Promise((resolve, reject) => {
      const req = request(
        { agent: this.agent, host: this.url.hostname, port: this.url.port, path: this.url.pathname, method, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`HTTP request timed out after ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async notify(method: string, params?: unknown): Promise<void> {
    const r = await this.post(JSON.stringify({ jsonrpc: '2.0', method, params }));
    if (r.status >= 300) throw new Error(`${method}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  }

  async call(method: string, params?: unknown): Promise<any> {
    const id = this.nextId++;
    const r = await this.post(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    if (r.status !== 200) throw new Error(`${method}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    const sid = r.headers['mcp-session-id'];
    if (typeof sid === 'string') this.sessionId = sid;
    const msg = String(r.headers['content-type']).includes('text/event-stream')
      ? fromSse(r.body, id)
      : JSON.parse(r.body);
    if (!msg || msg.id !== id) throw new Error(`${method}: no response with id ${id} in ${r.body.slice(0, 300)}`);
    if (msg.error) throw new RpcError(msg.error);
    return msg.result;
  }

  async close(): Promise<void> {
    if (this.sessionId) {
      await this.post('', 'DELETE').catch(() => {});
    }
    this.agent.destroy();
  }
}

/** The JSON-RPC response with `id` in an SSE body (other events, e.g. notifications, are skipped). */
function fromSse(body: string, id: number): any {
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (!data) continue;
    const msg = JSON.parse(data);
    if (msg.id === id) return msg;
  }
  return undefined;
}

/** A client that spawns the backend and talks newline-delimited JSON-RPC over its stdio. */
export class StdioClient implements RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();

  private constructor(readonly proc: Spawned) {
    const rl = createInterface({ input: proc.child.stdout! });
    rl.on('line', (line) => {
      let msg: any;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new RpcError(msg.error));
      else p.resolve(msg.result);
    });
    proc.child.on('exit', (code) => {
      for (const p of this.pending.values())
        p.reject(new Error(`backend exited (${code}): ${proc.stderr().slice(-500)}`));
      this.pending.clear();
    });
  }

  static async spawn(args: string[], env: Record<string, string> = {}): Promise<StdioClient> {
    const c = new StdioClient(spawnNode(args, { env, stdin: 'pipe' }));
    await c.call('initialize', { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: CLIENT_INFO });
    c.proc.child.stdin!.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
    return c;
  }

  call(method: string, params?: unknown): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.proc.child.stdin!.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  }

  async close(): Promise<void> {
    this.proc.child.stdin!.end();
    await stop(this.proc);
  }
}
