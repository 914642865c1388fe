/**
 * The error a call refused by a rate limit gets, in ToolHive's shape. Kept apart from the limiters so
 * the router can name it without bundling a limiter into gateways that have no `rateLimiting`.
 */
import { RpcError } from '../jsonrpc.ts';

/** ToolHive's JSON-RPC code for a rate-limited call (kept for wire compatibility), sent with HTTP 429. */
export const RATE_LIMITED = -32029;

/** Which bucket refused a call, for logs and metrics: a bounded set ('store': the shared store could not answer). */
export type BucketScope = 'global' | 'perUser' | 'tool' | 'toolPerUser' | 'store';

/** A refused call: how long until the refusing bucket holds a token again. */
export interface Refusal {
  retryAfterSeconds: number;
  scope: BucketScope;
}

/** Code -32029, message "Rate limit exceeded", `data.retryAfterSeconds` (ToolHive's); the HTTP front end adds 429 and Retry-After. */
export function rateLimitedError(refusal: Refusal, tool: string): RpcError {
  return new RpcError(
    RATE_LIMITED,
    refusal.scope === 'store'
      ? 'Rate limit exceeded: the rate-limit store cannot answer (rateLimiting.onStoreError is deny); retry shortly'
      : 'Rate limit exceeded',
    { retryAfterSeconds: refusal.retryAfterSeconds, tool, limit: refusal.scope },
  );
}
