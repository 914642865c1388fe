/**
 * A 2025-era downstream session (HTTP `Mcp-Session-Id`, or the one stdio connection): its client's
 * capabilities and log level, its calls in flight, and its server→client requests waiting for the
 * client's answer. No timers of its own: the wait for an answer is scheduled on the injected Timers.
 */
import { cancelCall, type CallContext } from '../call-context.ts';
import { ERR, RpcError, requestJson, toRpcError } from '../jsonrpc.ts';
import type { JsonRpcMessage } from '../plugins.ts';
import type { Timers } from './timers.ts';

interface ClientWait {
  resolve(result: unknown): void;
  reject(err: RpcError): void;
  /** Cancels the wait's timeout. */
  cancelTimer: () => void;
}

/** How long a server→client request (sampling, elicitation) may wait for the client's answer. */
const CLIENT_REQUEST_TIMEOUT_MS = 10 * 60_000;

/** Per-session state: client capabilities, log level, the standalone stream, pending client requests. */
export class Session {
  /** Minimum log level (index into LOG_LEVELS) set by logging/setLevel; undefined: all. */
  logLevel: number | undefined;
  /** Writes a message to the standalone stream (HTTP GET /mcp, or stdout for stdio). */
  push: ((json: string) => void) | undefined;
  /** Ends the standalone stream (shutdown). */
  endStream: (() => void) | undefined;
  readonly inflight = new Map<string | number, CallContext>();
  lastSeen = Date.now();
  /** The `(iss, sub)` key of the caller who created the session (incoming auth); only it may use the session. */
  principalKey: string | undefined;
  /** With signed ids: the id's random part (revocation and logs name the session by it). */
  sid: string | undefined;
  /** Whom the session counts against for maxSessionsPerClient (set when admitted). */
  clientKey: string | undefined;
  private readonly waits = new Map<string, ClientWait>();
  private nextId = 0;
  /** Prefix of our server→client request ids; with replicas it names this replica (see GatewayCore.relayTarget). */
  idPrefix = 'vmcp-';

  constructor(
    readonly id: string,
    readonly protocolVersion: string,
    readonly clientCapabilities: Record<string, unknown>,
    private readonly timers: Timers,
  ) {}

  /** Sends a server→client request through `write` (the stream of the call it belongs to). */
  request(method: string, params: unknown, write: (json: string) => void): Promise<unknown> {
    const id = `${this.idPrefix}${++this.nextId}`;
    return new Promise((resolve, reject) => {
      const cancelTimer = this.timers.after(CLIENT_REQUEST_TIMEOUT_MS, () => {
        this.waits.delete(id);
        reject(new RpcError(ERR.TIMEOUT, `client did not answer ${method} within ${CLIENT_REQUEST_TIMEOUT_MS} ms`));
      });
      this.waits.set(id, { resolve, reject, cancelTimer });
      write(requestJson(id, method, params));
    });
  }

  /** Takes a client response to one of our requests; false when no request waits for it. */
  resolveClient(msg: JsonRpcMessage): boolean {
    const wait = typeof msg.id === 'string' ? this.waits.get(msg.id) : undefined;
    if (!wait) return false;
    this.waits.delete(msg.id as string);
    wait.cancelTimer();
    if (msg.error) wait.reject(new RpcError(msg.error.code, msg.error.message, msg.error.data));
    else wait.resolve(msg.result);
    return true;
  }

  /** Ends the session: in-flight calls are cancelled upstream, pending client requests fail. */
  close(): void {
    for (const ctx of this.inflight.values()) cancelCall(ctx);
    for (const [id, w] of this.waits) {
      w.cancelTimer();
      w.reject(new RpcError(ERR.CONNECTION_CLOSED, toRpcError(new Error('session closed')).message));
      this.waits.delete(id);
    }
    this.push = undefined;
  }
}
