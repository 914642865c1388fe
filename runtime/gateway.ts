/**
 * The gateway core shared by the HTTP and stdio front ends: backends, router, catalog, sessions,
 * and the glue for upstream notifications and server→client requests.
 *
 * Over 300 lines: GatewayCore is the one object all runtime state hangs off (backends, sessions and their limits, per-session and per-subject upstreams, notification fan-out), so its bookkeeping stays together here.
 */
import { randomUUID } from 'node:crypto';
import { Catalog, own } from './catalog.ts';
import { LOG_LEVELS, type CallContext, type RequestOrigin } from './call-context.ts';
import { notificationJson, toRpcError } from './jsonrpc.ts';
import type { Logger } from './log.ts';
import { Metrics } from './ops/metrics.ts';
import { RequestMetrics, labelValue } from './ops/request-metrics.ts';
import type { Observer } from './observe.ts';
import { SUCCESS, fanOut } from './observers.ts';
import { StartupError } from './env.ts';
import { ERR, RpcError } from './jsonrpc.ts';
import type {
  Authorizer,
  IncomingAuth,
  JsonRpcMessage,
  Principal,
  ResolvedBackend,
  RuntimePlugins,
  SharedStore,
} from './plugins.ts';
import { Router } from './protocol/router.ts';
import { ProcessGroups } from './transports/process-groups.ts';
import { ModernCalls } from './protocol/calls.ts';
import type { Timers } from './protocol/timers.ts';
import { streamBound, type StreamBound } from './server/http-exchange.ts';
import { Session } from './protocol/session.ts';
import type { SessionKeys } from './session-keys.ts';
import type { RateLimiter } from './shared/rate-limit.ts';
import type { Optimizer } from './optimizer/optimizer.ts';
import type { CompiledGateway, RuntimeLimits } from './compiled-gateway.ts';
import { limitsOf } from './limits.ts';
import { Backend, type BackendEvents } from './backend/supervisor.ts';
import type { DriftItem, ItemKind } from './backend/drift.ts';

export { LEGACY_VERSIONS, MODERN_VERSIONS } from './protocol/envelope.ts';
import { LEGACY_VERSIONS, MODERN_VERSIONS } from './protocol/envelope.ts';
import { admissionRefusal } from './protocol/session-rules.ts';

const LIST_CHANGED: Record<ItemKind, string> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
  resourceTemplates: 'notifications/resources/list_changed',
};
const CAPABILITY_FOR: Record<string, string> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/** Node's timers for the protocol layer, unref'd: a pending expiry never holds the process open. */
const NODE_TIMERS: Timers = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

/** Session-scoped upstreams (sessionAffinity: per-session) idle this long are closed. */
export const SCOPED_IDLE_MS = 5 * 60_000;
/** Signed session ids a replica remembers as ended (DELETE) at most; the oldest go first. */
const MAX_REVOKED = 100_000;
/** Seconds a client told "too many sessions" is asked to wait (Retry-After). */
export const SESSIONS_RETRY_AFTER_S = 10;
/** Backends start once no client request came for this long after start-up… */
export const QUIET_MS = 10;
/** …or this long after start-up at the latest. */
export const START_DEFER_MS = 250;

/** Everything a front end needs. */
export class GatewayCore {
  readonly backends: Backend[];
  readonly router: Router;
  /** Limits on tools/call (rateLimiting): in this process, or in the shared store. */
  readonly rateLimiter?: RateLimiter;
  readonly catalog: Catalog;
  readonly metrics: Metrics;
  /** Per-request Prometheus series (always on). */
  readonly requestMetrics = new RequestMetrics();
  /** Every observer of requests: the Prometheus series, plus tracing and audit when configured. */
  readonly observer: Observer;
  readonly sessions = new Map<string, Session>();
  /** Process groups of every stdio child this gateway started (SIGKILLed if the process exits before closing them). */
  readonly processGroups = new ProcessGroups();
  /** The limits in force (operational.limits over the defaults). */
  readonly limits: RuntimeLimits;
  /** Live sessions per client key (an authenticated subject, else a remote address). */
  private readonly sessionsPerClient = new Map<string, number>();
  /** 2026 `subscriptions/listen` streams: a writer per subscription. */
  readonly listeners = new Set<(kind: ItemKind, json: string) => void>();
  /** Verifies incoming bearer tokens (incomingAuth oidc); undefined for anonymous gateways. */
  readonly incoming: IncomingAuth | undefined;
  /** The authorization policy (authz cedar); undefined when every caller may use every item. */
  readonly authorizer: Authorizer | undefined;
  /** 2026 calls in flight (for cancellation) and parked for input; per gateway, never process-wide. */
  readonly modernCalls: ModernCalls;
  /** The clock the protocol layer schedules on (node's, unref'd). */
  readonly timers: Timers = NODE_TIMERS;
  /** The SSE bound of 2026 call responses (one object: the log names the stream kind). */
  readonly callStreamBound: StreamBound;
  /** The same for 2025 POST answers that switched to SSE (the warning reads the session from the request). */
  readonly postStreamBound: StreamBound;
  /** Called when `drift: fail` trips during the first connect (the process stops). */
  onFatal: ((message: string) => void) | undefined;
  private readonly serverInfo: { name: string; version: string };

  constructor(
    readonly gw: CompiledGateway,
    resolved: ResolvedBackend[],
    plugins: RuntimePlugins,
    readonly log: Logger,
    /** Signed session ids (VMCP_SESSION_KEY): any replica with the key can serve a session. */
    readonly sessionKeys?: SessionKeys,
    /** State shared by replicas (sessionStorage redis): ended sessions and rate-limit buckets. */
    readonly sharedStore?: SharedStore,
    /**
     * Dev mode (`vmcp serve --watch`): the running gateway this one replaces. Its sessions, streams
     * and parked calls carry over, and so do its backends whose definition did not change.
     */
    handover?: GatewayCore,
  ) {
    this.limits = limitsOf(gw);
    if (gw.sharedStore && !sharedStore)
      throw new StartupError('sessionStorage redis is configured but no shared store was started');
    if (gw.rateLimits) {
      const limiter = sharedStore?.rateLimiter(gw.rateLimits) ?? plugins.rateLimiter?.(gw.rateLimits);
      if (!limiter) throw new StartupError('rateLimiting is configured but the bundle has no rate limiter');
      this.rateLimiter = limiter;
    }
    sharedStore?.onRevoked((sid, exp) => this.revokedElsewhere(sid, exp));
    const events: BackendEvents = {
      onStateChange: (b) => this.onStateChange(b),
      onNotification: (b, msg) => this.onNotification(b, msg),
      onServerRequest: (b, msg, target) => this.onServerRequest(b, msg, target),
      onFatalDrift: (b, items, atStartup) => this.onFatalDrift(b, items, atStartup),
    };
    this.backends = resolved.map((cfg, i) => {
      const kept = handover?.keepable(cfg, gw);
      if (kept) {
        this.adopted.add(kept);
        return kept;
      }
      const transport = plugins.transports[cfg.transport];
      if (!transport) throw new Error(`no transport plugin for "${cfg.transport}" (backend "${cfg.name}")`);
      return new Backend(i, cfg, transport, gw, events, log.child({ backend: cfg.name }), this.processGroups);
    });
    const ia = gw.incomingAuth;
    if (ia?.type === 'oidc' || ia?.type === 'local') {
      if (!plugins.incomingAuth)
        throw new StartupError(`incomingAuth ${ia.type} is configured but the bundle has no verifier for it`);
      this.incoming = plugins.incomingAuth(ia, log);
    }
    if (ia?.authz) {
      if (!plugins.authz)
        throw new StartupError(`incomingAuth.authz ${ia.authz.type} is configured but the bundle has no authorizer`);
      this.authorizer = plugins.authz(ia.authz, log);
    }
    // token_exchange upstreams are opened per caller on first use; the shared one never connects.
    for (const b of this.backends) if (b.cfg.outgoing?.perSubject) b.state = 'on-demand';
    this.metrics = new Metrics(resolved.map((b) => b.name));
    this.observer = fanOut([this.requestMetrics, ...(plugins.observers ?? []).map((make) => make(gw, log))], log);
    this.catalog = new Catalog(gw, this.backends, this.authorizer);
    this.router = new Router(
      gw,
      this.backends,
      this.catalog,
      this.metrics,
      (i, ctx) => this.pick(i, ctx),
      this.authorizer,
      this.workflowsOf(plugins, log),
      this.observer,
      this.rateLimiter && gw.rateLimits ? { limiter: this.rateLimiter, limits: gw.rateLimits } : undefined,
      this.optimizerOf(plugins),
    );
    this.transports = plugins;
    this.serverInfo = { name: gw.name, version: gw.vmcpVersion };
    this.modernCalls = handover?.modernCalls ?? new ModernCalls(this.limits, log, this.timers);
    if (handover) {
      // Shared, not copied: closures the old build left behind (a stream's end, a listener's
      // removal) still act on the live state.
      this.sessions = handover.sessions;
      this.sessionsPerClient = handover.sessionsPerClient;
      this.listeners = handover.listeners;
      this.revoked = handover.revoked;
      this.replica = handover.replica;
      for (const [k, v] of handover.replicaUrls) this.replicaUrls.set(k, v);
    }
    this.callStreamBound = streamBound(this.limits.maxStreamBufferBytes, log, { stream: '2026 call' });
    this.postStreamBound = streamBound(this.limits.maxStreamBufferBytes, log, { stream: '2025 POST' });
    // Last, once nothing above can throw: a build that fails leaves the running one untouched.
    this.backends.forEach((b, i) => this.adopted.has(b) && b.rebind(i, gw, events));
  }

  /** The workflow engine and its clock, when the gateway has composite tools. */
  /** The optimizer, when configured (its search index is loaded here, once). */
  private optimizerOf(plugins: RuntimePlugins): Optimizer | undefined {
    if (!this.gw.optimizer) return undefined;
    if (!plugins.optimizer) throw new StartupError('optimizer is configured but the bundle has no optimizer');
    return plugins.optimizer(this.gw.optimizer, this.gw, this.log.child({ component: 'optimizer' }));
  }

  private workflowsOf(plugins: RuntimePlugins, log: Logger) {
    if (!this.gw.composites?.length) return undefined;
    if (!plugins.composites)
      throw new StartupError('the gateway has composite tools but the bundle has no workflow engine');
    return {
      engine: plugins.composites,
      host: {
        timers: this.timers,
        now: Date.now,
        newId: randomUUID,
        log: log.child({ component: 'composite' }),
      },
    };
  }

  /** performance.now() of the latest request from a client (backends start in a quiet moment). */
  lastRequestAt = 0;

  /** Backends taken over from the build this one replaced (already running). */
  private readonly adopted = new Set<Backend>();

  /**
   * This gateway's running backend that a new build may take over: same name, same resolved
   * definition (endpoint, env, headers, auth, pinned item hashes) and the same supervision settings.
   */
  private keepable(cfg: ResolvedBackend, gw: CompiledGateway): Backend | undefined {
    const b = this.backends.find((x) => x.name === cfg.name);
    if (!b || b.state === 'closed' || b.state === 'failed') return undefined;
    return definitionOf(b.cfg) === definitionOf(cfg) &&
      supervisionOf(this.gw.operational) === supervisionOf(gw.operational)
      ? b
      : undefined;
  }

  /**
   * Dev mode, after `next` took over from this gateway: the kinds whose served list differs (or all
   * of them when the authorization policy changed), with list_changed sent to every session and
   * 2026 listener for each.
   */
  announceChanges(next: GatewayCore): ItemKind[] {
    const policyChanged = JSON.stringify(this.gw.incomingAuth?.authz) !== JSON.stringify(next.gw.incomingAuth?.authz);
    const changed = (Object.keys(LIST_CHANGED) as ItemKind[]).filter(
      (k) => policyChanged || this.catalog.listResult(k, false) !== next.catalog.listResult(k, false),
    );
    // resources and resourceTemplates share one notification: sent once.
    const sent = new Set<string>();
    for (const kind of changed) {
      if (sent.has(LIST_CHANGED[kind])) continue;
      sent.add(LIST_CHANGED[kind]);
      const json = notificationJson(LIST_CHANGED[kind], {});
      next.broadcast(json);
      for (const l of next.listeners) l(kind, json);
    }
    return changed;
  }

  /**
   * Dev mode, after `next` took over: stops what it did not keep (backends whose definition changed
   * or went away, once their calls in flight finish, and every scoped upstream, which the next call
   * reopens), and this build's shared store and observers. Sessions live on in `next`.
   */
  async retire(next: GatewayCore, graceMs: number): Promise<void> {
    clearInterval(this.sweeper);
    const kept = new Set(next.backends);
    const gone = [
      ...this.backends.filter((b) => !kept.has(b)),
      ...[...this.scoped.values()].flatMap((m) => [...m.values()]),
    ];
    this.scoped.clear();
    this.scopedCount = 0;
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && gone.some((b) => b.clientCalls() > 0)) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(gone.map((b) => b.close()));
    if (this.sharedStore !== next.sharedStore) await this.sharedStore?.close();
    await this.observer.close?.();
  }

  /** Starts every backend connecting in the background. */
  start(): void {
    // Clients first: initialize and the lists are answered from the compiled catalog, so backends
    // start in the first quiet moment (no request for QUIET_MS, at most START_DEFER_MS after start),
    // one per event-loop turn; children are spawned off this thread (transports/spawner.ts). A call
    // that needs a backend sooner starts it; a backend closed meanwhile ignores start().
    let next = 0;
    const startNext = () => {
      if (next >= this.backends.length) return;
      const b = this.backends[next++];
      if (b.state !== 'on-demand' && !this.adopted.has(b)) b.start();
      setImmediate(startNext);
    };
    const began = performance.now();
    const whenQuiet = () => {
      const now = performance.now();
      if (now - this.lastRequestAt < QUIET_MS && now - began < START_DEFER_MS) setTimeout(whenQuiet, QUIET_MS);
      else startNext();
    };
    setTimeout(whenQuiet, QUIET_MS);
    // Clients often vanish without DELETE: drop sessions idle for sessionIdleMs with no stream.
    const idleMs = this.limits.sessionIdleMs;
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.min(60_000, Math.floor(idleMs / 4))));
    this.sweeper.unref();
  }

  /** Drops idle sessions, and closes session-scoped upstreams idle for SCOPED_IDLE_MS. */
  private sweep(): void {
    const cutoff = Date.now() - this.limits.sessionIdleMs;
    for (const [id, s] of this.sessions) {
      if (s.lastSeen < cutoff && !s.push && s.inflight.size === 0 && id !== 'stdio') this.closeSession(id);
    }
    // Session-scoped children are costly: stop them sooner; the next call of the session reopens one.
    const scopedCutoff = Date.now() - Math.min(SCOPED_IDLE_MS, this.limits.sessionIdleMs);
    for (const [id, mine] of this.scoped) {
      const s = this.sessions.get(id);
      if (s && (s.lastSeen >= scopedCutoff || s.inflight.size > 0)) continue;
      if (!s && [...mine.values()].some((b) => (b.peer?.pending.size ?? 0) > 0 || b.lastUsed >= scopedCutoff)) continue;
      this.dropScoped(id);
    }
  }

  /**
   * Admits a new 2025-era session for `clientKey`, or says why not (the caller answers 503 with
   * Retry-After). Counted until closeSession.
   */
  admitSession(session: Session, clientKey: string): string | undefined {
    const mine = this.sessionsPerClient.get(clientKey) ?? 0;
    const refused = admissionRefusal({ total: this.sessions.size, byClient: mine }, this.limits);
    if (refused) return refused;
    if (this.replica) session.idPrefix = this.replica.prefix;
    session.clientKey = clientKey;
    this.sessionsPerClient.set(clientKey, mine + 1);
    this.sessions.set(session.id, session);
    return undefined;
  }

  /**
   * A session this replica does not hold, restored from its signed id (VMCP_SESSION_KEY): the id
   * carries the caller binding, capabilities and version. Undefined for an id that does not open
   * (unknown, forged, tampered, expired, or ended here with DELETE); `full` when the session limits
   * refuse it here (the caller answers 503 with Retry-After).
   */
  restoreSession(
    id: string,
    principalKey: string | undefined,
    remoteAddress: string | undefined,
  ): Session | 'full' | undefined {
    const claims = this.sessionKeys?.open(id);
    // Another caller's id is refused before it is admitted, so it cannot count against the owner.
    if (!claims || this.revoked.has(claims.sid) || claims.pk !== principalKey) return undefined;
    const session = new Session(id, claims.pv, claims.caps, this.timers);
    session.principalKey = claims.pk;
    session.sid = claims.sid;
    const refused = this.admitSession(session, claims.pk !== undefined ? `p:${claims.pk}` : `a:${remoteAddress ?? ''}`);
    if (refused) {
      this.noteRefusedSession(refused);
      return 'full';
    }
    this.log.debug({ session: claims.sid }, 'session restored from its signed id');
    return session;
  }

  /**
   * DELETE: ends the session, and with signed ids also refuses its id on this replica from now on
   * (without sessionStorage, other replicas accept it until it expires).
   */
  endSession(id: string): void {
    const claims = this.sessionKeys?.open(id);
    if (claims) {
      this.markRevoked(claims.sid, claims.exp);
      // With a shared store every replica hears of it; without one, only this replica refuses the id.
      this.sharedStore
        ?.revoke(claims.sid, claims.exp)
        .catch((err: Error) =>
          this.log.warn(
            { session: claims.sid, error: err.message },
            'session ended here, but the shared store could not record it: other replicas accept its id until it expires',
          ),
        );
    }
    this.closeSession(id);
  }

  /**
   * With a shared store, before a replica restores a session it has not seen: was it ended on
   * another replica? When the store cannot answer, the restore goes ahead (the id's signature and
   * expiry still hold); the store logs the outage.
   */
  async checkRevoked(id: string): Promise<void> {
    const store = this.sharedStore;
    if (!store || this.sessions.has(id)) return;
    const claims = this.sessionKeys?.open(id);
    if (!claims || this.revoked.has(claims.sid)) return;
    try {
      if (await store.isRevoked(claims.sid)) this.markRevoked(claims.sid, claims.exp);
    } catch {
      // Fails open, as documented in shared/redis.ts.
    }
  }

  /** Another replica ended session `sid`: refuse its id here and drop it if held. */
  private revokedElsewhere(sid: string, exp: number): void {
    this.markRevoked(sid, exp);
    for (const s of this.sessions.values())
      if (s.sid === sid) {
        s.endStream?.();
        this.closeSession(s.id);
      }
  }

  /** Refuses session `sid` on this replica until `exp` (bounded: the oldest entries go first). */
  private markRevoked(sid: string, exp: number): void {
    if (this.revoked.size >= MAX_REVOKED) {
      const now = Date.now() / 1000;
      for (const [sid, exp] of this.revoked) if (exp <= now) this.revoked.delete(sid);
      // Still full: forget the oldest (it expires first, as every id lives sessionMaxAge).
      for (const sid of this.revoked.keys()) {
        if (this.revoked.size < MAX_REVOKED) break;
        this.revoked.delete(sid);
      }
    }
    this.revoked.set(sid, exp);
  }

  /**
   * This replica's own URL and tag, when replicas can hand each other clients' answers (signed
   * sessions and a reachable address): server→client request ids and requestStates start with
   * `vmcp.<tag>.`, so whichever replica receives the answer can relay it here.
   */
  replica: { url: string; tag: string; prefix: string } | undefined;
  /** Requests relayed to the replica holding their call (relay.ts), for /metrics. */
  readonly relays = { ok: 0, failed: 0 };
  /** Tags of other replicas already opened (bounded): tag → URL. */
  private readonly replicaUrls = new Map<string, string>();

  /** Names this replica for relays; `url` is its /mcp URL as other replicas reach it. */
  setReplicaUrl(url: string): void {
    if (!this.sessionKeys) return;
    const tag = this.sessionKeys.sealReplica(url);
    this.replica = { url, tag, prefix: `vmcp.${tag}.` };
    this.modernCalls.tokenPrefix = this.replica.prefix;
  }

  /**
   * The URL of the replica a request belongs to, when it is another one: a 2025 client's answer to
   * a server→client request (its id), or a 2026 retry carrying a requestState. Undefined: serve it
   * here (ours, not tagged, already relayed once, or a tag that does not open with our keys).
   */
  relayTarget(msg: JsonRpcMessage, modern: boolean, relayed: boolean): string | undefined {
    if (!this.replica || relayed) return undefined;
    const ref = modern ? msg.params?.requestState : msg.method === undefined ? msg.id : undefined;
    if (typeof ref !== 'string' || !ref.startsWith('vmcp.')) return undefined;
    const end = ref.indexOf('.', 5);
    if (end < 0) return undefined;
    const tag = ref.slice(5, end);
    if (tag === this.replica.tag) return undefined;
    let url = this.replicaUrls.get(tag);
    if (url === undefined) {
      url = this.sessionKeys?.openReplica(tag);
      if (url === undefined) return undefined;
      if (this.replicaUrls.size >= 1024) this.replicaUrls.clear();
      this.replicaUrls.set(tag, url);
    }
    return url === this.replica.url ? undefined : url;
  }

  /** Backend and method pairs already logged as asked with no client call in flight (logged once). */
  private readonly idleAsks = new Set<string>();

  /** Signed session ids ended here with DELETE, until they expire (sid → exp, in Unix seconds). */
  private readonly revoked = new Map<string, number>();

  /** The buffer bound of one client SSE stream; `fields` name it in the one warning when a stalled reader is cut. */
  streamBoundFor(fields: Record<string, unknown>): StreamBound {
    return streamBound(this.limits.maxStreamBufferBytes, this.log, fields);
  }

  /**
   * Logs a refused initialize, at most once per 10 s with the count since the last line, so that a
   * session flood does not become a log flood.
   */
  noteRefusedSession(why: string): void {
    this.refused++;
    const now = Date.now();
    if (now - this.refusedLoggedAt < 10_000) return;
    this.log.warn({ sessions: this.sessions.size, refused: this.refused }, `initialize refused: ${why}`);
    this.refused = 0;
    this.refusedLoggedAt = now;
  }

  private refused = 0;
  private refusedLoggedAt = 0;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private readonly transports: RuntimePlugins;
  /**
   * Scoped upstreams, keyed by session id (`sessionAffinity: per-session`) or by `sub:` + the
   * caller's `(iss, sub)` (token_exchange: the backend sees one identity per connection), then
   * by backend index.
   */
  private readonly scoped = new Map<string, Map<number, Backend>>();
  /** Scoped upstreams held, across every key (bounded by maxScopedUpstreams). */
  private scopedCount = 0;

  /** The upstream a call uses: the caller's own connection for per-session and per-subject backends, else the shared one. */
  private pick(index: number, ctx: CallContext): Backend {
    const shared = this.backends[index];
    let key: string;
    let cfg = shared.cfg;
    if (shared.cfg.outgoing?.perSubject) {
      const p = ctx.principal;
      if (!p)
        throw new RpcError(
          ERR.INVALID_REQUEST,
          `vmcp: backend "${shared.name}" uses token exchange and needs an authenticated caller (incomingAuth oidc over HTTP)`,
          { backend: shared.name },
        );
      key = `sub:${p.key}`;
      const existing = this.scoped.get(key)?.get(index);
      if (existing) {
        // The client may have refreshed its token: exchanges from now on use the newest one.
        existing.cfg.subject!.current = p;
        existing.lastUsed = Date.now();
        return existing;
      }
      cfg = { ...shared.cfg, subject: { current: p } };
    } else if (shared.cfg.sessionAffinity === 'per-session' && ctx.sessionId !== undefined) key = ctx.sessionId;
    else return shared;
    let b = this.scoped.get(key)?.get(index);
    if (b) b.lastUsed = Date.now();
    else {
      this.makeScopedRoom(shared.name);
      let mine = this.scoped.get(key);
      if (!mine) this.scoped.set(key, (mine = new Map()));
      const events: BackendEvents = {
        onStateChange: (x) => x.state === 'ready' && this.router.replayLogLevel(x),
        onNotification: (x, msg) => this.onNotification(x, msg),
        onServerRequest: (x, msg, target) => this.onServerRequest(x, msg, target),
        onFatalDrift: (x, items) => this.onFatalDrift(x, items, false),
      };
      const tag = key.startsWith('sub:') ? { subject: ctx.principal!.sub } : { session: key.slice(0, 8) };
      b = new Backend(
        index,
        cfg,
        this.transports.transports[shared.cfg.transport]!,
        this.gw,
        events,
        this.log.child({ backend: shared.name, ...tag }),
        this.processGroups,
      );
      mine.set(index, b);
      this.scopedCount++;
      b.start();
    }
    return b;
  }

  /** An initialize the front end answered itself: observed as a request, and as the session's start. */
  observeInitialize(session: Session, msg: JsonRpcMessage, principal?: Principal, origin: RequestOrigin = {}): void {
    this.observer
      .request({
        method: 'initialize',
        modern: false,
        requestId: msg.id,
        sessionId: session.id,
        principal,
        ...origin,
        params: msg.params,
      })
      .end(SUCCESS);
    this.observer.event?.({
      type: 'session_start',
      sessionId: session.id,
      principal,
      remoteAddress: origin.remoteAddress,
    });
  }

  /** Ends a session: closes its session-scoped upstreams (kills their children). */
  closeSession(id: string): void {
    const s = this.sessions.get(id);
    s?.close();
    if (s) this.observer.event?.({ type: 'session_end', sessionId: id });
    if (s && this.sessions.delete(id) && s.clientKey !== undefined) {
      const n = (this.sessionsPerClient.get(s.clientKey) ?? 1) - 1;
      if (n > 0) this.sessionsPerClient.set(s.clientKey, n);
      else this.sessionsPerClient.delete(s.clientKey);
    }
    this.dropScoped(id);
    this.updateLogLevels();
  }

  /** Closes every scoped upstream under `key` (a session id or `sub:` + subject). */
  private dropScoped(key: string): void {
    const mine = this.scoped.get(key);
    if (!mine) return;
    this.scoped.delete(key);
    this.scopedCount -= mine.size;
    for (const b of mine.values()) void b.close();
  }

  /**
   * Makes room for one more scoped upstream under maxScopedUpstreams: closes the least recently
   * used one with no call in flight; throws when every one is busy.
   */
  private makeScopedRoom(backendName: string): void {
    if (this.scopedCount < this.limits.maxScopedUpstreams) return;
    let lru: { key: string; index: number; b: Backend } | undefined;
    for (const [key, mine] of this.scoped) {
      for (const [index, b] of mine) {
        if ((b.peer?.pending.size ?? 0) > 0 || b.state === 'connecting') continue;
        if (!lru || b.lastUsed < lru.b.lastUsed) lru = { key, index, b };
      }
    }
    if (!lru) {
      throw new RpcError(
        ERR.CONNECTION_CLOSED,
        `vmcp: cannot open another upstream connection to backend "${backendName}": all ${this.limits.maxScopedUpstreams} per-session/per-subject connections are busy (operational.limits.maxScopedUpstreams); retry shortly`,
        { backend: backendName, retryable: true },
      );
    }
    const mine = this.scoped.get(lru.key)!;
    mine.delete(lru.index);
    if (mine.size === 0) this.scoped.delete(lru.key);
    this.scopedCount--;
    lru.b.log.info(
      { limit: this.limits.maxScopedUpstreams },
      'closing the least recently used idle scoped upstream to make room',
    );
    void lru.b.close();
  }

  /** The serialized initialize result for a requested 2025-era version. */
  /** The 2025-era version `initialize` settles on for a requested one. */
  negotiatedVersion(requested: unknown): string {
    return typeof requested === 'string' && LEGACY_VERSIONS.includes(requested) ? requested : LEGACY_VERSIONS[0];
  }

  initializeResult(requested: unknown): string {
    const version = this.negotiatedVersion(requested);
    return JSON.stringify({
      protocolVersion: version,
      capabilities: this.gw.capabilities,
      serverInfo: this.serverInfo,
      ...(this.gw.instructions ? { instructions: this.gw.instructions } : {}),
    });
  }

  /** The serialized server/discover result (2026-07-28). */
  discoverResult(): string {
    return JSON.stringify({
      supportedVersions: MODERN_VERSIONS,
      capabilities: this.gw.capabilities,
      ...(this.gw.instructions ? { instructions: this.gw.instructions } : {}),
      resultType: 'complete',
      ttlMs: 0,
      cacheScope: 'public',
      _meta: { 'io.modelcontextprotocol/serverInfo': this.serverInfo },
    });
  }

  /** Set at SIGTERM: readiness turns 503 so load balancers move new requests to other replicas. */
  draining = false;

  /** True when the backends required by the failure mode are connected (and the gateway is not draining). */
  ready(): boolean {
    if (this.draining) return false;
    if (this.gw.operational.partialFailureMode === 'best_effort')
      return this.backends.every((b) => b.settled) && this.backends.some((b) => b.state === 'ready');
    // `required: false` and on-demand (per-caller) backends never hold readiness back.
    return this.backends.every((b) => b.cfg.required === false || b.state === 'ready' || b.state === 'on-demand');
  }

  /** The Prometheus page: per-backend series, per-request series, and the gauges read now. */
  metricsText(): string {
    const out = [
      this.metrics
        .render(this.backends.map((b) => ({ up: b.state === 'ready' ? 1 : 0, restarts: b.restarts })))
        .trimEnd(),
    ];
    this.requestMetrics.render(out);
    const label = (b: Backend) => `backend="${labelValue(b.name)}"`;
    out.push(
      '# HELP vmcp_backend_inflight_requests Upstream calls in flight to a backend.',
      '# TYPE vmcp_backend_inflight_requests gauge',
      ...this.backends.map(
        (b) => `vmcp_backend_inflight_requests{${label(b)}} ${this.requestMetrics.inflightTo(b.name)}`,
      ),
      '# HELP vmcp_backend_circuit_state Circuit breaker state: 0 closed, 1 half-open, 2 open.',
      '# TYPE vmcp_backend_circuit_state gauge',
      ...this.backends.map(
        (b) =>
          `vmcp_backend_circuit_state{${label(b)}} ${b.circuit.state === 'open' ? 2 : b.circuit.state === 'half-open' ? 1 : 0}`,
      ),
      '# HELP vmcp_backend_drift_blocked_items Catalog items blocked because they changed since compile.',
      '# TYPE vmcp_backend_drift_blocked_items gauge',
      ...this.backends.map((b) => `vmcp_backend_drift_blocked_items{${label(b)}} ${b.blocked.size}`),
      ...this.tokenCacheLines(label),
      '# HELP vmcp_sessions 2025-era sessions open.',
      '# TYPE vmcp_sessions gauge',
      `vmcp_sessions ${this.sessions.size}`,
      '# HELP vmcp_parked_calls 2026-era calls waiting for the client (input_required).',
      '# TYPE vmcp_parked_calls gauge',
      `vmcp_parked_calls ${this.modernCalls.parkedCount}`,
      ...this.sharedStateLines(),
    );
    return `${out.join('\n')}\n`;
  }

  /** Rate-limit refusals and the shared store's state, when configured. */
  private sharedStateLines(): string[] {
    const out: string[] = [];
    if (this.rateLimiter) {
      out.push(
        '# HELP vmcp_rate_limited_total tools/call refused by a rate limit, by tool and refusing bucket.',
        '# TYPE vmcp_rate_limited_total counter',
      );
      for (const [key, n] of this.router.rateLimited) {
        const [tool, limit] = key.split('\u0000');
        out.push(`vmcp_rate_limited_total{tool="${labelValue(tool)}",limit="${limit}"} ${n}`);
      }
    }
    if (this.replica)
      out.push(
        "# HELP vmcp_relayed_requests_total Clients' answers relayed to the replica holding their call, by outcome.",
        '# TYPE vmcp_relayed_requests_total counter',
        `vmcp_relayed_requests_total{outcome="ok"} ${this.relays.ok}`,
        `vmcp_relayed_requests_total{outcome="failed"} ${this.relays.failed}`,
      );
    this.router.optimizer?.metricLines(out);
    const store = this.sharedStore?.status();
    if (store)
      out.push(
        '# HELP vmcp_shared_store_up Whether the shared store (sessionStorage) is connected.',
        '# TYPE vmcp_shared_store_up gauge',
        `vmcp_shared_store_up{provider="${store.provider}"} ${store.connected ? 1 : 0}`,
        '# HELP vmcp_shared_store_errors_total Shared store commands and connections that failed.',
        '# TYPE vmcp_shared_store_errors_total counter',
        `vmcp_shared_store_errors_total{provider="${store.provider}"} ${store.errors}`,
      );
    return out;
  }

  /** Token cache hits and fetches of the backends whose outgoing auth fetches tokens. */
  private tokenCacheLines(label: (b: Backend) => string): string[] {
    const withCache = this.backends.filter((b) => b.cfg.outgoing?.cacheStats !== undefined);
    if (withCache.length === 0) return [];
    const stats = (b: Backend) => b.cfg.outgoing!.cacheStats!;
    return [
      '# HELP vmcp_token_cache_hits_total Outgoing-auth tokens served from the cache (token exchange, client credentials).',
      '# TYPE vmcp_token_cache_hits_total counter',
      ...withCache.map((b) => `vmcp_token_cache_hits_total{${label(b)}} ${stats(b).hits}`),
      '# HELP vmcp_token_cache_misses_total Outgoing-auth tokens fetched from the token endpoint.',
      '# TYPE vmcp_token_cache_misses_total counter',
      ...withCache.map((b) => `vmcp_token_cache_misses_total{${label(b)}} ${stats(b).misses}`),
    ];
  }

  /** Per-backend state for /status; never includes env, headers or other secrets. */
  status(): Record<string, unknown> {
    return {
      name: this.gw.name,
      version: this.gw.vmcpVersion,
      ready: this.ready(),
      sessions: this.sessions.size,
      ...(this.sharedStore ? { sharedStore: this.sharedStore.status() } : {}),
      ...(this.rateLimiter?.held !== undefined ? { rateLimitBuckets: this.rateLimiter.held } : {}),
      partialFailureMode: this.gw.operational.partialFailureMode,
      drift: this.gw.operational.drift,
      backends: this.backends.map((b) => ({
        name: b.name,
        transport: b.cfg.transport,
        state: b.state,
        circuit: b.circuit.state,
        restarts: b.restarts,
        pid: b.pid,
        inflight: b.peer?.pending.size ?? 0,
        clientCalls: b.clientCalls(),
        lastError: b.lastError,
        drift: b.drift,
        blocked: [...b.blocked],
        sessionScoped: [...this.scoped.values()].flatMap((m) => {
          const x = m.get(b.index);
          return x ? [{ state: x.state, pid: x.pid, inflight: x.peer?.pending.size ?? 0 }] : [];
        }),
      })),
    };
  }

  /** Recomputes the most verbose level wanted by any session and fans it out upstream. */
  updateLogLevels(): void {
    const levels: number[] = [];
    for (const s of this.sessions.values()) if (s.logLevel !== undefined) levels.push(s.logLevel);
    this.router.setUpstreamLogLevel(levels);
  }

  /** Sends a notification to every session's standalone stream. */
  broadcast(json: string, filter?: (s: Session) => boolean): void {
    for (const s of this.sessions.values()) if (s.push && (!filter || filter(s))) s.push(json);
  }

  /** Client calls in flight on every connection, shared and scoped (shutdown drains them, not handshakes). */
  inflightCalls(): number {
    let n = 0;
    for (const b of this.backends) n += b.clientCalls();
    for (const mine of this.scoped.values()) for (const b of mine.values()) n += b.clientCalls();
    return n;
  }

  /** Stops every backend (children are killed). */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.modernCalls.close();
    for (const s of this.sessions.values()) s.close();
    const scoped = [...this.scoped.values()].flatMap((m) => [...m.values()]);
    await Promise.all([...this.backends, ...scoped].map((b) => b.close()));
    await this.sharedStore?.close();
    // Last: exporters flush what the shutdown itself produced (bounded by their own timeouts).
    await this.observer.close?.();
  }

  private onStateChange(b: Backend): void {
    if (b.state === 'ready') this.router.replayLogLevel(b);
    for (const kind of this.catalog.invalidate()) {
      const json = notificationJson(LIST_CHANGED[kind], {});
      this.broadcast(json);
      for (const l of this.listeners) l(kind, json);
    }
  }

  private onNotification(b: Backend, msg: JsonRpcMessage): void {
    if (msg.method === 'notifications/message') {
      const level = LOG_LEVELS.indexOf(msg.params?.level);
      // A session with a call in flight on this backend gets the message on that call's stream,
      // before the call's answer; 2026 calls only when they opted in with a log level.
      const done = new Set<unknown>();
      for (const p of b.peer?.pending.values() ?? []) {
        const ctx = p.ctx;
        const key = ctx?.sessionId ?? ctx;
        if (!ctx || done.has(key)) continue;
        done.add(key);
        const min = ctx.sessionId !== undefined ? this.sessions.get(ctx.sessionId)?.logLevel : ctx.logLevel;
        if (ctx.sessionId === undefined && min === undefined) continue;
        if (min === undefined || level >= min) ctx.notify('notifications/message', msg.params);
      }
      const json = notificationJson('notifications/message', msg.params);
      this.broadcast(json, (s) => !done.has(s.id) && (s.logLevel === undefined || level >= s.logLevel));
    } else if (msg.method === 'notifications/resources/updated') {
      if (own(this.gw.resources, msg.params?.uri)) this.broadcast(notificationJson(msg.method, msg.params));
    }
    // list_changed is handled by the backend (drift re-check) and onStateChange (catalog diff).
  }

  private onServerRequest(b: Backend, msg: JsonRpcMessage, target: CallContext | undefined): void {
    const peer = b.peer;
    if (!peer) return;
    if (msg.method === 'ping') return peer.respond(msg.id, {});
    const capability = CAPABILITY_FOR[msg.method ?? ''];
    // No client call in flight at all (servers often ask for roots right after initialize): a
    // normal moment, not a fault. roots/list gets an empty list; anything else a clear refusal.
    if (!target && ![...peer.pending.values()].some((p) => p.ctx?.request)) {
      const key = `${b.name}\u0000${msg.method}`;
      if (!this.idleAsks.has(key)) {
        this.idleAsks.add(key);
        this.log.debug(
          { backend: b.name, method: msg.method },
          'server request with no client call in flight: answered by the gateway',
        );
      }
      if (msg.method === 'roots/list') return peer.respond(msg.id, { roots: [] });
      return peer.respondError(msg.id, {
        code: ERR.METHOD_NOT_FOUND,
        message: `vmcp: ${msg.method} from backend "${b.name}" needs a client to answer it, and no client call is in flight on this backend`,
      });
    }
    if (!target?.request || (capability && !target.clientCapabilities?.[capability])) {
      const why = !target
        ? 'no single client call in flight on this backend to route it to'
        : `the client did not declare the "${capability}" capability`;
      this.log.warn({ backend: b.name, method: msg.method }, `cannot route server request: ${why}`);
      return peer.respondError(msg.id, {
        code: -32603,
        message: `vmcp: cannot route ${msg.method} from backend "${b.name}": ${why}`,
      });
    }
    target.request(msg.method as string, msg.params).then(
      (result) => b.peer?.respond(msg.id, result),
      (err) => b.peer?.respondError(msg.id, toRpcError(err)),
    );
  }

  private onFatalDrift(b: Backend, items: DriftItem[], atStartup: boolean): void {
    const list = items
      .slice(0, 5)
      .map((i) => `${i.kind} "${i.name}" ${i.change}`)
      .join(', ');
    const message = `backend "${b.name}" drifted from the lock (drift: fail): ${list}${items.length > 5 ? ', …' : ''}; recompile with vmcp compile`;
    // At start-up the gateway refuses to run; later, only this backend is taken out of service.
    if (atStartup) this.onFatal?.(message);
    else this.log.error({ backend: b.name }, `${message}; backend marked failed`);
  }
}

/** A backend's resolved definition, for comparing two builds (instances and per-caller state left out). */
function definitionOf(cfg: ResolvedBackend): string {
  return JSON.stringify(cfg, (k, v) => (k === 'outgoing' || k === 'httpsAgent' || k === 'subject' ? undefined : v));
}

/** The settings a running backend's supervisor was started with. */
function supervisionOf(op: CompiledGateway['operational']): string {
  const { logLevel: _, ...rest } = op;
  return JSON.stringify(rest);
}
