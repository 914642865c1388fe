/**
 * Plugin contracts between the generated module and the runtime. The generated module imports only
 * the transports and outgoing-auth strategies its config uses and hands them to `startGateway`, so
 * the bundle carries nothing else (index.ts never imports a transport or strategy statically).
 */
import type { CompiledBackend, CompiledOutgoingAuth, TransportKind } from './types.ts';
import type { Logger } from './log.ts';

/** A backend after start-up resolution: `${env:NAME}` references replaced, auth headers merged. */
export interface ResolvedBackend extends CompiledBackend {
  /** Child environment (stdio): default environment merged with the configured env. */
  resolvedEnv?: Record<string, string>;
  /** Request headers (HTTP): configured headers plus outgoing-auth headers. */
  resolvedHeaders: Record<string, string>;
}

/** Callbacks a transport uses to hand upstream traffic to the backend supervisor. */
export interface WireHooks {
  /** One parsed JSON-RPC message; `relatedId` is the upstream request id whose HTTP stream carried it. */
  onmessage(msg: JsonRpcMessage, relatedId?: number): void;
  /** The connection is gone (child exited, stream closed); in-flight calls fail at once. */
  onclose(reason: string): void;
  log: Logger;
}

/** A live connection to one backend, speaking newline-free serialized JSON-RPC messages. */
export interface Wire {
  /** Sends one serialized message; `id` is set when the message is a request (lets HTTP abort it). */
  send(data: string, id?: number): void;
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

/** What an outgoing-auth strategy contributes to every upstream HTTP request. */
export interface OutgoingAuth {
  headers: Record<string, string>;
}

/** Builds an outgoing-auth strategy at start-up; throws StartupError when a secret is missing. */
export type OutgoingAuthFactory = (auth: CompiledOutgoingAuth, backend: string, env: NodeJS.ProcessEnv) => OutgoingAuth;

/** The strategies the generated module passes to `startGateway`. */
export interface RuntimePlugins {
  transports: Partial<Record<TransportKind, TransportFactory>>;
  outgoingAuth: Partial<Record<string, OutgoingAuthFactory>>;
}

/** A JSON-RPC 2.0 message as it travels (loosely typed on purpose: no validation on the hot path). */
export interface JsonRpcMessage {
  jsonrpc?: '2.0';
  id?: string | number | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}
