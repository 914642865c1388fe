/**
 * The data contract between the compiler and the runtime. The generated routing module is an
 * object of type `CompiledGateway`; the runtime reads it and holds no other knowledge of the config.
 * This file has only type imports so that both sides can share it without pulling code into the bundle.
 */
import type { CompositePlan } from './composite/plan.ts';

/** How the gateway talks to one backend. */
export type TransportKind = 'stdio' | 'sse' | 'streamable-http';

/** Outgoing auth strategy names, as written in `outgoingAuth`. */
export type OutgoingAuthKind = 'unauthenticated' | 'header_injection' | 'token_exchange' | 'client_credentials';

/** What the runtime does when a live catalog differs from the lock. */
export type DriftPolicy = 'fail' | 'warn' | 'block-changed';

/** Outgoing auth as compiled: secret values are never here, only env variable names. */
export interface CompiledOutgoingAuth {
  type: OutgoingAuthKind;
  headerName?: string;
  /** A literal header value; may contain `${env:NAME}` references resolved at start-up. */
  headerValue?: string;
  headerValueEnv?: string;
  tokenUrl?: string;
  clientId?: string;
  clientSecretEnv?: string;
  audience?: string;
  scopes?: string[];
  subjectTokenType?: string;
}

/** How to reach a backend: stdio takes command/args/env/cwd, HTTP takes url/headers. */
export interface BackendEndpoint {
  name: string;
  transport: TransportKind;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  headers?: Record<string, string>;
  /** HTTPS: a PEM CA bundle added to the trusted roots, read at start-up (may hold `${env:NAME}`). */
  caBundlePath?: string;
}

/** A backend as the runtime needs it. Strings may hold `${env:NAME}` references. */
export interface CompiledBackend extends BackendEndpoint {
  /** Per-call timeout in milliseconds. */
  timeoutMs: number;
  /** Deadline for connecting and initializing (default: the larger of timeoutMs and 10 s). */
  connectTimeoutMs?: number;
  /** Upstream connection per downstream session ('per-session') or one for all ('shared', default). */
  sessionAffinity?: SessionAffinity;
  /** False when /readyz should not wait for this backend (default true). */
  required?: boolean;
  auth: CompiledOutgoingAuth;
  /** The backend's catalog hash from the lock; empty when the lock records it as absent. */
  catalogHash: string;
  /** Per-item content hashes from the lock, keyed by original name (tools, prompts) or URI. */
  itemHashes: {
    tools: Record<string, string>;
    prompts: Record<string, string>;
    resources: Record<string, string>;
    resourceTemplates: Record<string, string>;
  };
}

/** Where an exposed name goes: a backend index into `CompiledGateway.backends` and the original name. */
export interface Route {
  backend: number;
  name: string;
}

/** A resource template route: the URI is matched against `pattern` (a RegExp source, anchored). */
export interface TemplateRoute {
  uriTemplate: string;
  pattern: string;
  backend: number;
}

/** Incoming OIDC/JWT validation as compiled (no secrets: the gateway validates, it holds no keys). */
export interface CompiledOidc {
  issuer: string;
  /** The `aud` a token must carry: this gateway. */
  audience: string;
  /** JWKS location; when absent, discovered from `${issuer}/.well-known/openid-configuration`. */
  jwksUrl?: string;
  /** Scopes every token must carry (space-separated `scope` or `scp` array claim). */
  scopes: string[];
  /** Accepted JWS algorithms (asymmetric only unless configured). */
  allowedAlgorithms: string[];
  clockSkewMs: number;
  /** The protected resource identifier served in RFC 9728 metadata; default: the request's /mcp URL. */
  resource?: string;
  /** Allows http:// issuer and JWKS URLs that are not loopback. */
  insecureAllowHttp: boolean;
  /** RFC 7662 endpoint for bearer tokens that are not JWTs; absent: only JWTs are accepted. */
  introspectionUrl?: string;
  /** Client id for the introspection call (HTTP Basic with the secret from `clientSecretEnv`). */
  clientId?: string;
  /** The env variable holding the introspection client secret (the value is never in the bundle). */
  clientSecretEnv?: string;
  /** A PEM CA bundle added to the trusted roots of discovery, JWKS and introspection fetches (read at start-up). */
  caBundlePath?: string;
}

/** Cedar authorization as compiled: policy text is data, checked against the catalog at compile time. */
export interface CompiledAuthz {
  type: 'cedar';
  policies: string[];
  /** Extra entities, as Cedar JSON (a string, passed through). */
  entitiesJson: string;
  groupClaimName?: string;
  roleClaimName?: string;
  groupEntityType?: string;
}

/** Who may call the gateway, and what they may do. */
export interface CompiledIncomingAuth {
  /** `local`: no token check; every request is the local OS user (ToolHive's local auth). */
  type: 'anonymous' | 'oidc' | 'local';
  oidc?: CompiledOidc;
  authz?: CompiledAuthz;
}

/** Everything the runtime serves, decided at compile time. */
export interface CompiledGateway {
  name: string;
  vmcpVersion: string;
  /** The MCP capabilities advertised downstream (the union of what the backends offer). */
  capabilities: Record<string, unknown>;
  instructions?: string;
  backends: CompiledBackend[];
  /** Incoming authentication and authorization; absent means anonymous with no authorization. */
  incomingAuth?: CompiledIncomingAuth;
  /** Client request headers (lowercase, sorted) forwarded to HTTP backends on each call; absent: none. */
  passthroughHeaders?: string[];
  tools: Record<string, Route>;
  prompts: Record<string, Route>;
  resources: Record<string, Route>;
  resourceTemplates: TemplateRoute[];
  /**
   * Composite tools (workflows over the backends' tools), compiled; absent when there are none. Their
   * definitions are part of `lists.tools`; a composite's name never collides with a routed tool.
   */
  composites?: CompositePlan[];
  /** Pre-serialized JSON arrays for each list result, exactly as served. */
  lists: {
    tools: string;
    prompts: string;
    resources: string;
    resourceTemplates: string;
  };
  /** OpenTelemetry export (the `telemetry` block); absent: no tracing or OTLP metrics, and none bundled. */
  telemetry?: CompiledTelemetry;
  /** The audit log (the `audit` block with `enabled: true`); absent: no audit, and none bundled. */
  audit?: CompiledAudit;
  /** find_tool / call_tool over a compiled search index (`optimizer`); absent: the tools are listed as usual. */
  optimizer?: CompiledOptimizer;
  /** Token-bucket limits on tools/call (`rateLimiting`); absent: none, and no limiter bundled. */
  rateLimits?: CompiledRateLimits;
  /** State shared by replicas (`sessionStorage` provider redis); absent: nothing shared, and no Redis client bundled. */
  sharedStore?: CompiledSharedStore;
  operational: {
    drift: DriftPolicy;
    partialFailureMode: 'fail' | 'best_effort';
    healthCheckIntervalMs: number;
    /** The deadline of one health probe (ping); absent: the smaller of the call timeout and the interval. */
    healthCheckTimeoutMs?: number;
    /** The log level from `operational.logLevel`; the env variable VMCP_LOG_LEVEL overrides it. */
    logLevel?: 'debug' | 'info' | 'warn' | 'error';
    unhealthyThreshold: number;
    circuitBreaker: { enabled: boolean; failureThreshold: number; timeoutMs: number };
    /** Resource bounds; a missing field takes its default (runtime/limits.ts). */
    limits?: Partial<RuntimeLimits>;
  };
}

/** Bounds that keep one client or one backend from exhausting the gateway (`operational.limits`). */
export interface RuntimeLimits {
  /** Largest upstream message accepted: a stdio line, an HTTP body or an SSE event. */
  maxMessageBytes: number;
  /** 2025-era sessions held at once; `initialize` beyond it gets 503 with Retry-After. */
  maxSessions: number;
  /** Sessions held at once by one caller (an authenticated subject, else a remote address). */
  maxSessionsPerClient: number;
  /** A session with no request and no open stream for this long is dropped. */
  sessionIdleMs: number;
  /** How long a signed session id (VMCP_SESSION_KEY) stays valid after initialize, on every replica. */
  sessionMaxAgeMs: number;
  /** Per-session and per-subject upstream connections held at once (the LRU idle one is closed). */
  maxScopedUpstreams: number;
  /** 2026-era calls parked for input (input_required) held at once. */
  maxParkedCalls: number;
  /** Bytes buffered on one downstream SSE stream before a stalled reader's stream is ended. */
  maxStreamBufferBytes: number;
}

/**
 * Optional runtime fields (added by the runtime; the compiler may emit them).
 * `CompiledBackend.sessionAffinity`: 'shared' (default) keeps one upstream connection per backend;
 * 'per-session' gives every 2025-era downstream session its own upstream (a child process per
 * session for stdio), so sampling, elicitation and roots requests always reach the right session.
 */
export type SessionAffinity = 'shared' | 'per-session';

/** OpenTelemetry as compiled from ToolHive's `telemetry` block. */
export interface CompiledTelemetry {
  /** OTLP/HTTP base URL (ToolHive's `host:port`, with `insecure: true` meaning http://). */
  endpoint: string;
  serviceName: string;
  serviceVersion?: string;
  tracingEnabled: boolean;
  metricsEnabled: boolean;
  /** Head sampling ratio of new traces, 0..1 (a caller's sampled flag is respected). */
  samplingRate: number;
  /** Exporter headers; values may hold `${env:NAME}` references, resolved at start-up. */
  headers?: Record<string, string>;
  /** Extra resource attributes. */
  customAttributes?: Record<string, string>;
  /** Names of environment variables whose values (read at start-up) become resource attributes. */
  environmentVariables?: string[];
  /** A PEM file of CAs to trust for the collector, read at start-up. */
  caCertPath?: string;
}

/** The audit log as compiled from ToolHive's `audit` block. */
export interface CompiledAudit {
  /** ToolHive's `component` field of every event (default: the gateway name). */
  component: string;
  /** Only these event types (empty: all). */
  eventTypes: string[];
  excludeEventTypes: string[];
  includeRequestData: boolean;
  includeResponseData: boolean;
  /** A tool result with `isError: true` is audited as a failure (ToolHive's detectApplicationErrors). */
  detectApplicationErrors: boolean;
  /** Bytes of request or response data kept per event. */
  maxDataSize: number;
  /** A file to append to; absent: stderr. */
  logFile?: string;
  /** Claims copied into an event's subject besides iss and sub. */
  claims: string[];
}

/** A token bucket: `maxTokens` calls, refilled evenly over `refillMs`. */
export interface CompiledBucket {
  maxTokens: number;
  refillMs: number;
}

/** ToolHive's `rateLimiting`, resolved: `shared` folded into `global`, tool names checked against the catalog. */
export interface CompiledRateLimits {
  /** One bucket for every tools/call. */
  global?: CompiledBucket;
  /** One bucket per authenticated caller. */
  perUser?: CompiledBucket;
  /** Buckets for one exposed tool, on top of the gateway-wide ones. */
  tools: Record<string, { global?: CompiledBucket; perUser?: CompiledBucket }>;
  /** With a shared store: what a call gets when the store cannot answer. */
  onStoreError: 'allow' | 'deny';
}

/** `sessionStorage` with provider redis. The password is read from `passwordEnv` at start-up, never compiled in. */
export interface CompiledSharedStore {
  provider: 'redis';
  host: string;
  port: number;
  db: number;
  keyPrefix: string;
  passwordEnv: string;
  tls: boolean;
}

/** The optimizer as compiled: the search index of every exposed tool, and what find_tool needs besides. */
export interface CompiledOptimizer {
  maxToolsToReturn: number;
  /** The search index of the exposed tools (routed and composite): BM25F weights, serialized (runtime/optimizer/search.ts). */
  index: string;
  /** Estimated tokens of each exposed tool's definition (its JSON length / 4, as ToolHive counts), by name. */
  tokens: Record<string, number>;
  /** Hybrid search: the embedding service for queries, and each tool's pinned vector (base64 float32, unit length). */
  embedding?: {
    provider: 'tei' | 'openai';
    url: string;
    model?: string;
    /** Values may hold `${env:NAME}` references (resolved at start-up). */
    headers: Record<string, string>;
    timeoutMs: number;
    /** Weight of semantic similarity against the lexical rank, 0..1. */
    semanticRatio: number;
    /** Cosine distance above which a tool is not a semantic match. */
    distanceThreshold: number;
    vectors: Record<string, string>;
  };
}
