/**
 * What observers (Prometheus metrics, OpenTelemetry, the audit log) see of the gateway's work. The
 * router reports each downstream request and each upstream call through these hooks; the front
 * ends report what never reaches the router (authentication failures, session starts). Types only:
 * an observer is a plugin, bundled only when the config uses it, and the gateway calls it through
 * `Observers`, which costs one branch per request when there is none.
 */
import type { TransportKind } from './compiled-gateway.ts';
import type { Principal } from './plugins.ts';

/** How a request ended: served, failed at a backend or in a workflow, refused by policy, or malformed. */
export type Outcome = 'success' | 'failure' | 'denied' | 'error';

/** What kind of catalog item a request names. */
export type TargetKind = 'tool' | 'prompt' | 'resource' | 'resourceTemplate' | 'composite';

/** A downstream request as it starts. */
export interface RequestStart {
  method: string;
  /** The exposed name or URI the request names, when the catalog has it (never unbounded client input). */
  target?: string;
  targetKind?: TargetKind;
  /** Where it routes (absent for lists, composites and names not in the catalog). */
  backend?: string;
  original?: string;
  requestId?: string | number | null;
  sessionId?: string;
  principal?: Principal;
  /** The protocol era of the request: 2025 sessions or 2026 stateless calls. */
  modern: boolean;
  remoteAddress?: string;
  /** W3C trace context of the caller, from the `traceparent` header or `params._meta`. */
  traceparent?: string;
  tracestate?: string;
  /** The request's params, for observers that record request data (audit opt-in). */
  params?: unknown;
}

/** The end of a request or an upstream call. */
export interface Ending {
  outcome: Outcome;
  /** A short, bounded error class: `timeout`, `connection`, `rpc_-32602`, `forbidden`, `tool_error`, … */
  errorType?: string;
  message?: string;
  /** The serialized result, for observers that record response data (audit opt-in). */
  result?: unknown;
}

/** An upstream call made for a request: the trace context to send, and its end. */
export interface UpstreamSpan {
  /** The `traceparent` to pass to the backend (header for HTTP, `params._meta` for stdio). */
  traceparent?: string;
  end(e: Ending): void;
}

/** One request in flight. */
export interface RequestSpan {
  upstream(backend: string, transport: TransportKind, method: string, name: string): UpstreamSpan;
  /** A composite tool's step finished, or its run did (reported before the request ends). */
  workflow?(e: WorkflowEvent): void;
  end(e: Ending): void;
}

/** A workflow step (when `step` is set) or the whole run, for workflow spans and metrics. */
export interface WorkflowEvent {
  workflow: string;
  step?: string;
  outcome: Outcome;
  /** How long it ran, in seconds; it ended just now. */
  seconds: number;
  /** Why it failed, when it did. */
  message?: string;
}

/** Something that happened outside any request: a refused token, a session started or ended. */
export interface GatewayEvent {
  type: 'auth_failure' | 'session_start' | 'session_end';
  remoteAddress?: string;
  principal?: Principal;
  sessionId?: string;
  reason?: string;
}

/** One observer; every hook is optional except `request`. */
export interface Observer {
  request(start: RequestStart): RequestSpan;
  event?(e: GatewayEvent): void;
  /** Flushes and stops (gateway shutdown); never throws. */
  close?(): Promise<void>;
}
