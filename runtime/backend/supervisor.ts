/**
 * Supervises one backend: connects in the background, restarts with exponential backoff, checks
 * health with ping, keeps a circuit breaker, checks drift on every connect, and bounds every call.
 *
 * Over 300 lines: one backend's lifecycle is one state machine (connect with a deadline, initialize, drift, health, restart with backoff, circuit); splitting it would scatter the transitions.
 */
import { type CallContext, cancelledError } from '../call-context.ts';
import { ERR, RpcError } from '../jsonrpc.ts';
import type { Logger } from '../log.ts';
import type { JsonRpcMessage, ResolvedBackend, TransportFactory, Wire } from '../plugins.ts';
import type { CompiledGateway } from '../compiled-gateway.ts';
import type { ProcessGroups } from '../transports/process-groups.ts';
import { Circuit } from './circuit.ts';
import { applyDriftPolicy, diffCatalog, listLiveCatalog, type DriftItem } from './drift.ts';
import { Peer } from './peer.ts';

/** Lifecycle states, as reported in /status. */
export type BackendState = 'connecting' | 'ready' | 'unhealthy' | 'down' | 'failed' | 'closed' | 'on-demand';

/** How a backend reports to the gateway. */
export interface BackendEvents {
  onStateChange(b: Backend): void;
  onNotification(b: Backend, msg: JsonRpcMessage): void;
  onServerRequest(b: Backend, msg: JsonRpcMessage, target: CallContext | undefined): void;
  /** `drift: fail` found drift; `atStartup` when the backend never served (the gateway stops then). */
  onFatalDrift(b: Backend, items: DriftItem[], atStartup: boolean): void;
}

/** The protocol revision the gateway speaks upstream. */
export const UPSTREAM_PROTOCOL_VERSION = '2025-11-25';
const BACKOFF_START_MS = 250;
const BACKOFF_MAX_MS = 30_000;
const STABLE_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** One supervised backend. */
export class Backend {
  state: BackendState = 'connecting';
  restarts = 0;
  lastError: string | undefined;
  drift: DriftItem[] = [];
  /** `kind:name` of items not callable (block-changed policy). */
  blocked = new Set<string>();
  capabilities: Record<string, any> = {};
  serverInfo: unknown;
  /** When a call last picked this upstream (scoped upstreams are closed after idling). */
  lastUsed = Date.now();
  readonly circuit: Circuit;
  peer: Peer | undefined;
  private wire: Wire | undefined;
  private generation = 0;
  private backoffMs = BACKOFF_START_MS;
  private connectedAt = 0;
  private healthFailures = 0;
  private checking = false;
  private waiters = new Set<() => void>();
  /** Client calls waiting for this backend to become ready (not yet sent). */
  private waitingClients = 0;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private health: ReturnType<typeof setInterval> | undefined;
  private driftLogged = new Set<string>();
  private everSettled = false;
  private connectedOnce = false;
  /** start() ran (the gateway starts backends once clients' first requests are answered). */
  private begun = false;

  constructor(
    public index: number,
    readonly cfg: ResolvedBackend,
    private readonly transport: TransportFactory,
    private gw: CompiledGateway,
    private events: BackendEvents,
    readonly log: Logger,
    /** The owner's registry of stdio process groups. */
    private readonly processGroups?: ProcessGroups,
  ) {
    this.circuit = new Circuit(gw.operational.circuitBreaker);
  }

  get name(): string {
    return this.cfg.name;
  }

  /**
   * Dev mode (`vmcp serve --watch`): a new build whose definition of this backend is unchanged takes
   * it over, connection and all; from now on it reports to the new owner under its new index.
   */
  rebind(index: number, gw: CompiledGateway, events: BackendEvents): void {
    this.index = index;
    this.gw = gw;
    this.events = events;
  }

  /** True once the first connect attempt has either succeeded or failed. */
  get settled(): boolean {
    return this.everSettled;
  }

  /** Child pid for stdio backends. */
  get pid(): number | undefined {
    return this.wire?.pid;
  }

  /** Starts connecting in the background and arms the health check. */
  start(): void {
    if (this.begun) return;
    this.begun = true;
    void this.connect();
    const every = this.gw.operational.healthCheckIntervalMs;
    if (every > 0) {
      this.health = setInterval(() => void this.checkHealth(), every);
      this.health.unref();
    }
  }

  /** Sends one call, waiting for readiness within the same `timeoutMs` budget. */
  async call(method: string, params: any, ctx?: CallContext, token?: string | number, item?: string): Promise<any> {
    let remaining = this.cfg.timeoutMs;
    if (this.state !== 'ready') {
      // A call that comes before the gateway got round to starting this backend starts it now.
      if (!this.begun && this.state === 'connecting') this.start();
      const started = Date.now();
      if (ctx) this.waitingClients++;
      try {
        await this.waitReady(this.cfg.timeoutMs, ctx);
      } finally {
        if (ctx) this.waitingClients--;
      }
      remaining = Math.max(1, this.cfg.timeoutMs - (Date.now() - started));
    }
    // Checked after readiness: drift is only known once the backend has connected.
    if (item !== undefined && this.blocked.has(item)) {
      const [kind, name] = [item.slice(0, item.indexOf(':')), item.slice(item.indexOf(':') + 1)];
      throw new RpcError(
        ERR.INVALID_PARAMS,
        `vmcp: ${kind === 'tools' ? 'tool' : 'item'} "${name}" of backend "${this.name}" changed since compile (drift); it is blocked until the next vmcp compile`,
        { backend: this.name, drift: 'changed' },
      );
    }
    if (!this.circuit.allow()) {
      throw new RpcError(
        ERR.CONNECTION_CLOSED,
        `vmcp: backend "${this.name}" is unavailable: circuit open after ${this.circuit.failures} failures (retry in ${this.circuit.retryInMs()} ms)`,
        { backend: this.name, circuit: 'open' },
      );
    }
    try {
      const result = await (this.peer as Peer).request(method, params, remaining, ctx, token);
      this.circuit.success();
      return result;
    } catch (err) {
      if (isInfrastructureFailure(err)) this.circuit.failure();
      throw err;
    }
  }

  /**
   * Client calls in flight here: sent and unanswered, or waiting for readiness. A shutdown drains
   * these; the gateway's own initialize, list and ping requests are not waited for.
   */
  clientCalls(): number {
    return this.waitingClients + (this.peer?.clientCalls() ?? 0);
  }

  /** Stops health checks and timers, fails pending calls, closes the connection (kills the child). */
  async close(): Promise<void> {
    this.state = 'closed';
    clearInterval(this.health);
    for (const t of this.timers) clearTimeout(t);
    this.peer?.failAll(new RpcError(ERR.CONNECTION_CLOSED, `vmcp: backend "${this.name}" is shutting down`));
    this.wake();
    await this.wire?.close();
  }

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    const gen = ++this.generation;
    this.setState('connecting');
    const peer = new Peer(this.name, {
      onNotification: (msg) => this.onNotification(msg),
      onServerRequest: (msg, target) => this.events.onServerRequest(this, msg, target),
    });
    let wire: Wire | undefined;
    try {
      const opening = this.transport(this.cfg, {
        onmessage: (m, related) => {
          try {
            peer.onMessage(m, related);
          } catch (err) {
            // One bad upstream message must never take the gateway down.
            this.log.error({ error: (err as Error).message }, 'failed to handle a backend message');
          }
        },
        onclose: (reason) => gen === this.generation && this.onDisconnect(reason),
        log: this.log,
        processGroups: this.processGroups,
      });
      // A backend that accepts the connection and never answers must not stay `connecting`.
      wire = await withDeadline(
        opening,
        this.connectTimeoutMs(),
        `connecting timed out after ${this.connectTimeoutMs()} ms`,
        (late) => void late.close(),
      );
      peer.wire = wire;
      this.wire = wire;
      this.peer = peer;
      if (gen !== this.generation || (this.state as BackendState) === 'closed') return void wire.close();
      const init = await peer.request(
        'initialize',
        {
          protocolVersion: UPSTREAM_PROTOCOL_VERSION,
          capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } },
          clientInfo: { name: `vmcp:${this.gw.name}`, version: this.gw.vmcpVersion },
        },
        this.connectTimeoutMs(),
      );
      wire.setProtocolVersion?.(String(init?.protocolVersion ?? UPSTREAM_PROTOCOL_VERSION));
      peer.notify('notifications/initialized', {});
      this.capabilities = init?.capabilities ?? {};
      this.serverInfo = init?.serverInfo;
      if (!(await this.checkDrift())) return;
      this.connectedAt = Date.now();
      this.connectedOnce = true;
      this.healthFailures = 0;
      this.everSettled = true;
      this.setState('ready');
      this.wake();
      this.log.info({ restarts: this.restarts }, 'backend ready');
    } catch (err) {
      if (gen !== this.generation || (this.state as BackendState) === 'closed') return;
      this.lastError = err instanceof Error ? err.message : String(err);
      this.log.warn({ error: this.lastError }, 'backend connect failed');
      this.generation++; // ignore the close of the wire we are tearing down
      peer.failAll(
        new RpcError(ERR.CONNECTION_CLOSED, `vmcp: backend "${this.name}" connect failed: ${this.lastError}`, {
          backend: this.name,
        }),
      );
      void wire?.close();
      this.everSettled = true;
      this.setState('down');
      this.scheduleReconnect();
    }
  }

  /** Lists the live catalog and applies the drift policy; false when the backend must not serve. */
  async checkDrift(): Promise<boolean> {
    const peer = this.peer as Peer;
    const live = await listLiveCatalog(peer, this.capabilities, this.connectTimeoutMs());
    const items = diffCatalog(live, this.cfg.itemHashes, this.capabilities);
    const policy = this.gw.operational.drift;
    this.drift = items;
    this.blocked = applyDriftPolicy(items, policy, this.driftLogged, this.log);
    if (policy === 'fail' && items.length > 0) {
      this.lastError = `drift: ${items.length} item(s) differ from the lock`;
      this.everSettled = true;
      this.setState('failed');
      this.wake();
      this.events.onFatalDrift(this, items, !this.connectedOnce);
      return false;
    }
    return true;
  }

  private onNotification(msg: JsonRpcMessage): void {
    if (msg.method?.endsWith('/list_changed') && this.state === 'ready') {
      // Re-check drift so a changed item stays blocked; the gateway forwards only what the lock allows.
      void this.checkDrift().then(
        () => this.events.onStateChange(this),
        () => {},
      );
    }
    this.events.onNotification(this, msg);
  }

  private onDisconnect(reason: string): void {
    if (this.state === 'closed') return;
    this.generation++;
    this.lastError = reason;
    this.log.warn({ reason }, 'backend connection lost');
    this.peer?.failAll(
      new RpcError(ERR.CONNECTION_CLOSED, `vmcp: backend "${this.name}" connection lost: ${reason}`, {
        backend: this.name,
      }),
    );
    if (this.connectedAt && Date.now() - this.connectedAt > STABLE_MS) this.backoffMs = BACKOFF_START_MS;
    this.connectedAt = 0;
    this.everSettled = true;
    void this.wire?.close();
    this.setState('down');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state === 'closed') return;
    // Jitter spreads the reconnects of many gateways (or many scoped upstreams) after a shared outage.
    const delay = jittered(this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.restarts++;
      void this.connect();
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  // Health checks use ping only: a stdio child is never re-initialized; a dead child restarts via exit.
  // One check at a time: pings to a frozen backend must not pile up (and each round counts once).
  private async checkHealth(): Promise<void> {
    if ((this.state !== 'ready' && this.state !== 'unhealthy') || !this.peer || this.checking) return;
    this.checking = true;
    try {
      await this.peer.request('ping', {}, healthProbeTimeoutMs(this.gw.operational, this.cfg.timeoutMs));
      this.healthFailures = 0;
      if (this.state === 'unhealthy') {
        this.setState('ready');
        this.log.info({}, 'backend healthy again');
      }
    } catch (err) {
      if (this.state !== 'ready' && this.state !== 'unhealthy') return;
      this.healthFailures++;
      const threshold = this.gw.operational.unhealthyThreshold;
      if (this.healthFailures >= threshold && this.state === 'ready') {
        this.lastError = `health check failed ${this.healthFailures} time(s): ${(err as Error).message}`;
        this.log.warn({ failures: this.healthFailures }, 'backend unhealthy');
        this.setState('unhealthy');
        // HTTP sessions may have expired: reconnecting is safe there at once.
        if (this.cfg.transport !== 'stdio') this.onDisconnect(this.lastError);
      } else if (this.state === 'unhealthy' && this.healthFailures >= threshold + restartBudget(threshold)) {
        // A stdio child that stays hung (not crashed) gets a further budget to recover, then a restart.
        this.lastError = `health check failed ${this.healthFailures} time(s) in a row: ${(err as Error).message}; restarting the hung backend`;
        this.log.warn({ failures: this.healthFailures }, 'backend still unhealthy; restarting it');
        this.onDisconnect(this.lastError);
      }
    } finally {
      this.checking = false;
    }
  }

  // Start-up is not a call: a cold child may need longer than a tight per-call timeout.
  private connectTimeoutMs(): number {
    return this.cfg.connectTimeoutMs ?? Math.max(this.cfg.timeoutMs, CONNECT_TIMEOUT_MS);
  }

  /** Waits for readiness; a client that cancels (or goes away) stops waiting at once. */
  private waitReady(timeoutMs: number, ctx?: CallContext): Promise<void> {
    if (this.state === 'failed' || this.state === 'closed' || this.state === 'unhealthy')
      return Promise.reject(this.notReadyError(0));
    if (ctx?.cancelled) return Promise.reject(cancelledError());
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const waiter = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        if (ctx) ctx.onCancel = undefined;
        if (this.state === 'ready') resolve();
        else reject(this.notReadyError(Date.now() - started));
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        if (ctx) ctx.onCancel = undefined;
        reject(this.notReadyError(timeoutMs));
      }, timeoutMs);
      this.waiters.add(waiter);
      // The upstream request sets its own hook once sent (Peer.request).
      if (ctx)
        ctx.onCancel = () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          reject(cancelledError());
        };
    });
  }

  private notReadyError(waitedMs: number): RpcError {
    const last = this.lastError ? `; last error: ${this.lastError}` : '';
    return new RpcError(
      ERR.TIMEOUT,
      `vmcp: backend "${this.name}" is not available (${this.state}) after ${waitedMs} ms (timeout ${this.cfg.timeoutMs} ms)${last}`,
      { backend: this.name, state: this.state, timeoutMs: this.cfg.timeoutMs },
    );
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private setState(state: BackendState): void {
    if (this.state === state || this.state === 'closed') return;
    this.state = state;
    this.events.onStateChange(this);
  }
}

/**
 * The deadline of one health probe: `healthCheckTimeout` when compiled in (the checks keep it below
 * the interval), else the smaller of the call timeout and the interval (at least 1 s).
 */
export function healthProbeTimeoutMs(
  op: Pick<CompiledGateway['operational'], 'healthCheckIntervalMs' | 'healthCheckTimeoutMs'>,
  callTimeoutMs: number,
): number {
  if (op.healthCheckTimeoutMs !== undefined && op.healthCheckTimeoutMs > 0) return op.healthCheckTimeoutMs;
  return Math.min(callTimeoutMs, Math.max(1000, op.healthCheckIntervalMs));
}

/** Further failed health checks an unhealthy stdio backend gets before it is restarted (as many again as made it unhealthy). */
export function restartBudget(unhealthyThreshold: number): number {
  return Math.max(1, unhealthyThreshold);
}

/** A backoff delay with equal jitter: uniformly in [delay/2, delay]. `random` is injectable for tests. */
export function jittered(delayMs: number, random: () => number = Math.random): number {
  return Math.round(delayMs / 2 + (random() * delayMs) / 2);
}

/**
 * Resolves like `p`, or rejects with `message` after `ms`; a value that arrives too late is handed
 * to `onLate` (to close a connection nobody waits for any more).
 */
export function withDeadline<T>(p: Promise<T>, ms: number, message: string, onLate: (value: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      reject(new Error(message));
    }, ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        if (expired) onLate(v);
        else resolve(v);
      },
      (err) => {
        clearTimeout(timer);
        if (!expired) reject(err);
      },
    );
  });
}

/** Timeouts, lost connections and transport errors count against the circuit; tool errors do not. */
function isInfrastructureFailure(err: unknown): boolean {
  if (!(err instanceof RpcError)) return true;
  const data = err.data as { vmcpTransport?: boolean; backend?: string } | undefined;
  return Boolean(data?.vmcpTransport || data?.backend);
}
