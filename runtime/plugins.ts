/**
 * Plugin contracts between the generated module and the runtime. The generated module imports only
 * the transports and outgoing-auth strategies its config uses and hands them to `startGateway`, so
 * the bundle carries nothing else (index.ts never imports a transport or strategy statically).
 */
import type {
  CompiledAuthz,
  CompiledBackend,
  CompiledGateway,
  CompiledIncomingAuth,
  CompiledOutgoingAuth,
  CompiledOptimizer,
  CompiledRateLimits,
  CompiledSharedStore,
  TransportKind,
} from './compiled-gateway.ts';
import type { RateLimiter } from './shared/rate-limit.ts';
import type { Optimizer } from './optimizer/optimizer.ts';
import type { Logger } from './log.ts';
import type { runWorkflow } from './composite/engine.ts';
import type { Observer } from './observe.ts';
import type { ProcessGroups } from './transports/process-groups.ts';

/** A backend after start-up resolution: `${env:NAME}` references replaced, auth headers merged. */
export interface ResolvedBackend extends CompiledBackend {
  /** Child environment (stdio): default environment merged with the configured env. */
  resolvedEnv?: Record<string, string>;
  /** Request headers (HTTP): configured headers plus outgoing-auth headers. */
  resolvedHeaders: Record<string, string>;
  /** The outgoing-auth strategy instance, when it fetches per-request credentials. */
  outgoing?: OutgoingAuth;
  /** Largest upstream message accepted (operational.limits.maxMessageSize), in bytes. */
  maxMessageBytes: number;
  /** HTTPS with `caBundlePath`: an agent trusting the system roots plus that bundle (read at start-up). */
  httpsAgent?: import('node:https').Agent;
  /** For per-subject upstreams (token_exchange): the caller, updated with the latest token on each call. */
  subject?: { current: Principal | undefined };
}

/** Callbacks a transport uses to hand upstream traffic to the backend supervisor. */
export interface WireHooks {
  /** One parsed JSON-RPC message; `relatedId` is the upstream request id whose HTTP stream carried it. */
  onmessage(msg: JsonRpcMessage, relatedId?: number): void;
  /** The connection is gone (child exited, stream closed); in-flight calls fail at once. */
  onclose(reason: string): void;
  log: Logger;
  /** Where stdio transports register their children's process groups (the owner's, killed if this process exits). */
  processGroups?: ProcessGroups;
}

/** A live connection to one backend, speaking newline-free serialized JSON-RPC messages. */
export interface Wire {
  /**
   * Sends one serialized message; `id` is set when the message is a request (lets HTTP abort it).
   * `forward`: the calling client's passthrough headers, added to this request only (HTTP wires).
   */
  send(data: string, id?: number, forward?: Record<string, string>): void;
  /** Aborts the transport-level exchange of request `id` (HTTP: its own AbortController). */
  abort?(id: number): void;
  /** Tells HTTP wires the negotiated protocol version for the MCP-Protocol-Version header. */
  setProtocolVersion?(version: string): void;
  /** Closes the connection; for stdio, ends stdin, then SIGTERM, then SIGKILL. Idempotent. */
  close(): Promise<void>;
  /** Child process id (stdio only), for /status and orphan checks. */
  readonly pid?: number;
}

/** Opens a wire to a backend; resolves once messages can be sent. */
export type TransportFactory = (backend: ResolvedBackend, hooks: WireHooks) => Promise<Wire>;

/**
 * The authenticated caller of a request (incoming auth). Anonymous gateways have none.
 * The raw token is kept only as the subject token of an RFC 8693 exchange; it is never forwarded.
 */
export interface Principal {
  /** `${iss}\n${sub}`: 2025-era sessions are bound to it. */
  key: string;
  iss: string;
  sub: string;
  /** The verified JWT claims. */
  claims: Record<string, unknown>;
  /** The client's bearer token (the subject token for token_exchange). Never logged, never forwarded. */
  token: string;
  /** Seconds since the epoch when the token expires (`exp`), if it says. */
  exp?: number;
}

/** Why a request was refused by incoming auth: 401 (no/bad token) or 403 (insufficient scope). */
export class AuthFailure extends Error {
  constructor(
    readonly status: 401 | 403,
    /** RFC 6750 error code: invalid_request | invalid_token | insufficient_scope. */
    readonly error: 'invalid_request' | 'invalid_token' | 'insufficient_scope',
    message: string,
    /** Scopes to name in WWW-Authenticate (insufficient_scope). */
    readonly scope?: string,
  ) {
    super(message);
  }
}

/** Verifies the bearer tokens of incoming requests. */
export interface IncomingAuth {
  /** Resolves to the caller, or rejects with AuthFailure (never another error type). */
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** RFC 9728 Protected Resource Metadata for the resource `resourceUrl` (the gateway's /mcp URL); absent for `local`. */
  resourceMetadata?(resourceUrl: string): Record<string, unknown>;
}

/** Builds the incoming verifier at start-up (network fetches happen lazily, per request); `env` holds secrets named by `*Env`. */
export type IncomingAuthFactory = (auth: CompiledIncomingAuth, log: Logger, env?: NodeJS.ProcessEnv) => IncomingAuth;

/** Cedar's actions, as in ToolHive's entity model. */
export type AuthzAction = 'call_tool' | 'get_prompt' | 'read_resource';
/** The entity type of the resource an action is on. */
export type AuthzResourceType = 'Tool' | 'Prompt' | 'Resource';

/** Decides whether a caller may use an item; the same decision filters lists and gates calls. */
export interface Authorizer {
  /**
   * True when `principal` may perform `action` on `Type::"id"` (`id`: the exposed name or URI).
   * `args` are the call's arguments, when there are any (tools/call, prompts/get).
   * Fails closed: an evaluation error is a denial.
   */
  isAllowed(
    principal: Principal | undefined,
    action: AuthzAction,
    type: AuthzResourceType,
    id: string,
    args?: Record<string, unknown>,
  ): boolean;
}

/** Builds the authorizer at start-up; throws StartupError when policies or entities do not parse. */
export type AuthorizerFactory = (authz: CompiledAuthz, log: Logger) => Authorizer;

/** What an outgoing-auth strategy contributes to upstream HTTP requests. */
export interface OutgoingAuth {
  /** Static headers, resolved at start-up, sent on every request. */
  headers: Record<string, string>;
  /**
   * Per-request credentials for strategies that fetch tokens (client_credentials, token_exchange).
   * Called before every upstream HTTP request with the caller the upstream connection belongs to;
   * returns cached headers synchronously when it can. Rejects with an Error whose message names
   * the backend and the token endpoint's answer (never a secret).
   */
  credentials?(subject: Principal | undefined): Record<string, string> | Promise<Record<string, string>>;
  /** The backend answered 401: forget the cached token for this subject, so the next call refetches. */
  invalidate?(subject: Principal | undefined): void;
  /** Token cache counters of strategies that fetch tokens (token_exchange, client_credentials). */
  cacheStats?: { readonly hits: number; readonly misses: number };
  /** True when credentials need the caller's token (token_exchange): upstreams are opened per subject. */
  perSubject?: boolean;
}

/** Builds an outgoing-auth strategy at start-up; throws StartupError when a secret is missing. */
export type OutgoingAuthFactory = (
  auth: CompiledOutgoingAuth,
  backend: string,
  env: NodeJS.ProcessEnv,
  log?: Logger,
) => OutgoingAuth;

/** The strategies the generated module passes to `startGateway`. */
export interface RuntimePlugins {
  transports: Partial<Record<TransportKind, TransportFactory>>;
  outgoingAuth: Partial<Record<string, OutgoingAuthFactory>>;
  /** Present when the config uses `incomingAuth.type: oidc` (auth/in/oidc.ts) or `local` (auth/in/local.ts). */
  incomingAuth?: IncomingAuthFactory;
  /** Present when the config uses `incomingAuth.authz.type: cedar`. */
  authz?: AuthorizerFactory;
  /** Present when the config has composite tools: the workflow engine. */
  composites?: WorkflowEngine;
  /** Observers beyond the built-in Prometheus series (tracing, audit), present when configured. */
  observers?: ObserverFactory[];
  /** Present when the config has `rateLimiting` and no shared store: limits kept in this process. */
  rateLimiter?: (limits: CompiledRateLimits) => RateLimiter;
  /** Present when `sessionStorage.provider` is redis: revocation and rate limits shared by every replica. */
  sharedStore?: SharedStoreFactory;
  /** Present when the config has an enabled `optimizer`: find_tool / call_tool over the compiled index. */
  optimizer?: (cfg: CompiledOptimizer, gw: CompiledGateway, log: Logger) => Optimizer;
}

/**
 * State every replica shares (shared/redis.ts). Session ids stay self-contained (signed); the store
 * adds only what must be shared: which ids were ended with DELETE, and the rate-limit buckets.
 */
export interface SharedStore {
  /** A limiter whose buckets live in the store. */
  rateLimiter(limits: CompiledRateLimits): RateLimiter;
  /** Records that session `sid` was ended, until `exp` (Unix seconds), and tells every replica. Rejects when the store cannot. */
  revoke(sid: string, exp: number): Promise<void>;
  /** Whether any replica ended session `sid`. Rejects when the store cannot answer. */
  isRevoked(sid: string): Promise<boolean>;
  /** `listener` hears every session another replica ends (and this one's own). */
  onRevoked(listener: (sid: string, exp: number) => void): void;
  /** For /status and /metrics. */
  status(): { provider: string; connected: boolean; errors: number };
  close(): Promise<void>;
}

/** Connects to the shared store at start-up (never blocks on it: an unreachable store reconnects in the background). */
export type SharedStoreFactory = (
  cfg: CompiledSharedStore,
  ctx: { gateway: string; log: Logger; env: NodeJS.ProcessEnv },
) => SharedStore;

/** Makes an observer from the compiled gateway (it reads its own config block there). */
export type ObserverFactory = (gw: CompiledGateway, log: Logger) => Observer;

/** Runs one composite tool call (runtime/composite/engine.ts); bundled only for configs with composites. */
export type WorkflowEngine = typeof runWorkflow;

/** A JSON-RPC 2.0 message as it travels (loosely typed on purpose: no validation on the hot path). */
export interface JsonRpcMessage {
  jsonrpc?: '2.0';
  id?: string | number | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}
