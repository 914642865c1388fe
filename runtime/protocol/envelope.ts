/**
 * The protocol revisions served and the 2026-07-28 per-request envelope: which era a message
 * belongs to and whether its envelope is well formed. Pure: no sockets, processes or timers.
 */
import { ERR, RpcError } from '../jsonrpc.ts';
import type { JsonRpcMessage } from '../plugins.ts';

/** 2025-era revisions accepted at initialize, newest first. */
export const LEGACY_VERSIONS: readonly string[] = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
/** 2026-era revisions served statelessly. */
export const MODERN_VERSIONS: readonly string[] = ['2026-07-28'];

/** The reserved `_meta` keys of the 2026-07-28 envelope. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** True when a message claims the 2026 envelope. */
export function isModernMessage(msg: JsonRpcMessage): boolean {
  const meta = msg.params?._meta;
  return meta !== null && typeof meta === 'object' && META.protocolVersion in meta;
}

/** Validates the envelope of a modern request; throws RpcError with the HTTP status in `data.status`. */
export function checkEnvelope(msg: JsonRpcMessage): void {
  const meta = msg.params._meta;
  const version = meta[META.protocolVersion];
  if (typeof version !== 'string')
    throw new RpcError(
      ERR.INVALID_PARAMS,
      `Invalid _meta envelope for protocol revision 2026-07-28: ${META.protocolVersion}: expected a string`,
    );
  if (!MODERN_VERSIONS.includes(version)) {
    throw new RpcError(ERR.UNSUPPORTED_PROTOCOL_VERSION, `Unsupported protocol version: ${version}`, {
      supported: MODERN_VERSIONS,
      requested: version,
    });
  }
  const caps = meta[META.clientCapabilities];
  if (caps === null || typeof caps !== 'object' || Array.isArray(caps)) {
    throw new RpcError(
      ERR.INVALID_PARAMS,
      `Invalid _meta envelope for protocol revision 2026-07-28: ${META.clientCapabilities}: ${caps === undefined ? 'missing' : 'expected an object'}`,
    );
  }
}
