/** The JSON-RPC client side of one upstream connection: ids, pending calls, timeouts, progress. */
import { TRACEPARENT, type CallContext, cancelledError } from '../call-context.ts';
import { ERR, RpcError, errorJson, notificationJson, requestJson, resultJson } from '../jsonrpc.ts';
import type { JsonRpcMessage, Wire } from '../plugins.ts';
import { RawJson } from '../raw-json.ts';

/** Methods whose results the gateway only relays: they may stay undecoded bytes (RawJson). */
const RELAYED: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read', 'completion/complete']);

function parseRaw(raw: RawJson, method: string): unknown {
  try {
    return raw.parse();
  } catch (err) {
    throw new RpcError(
      ERR.INTERNAL,
      `vmcp: the backend's answer to ${method} is not valid JSON: ${(err as Error).message}`,
    );
  }
}

interface Pending {
  resolve(result: any): void;
  reject(err: RpcError): void;
  method: string;
  ctx?: CallContext;
  /** The downstream progress token this call's upstream token (its id) stands for. */
  token?: string | number;
  /** performance.now() after which the call times out. */
  deadline: number;
  timeoutMs: number;
}

/** Handlers for upstream traffic that is not a response to one of our requests. */
export interface PeerHandlers {
  onNotification(msg: JsonRpcMessage): void;
  onServerRequest(msg: JsonRpcMessage, target: CallContext | undefined): void;
}

/**
 * Correlates requests and responses on one wire. Upstream progress tokens are the upstream request ids.
 * Deadlines share one timer per peer, armed at the earliest deadline: a call that answers in time
 * costs a field write instead of a setTimeout + clearTimeout + closure. When the timer fires it
 * times out what is due and re-arms for the earliest deadline left, so a timeout fires when it is
 * due (never early), and a finished call leaves at most one stale wake-up behind.
 */
export class Peer {
  wire!: Wire;
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The deadline the timer is armed for (Infinity when not armed). */
  private armedFor = Infinity;

  constructor(
    private readonly backend: string,
    private readonly handlers: PeerHandlers,
  ) {}

  /** Sends a request; rejects with RpcError on error response, timeout, cancellation or lost connection. */
  request(method: string, params: any, timeoutMs: number, ctx?: CallContext, token?: string | number): Promise<any> {
    if (ctx?.cancelled) return Promise.reject(cancelledError());
    const id = this.nextId++;
    if (token !== undefined) params._meta = { ...params._meta, progressToken: id };
    return new Promise((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      this.pending.set(id, { resolve, reject, method, ctx, token, deadline, timeoutMs });
      if (deadline < this.armedFor) this.arm(deadline);
      if (ctx) ctx.onCancel = () => this.cancel(id, 'cancelled by the client', cancelledError());
      // The W3C trace context in params._meta also travels as the `traceparent` header over HTTP (a
      // stdio wire has no headers and ignores `forward`).
      const tp = params?._meta?.traceparent;
      const forward =
        typeof tp === 'string' && TRACEPARENT.test(tp)
          ? { ...ctx?.forwardHeaders, traceparent: tp }
          : ctx?.forwardHeaders;
      this.wire.send(requestJson(id, method, params), id, forward);
    });
  }

  /** Calls made for a client (they carry its context); the gateway's own handshake and probes do not. */
  clientCalls(): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.ctx) n++;
    return n;
  }

  /** Sends a notification upstream. */
  notify(method: string, params: unknown): void {
    this.wire.send(notificationJson(method, params));
  }

  /** Answers a server→client request upstream. */
  respond(id: JsonRpcMessage['id'], result: unknown): void {
    this.wire.send(resultJson(id, JSON.stringify(result ?? {})));
  }

  /** Answers a server→client request upstream with an error. */
  respondError(id: JsonRpcMessage['id'], error: { code: number; message: string; data?: unknown }): void {
    this.wire.send(errorJson(id, error));
  }

  /** Stops waiting for `id`: tells the backend (notifications/cancelled), aborts its HTTP exchange, rejects. */
  cancel(id: number, reason: string, err: RpcError): void {
    const p = this.take(id);
    if (!p) return;
    this.notify('notifications/cancelled', { requestId: id, reason });
    this.wire.abort?.(id);
    p.reject(err);
  }

  /** Rejects every pending call at once (the connection is gone) and stops the deadline timer. */
  failAll(err: RpcError): void {
    for (const id of [...this.pending.keys()]) this.take(id)?.reject(err);
    this.disarm();
  }

  /** Entry point for every upstream message. */
  onMessage(msg: JsonRpcMessage, relatedId?: number): void {
    if (msg.method === undefined) {
      const p = typeof msg.id === 'number' ? this.take(msg.id) : undefined;
      if (!p) return;
      if (msg.error) p.reject(new RpcError(msg.error.code, msg.error.message, msg.error.data));
      // A large answer arrives as bytes; only calls the gateway relays downstream may keep it so.
      else if (msg.result instanceof RawJson && !RELAYED.has(p.method)) p.resolve(parseRaw(msg.result, p.method));
      else p.resolve(msg.result);
      return;
    }
    if (msg.id !== undefined && msg.id !== null) {
      this.handlers.onServerRequest(msg, this.targetFor(relatedId));
      return;
    }
    if (msg.method === 'notifications/progress') {
      const p = this.pending.get(msg.params?.progressToken);
      if (p?.ctx && p.token !== undefined)
        p.ctx.notify('notifications/progress', { ...msg.params, progressToken: p.token });
      return;
    }
    this.handlers.onNotification(msg);
  }

  /**
   * Which downstream call a server→client request belongs to: the call whose HTTP stream carried it,
   * else the only in-flight call that can take requests. Undefined when ambiguous or none.
   */
  private targetFor(relatedId?: number): CallContext | undefined {
    if (relatedId !== undefined) {
      const ctx = this.pending.get(relatedId)?.ctx;
      if (ctx?.request) return ctx;
    }
    let found: CallContext | undefined;
    for (const p of this.pending.values()) {
      if (!p.ctx?.request || p.ctx === found) continue;
      if (found) return undefined;
      found = p.ctx;
    }
    return found;
  }

  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    if (p.ctx) p.ctx.onCancel = undefined;
    return p;
  }

  private arm(deadline: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = deadline;
    // +1: setTimeout counts whole milliseconds from its own clock; never wake before the deadline.
    this.timer = setTimeout(this.sweep, Math.max(0, Math.ceil(deadline - performance.now())) + 1);
    // A stale wake-up must not hold the process open; the wire (or the server) keeps it alive meanwhile.
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  /** Times out every call whose deadline passed, then re-arms for the earliest one left. */
  private readonly sweep = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    const due: number[] = [];
    for (const [id, p] of this.pending) {
      if (p.deadline <= now) due.push(id);
      else if (p.deadline < next) next = p.deadline;
    }
    for (const id of due) {
      const p = this.pending.get(id);
      if (!p) continue; // settled by an earlier cancellation in this sweep
      this.cancel(
        id,
        'timeout',
        new RpcError(
          ERR.TIMEOUT,
          `vmcp: backend "${this.backend}" did not answer ${p.method} within ${p.timeoutMs} ms`,
          { backend: this.backend, timeoutMs: p.timeoutMs },
        ),
      );
    }
    if (next !== Infinity && next < this.armedFor) this.arm(next);
  };
}
