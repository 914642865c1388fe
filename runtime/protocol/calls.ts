/**
 * The 2026-07-28 call state machine: calls in flight (for `notifications/cancelled`) and calls
 * parked for client input (`input_required`), with their expiry. GatewayCore owns one; nothing is
 * shared between gateways in one process. No sockets or timers of its own: expiry is scheduled on
 * the injected `Timers`.
 */
import type { Json } from '../raw-json.ts';
import { randomUUID } from 'node:crypto';
import { cancelCall, type CallContext } from '../call-context.ts';
import { ERR, RpcError } from '../jsonrpc.ts';
import type { Logger } from '../log.ts';
import type { RuntimeLimits } from '../compiled-gateway.ts';
import type { Timers } from './timers.ts';

/** A backend's server→client request, waiting for the client's `inputResponses`. */
export interface InputEvent {
  kind: 'input';
  method: string;
  params: unknown;
  resolve(r: unknown): void;
  reject(e: unknown): void;
}

/** What the upstream side of a multi-round call produces next. */
export type CallEvent = InputEvent | { kind: 'done'; json: Json } | { kind: 'error'; err: unknown };

/** Where a modern call writes: the HTTP response of the current round, or stdout. */
export interface Exchange {
  write(json: string): void;
  /** The final answer; a relayed result may be raw bytes (RawJson). */
  end(json: Json): void;
  abandon(): void;
  /** Ends with an error and an HTTP status (HTTP only). */
  fail?(json: string, status: number, headers?: Record<string, string>): void;
  /** How much an SSE response may buffer for a stalled reader (HTTP only; set by the I/O layer). */
  bound?: unknown;
  /** Who may cancel this exchange's calls by notification when the caller is anonymous (stdio: the pipe). */
  cancelScope?: string;
}

/** How long a parked call waits for the client's retry. */
export const PARK_TTL_MS = 10 * 60_000;

/** A call that may span several client round trips. */
export class RoundTripCall {
  pending: InputEvent | undefined;
  pendingKey = '';
  /** Cancels the parked call's expiry. */
  expiry: (() => void) | undefined;
  private queue: CallEvent[] = [];
  private waiter: ((e: CallEvent) => void) | undefined;

  constructor(
    public exchange: Exchange,
    public ctx: CallContext,
  ) {}

  push(e: CallEvent): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w) w(e);
    else this.queue.push(e);
  }

  next(): Promise<CallEvent> {
    const e = this.queue.shift();
    return e ? Promise.resolve(e) : new Promise((r) => (this.waiter = r));
  }
}

/**
 * The cancel scope of a caller: who may reach its calls with `notifications/cancelled`. 2026 calls
 * carry no session, so the scope is what identifies "the same client":
 * - an authenticated caller: its principal (`p:` + iss/sub); only the same subject reaches its calls;
 * - stdio: the one client on the pipe (`exchange.cancelScope`);
 * - an anonymous HTTP caller: none. It has no identity a second request could prove, and every SDK
 *   client numbers its requests from 0, so an id alone would let one client cancel (or shadow) another's
 *   call. Its cancel is closing the call's own response stream, which is exactly what the v2 SDK does
 *   on 2026-era Streamable HTTP (it aborts the per-request stream instead of POSTing a notification).
 */
export function cancelScopeOf(principal: { key: string } | undefined, exchange?: Exchange): string | undefined {
  return principal ? `p:${principal.key}` : exchange?.cancelScope;
}

/** Modern calls in flight and parked, bounded by `maxParkedCalls`. */
export class ModernCalls {
  /** In-flight calls by scope + request id; an array when one scope reuses an id (ambiguous). */
  private readonly inflight = new Map<string, CallContext | CallContext[]>();
  private readonly parked = new Map<string, RoundTripCall>();
  /** Prefix of the requestState tokens; with replicas it names this replica (see GatewayCore.relayTarget). */
  tokenPrefix = 'vmcp:';
  private readonly maxParked: number;
  private inputSeq = 0;
  private fullWarned = false;

  constructor(
    limits: Pick<RuntimeLimits, 'maxParkedCalls'>,
    private readonly log: Logger,
    private readonly timers: Timers,
    private readonly parkTtlMs = PARK_TTL_MS,
  ) {
    this.maxParked = limits.maxParkedCalls;
  }

  /** Calls parked for input right now. */
  get parkedCount(): number {
    return this.parked.size;
  }

  /** Indexes an in-flight call for cancellation; returns its key, or undefined when the caller has no scope. */
  track(scope: string | undefined, id: unknown, ctx: CallContext): string | undefined {
    if (scope === undefined) return undefined;
    const key = `${scope}\u0000${JSON.stringify(id)}`;
    const prev = this.inflight.get(key);
    this.inflight.set(key, prev === undefined ? ctx : Array.isArray(prev) ? [...prev, ctx] : [prev, ctx]);
    return key;
  }

  /** Removes this call (and only this one) from the index. */
  untrack(key: string | undefined, ctx: CallContext): void {
    if (key === undefined) return;
    const cur = this.inflight.get(key);
    if (cur === ctx) this.inflight.delete(key);
    else if (Array.isArray(cur)) {
      const rest = cur.filter((c) => c !== ctx);
      this.inflight.set(key, rest.length === 1 ? rest[0] : rest);
    }
  }

  /**
   * `notifications/cancelled` for `requestId` in `scope`. Returns true when a call was cancelled.
   * An id that two calls of the same scope share is ambiguous: neither is cancelled (either client
   * can still close its own stream), rather than guessing and stopping the wrong one.
   */
  cancel(scope: string | undefined, requestId: unknown): boolean {
    if (scope === undefined || requestId === undefined) return false;
    const found = this.inflight.get(`${scope}\u0000${JSON.stringify(requestId)}`);
    if (found === undefined) return false;
    if (Array.isArray(found)) {
      this.log.debug(
        { requestId },
        'notifications/cancelled names a request id two calls of this caller share; ignored',
      );
      return false;
    }
    cancelCall(found);
    return true;
  }

  /**
   * Parks `call` until the client retries with `inputResponses`; returns the input key and the
   * opaque `requestState`, or undefined when `maxParkedCalls` are parked already. A full table
   * refuses the newcomer instead of evicting the oldest: a parked call is usually a person in the
   * middle of answering (elicitation) or a model mid-sampling, and evicting it would throw away
   * their work to make room for a call that can simply be retried (and lets a flood of cheap calls
   * push out everyone's real ones).
   */
  park(call: RoundTripCall, event: InputEvent): { key: string; token: string } | undefined {
    if (this.parked.size >= this.maxParked) {
      if (!this.fullWarned) {
        this.fullWarned = true;
        this.log.warn(
          { maxParkedCalls: this.maxParked },
          'parked 2026 calls reached operational.limits.maxParkedCalls; new input_required calls are refused until some finish or expire',
        );
      }
      return undefined;
    }
    const key = `vmcp-input-${++this.inputSeq}`;
    const token = `${this.tokenPrefix}${randomUUID()}`;
    call.pending = event;
    call.pendingKey = key;
    this.parked.set(token, call);
    call.expiry = this.timers.after(this.parkTtlMs, () => {
      this.parked.delete(token);
      this.drop(call, new RpcError(ERR.TIMEOUT, 'the client did not retry with inputResponses in time'));
    });
    return { key, token };
  }

  /** The parked call for `token`, still parked (take it with `unpark`). */
  parkedCall(token: string): RoundTripCall | undefined {
    return this.parked.get(token);
  }

  /** Takes a parked call off the table to resume it. */
  unpark(token: string, call: RoundTripCall): void {
    this.parked.delete(token);
    call.expiry?.();
    if (this.parked.size < this.maxParked) this.fullWarned = false;
  }

  /** The error a refused park answers both sides with. */
  parkRefusal(): RpcError {
    return new RpcError(
      ERR.INTERNAL,
      `vmcp: too many calls are waiting for client input (operational.limits.maxParkedCalls is ${this.maxParked}); retry the call later`,
      { maxParkedCalls: this.maxParked },
    );
  }

  /** Fails a call that will not be resumed: the backend's request is answered with `err`, the upstream call cancelled. */
  drop(call: RoundTripCall, err: RpcError): void {
    const pending = call.pending;
    call.pending = undefined;
    pending?.reject(err);
    cancelCall(call.ctx);
    if (this.parked.size < this.maxParked) this.fullWarned = false;
  }

  /** Gateway shutdown: every parked call is dropped (timers cleared), the index emptied. */
  close(): void {
    const calls = [...this.parked.values()];
    this.parked.clear();
    for (const call of calls) {
      call.expiry?.();
      this.drop(call, new RpcError(ERR.CONNECTION_CLOSED, 'vmcp: the gateway is shutting down'));
    }
    this.inflight.clear();
  }
}
