/**
 * Token-bucket rate limits on tools/call, as ToolHive's `rateLimiting` defines them: a gateway-wide
 * bucket, one per caller, and the same two per tool. A call takes one token from every bucket that
 * applies, or from none: a call refused by a per-tool bucket does not drain the gateway-wide one.
 *
 * This module is the in-memory limiter (one replica) and the pieces the Redis limiter shares with it
 * (which buckets apply, the refused-call error). Bundled only for configs with `rateLimiting`.
 */
import type { CompiledBucket, CompiledRateLimits } from '../compiled-gateway.ts';
import type { BucketScope, Refusal } from './rate-limited.ts';

export type { BucketScope, Refusal } from './rate-limited.ts';

/** One bucket that applies to a call: where its state lives, and its shape. */
export interface AppliedBucket {
  /** The state key: scope, tool and caller, without any store prefix. */
  key: string;
  scope: BucketScope;
  spec: CompiledBucket;
}

/** Takes a token for one tools/call, or says why not. The Redis limiter answers asynchronously. */
export interface RateLimiter {
  take(tool: string, userKey: string | undefined): Refusal | undefined | Promise<Refusal | undefined>;
  /** Buckets held (memory) for /status; undefined when the state lives elsewhere. */
  readonly held?: number;
}

/** The buckets that apply to a call of `tool` by `userKey` (undefined: anonymous), in a fixed order. */
export function bucketsFor(limits: CompiledRateLimits, tool: string, userKey: string | undefined): AppliedBucket[] {
  const out: AppliedBucket[] = [];
  const t = Object.hasOwn(limits.tools, tool) ? limits.tools[tool] : undefined;
  if (limits.global) out.push({ key: 'global', scope: 'global', spec: limits.global });
  if (t?.global) out.push({ key: `tool:${tool}`, scope: 'tool', spec: t.global });
  if (userKey !== undefined) {
    // The caller's key (iss + sub, or its hash in a shared store) is an opaque string here.
    if (limits.perUser) out.push({ key: `user:${userKey}`, scope: 'perUser', spec: limits.perUser });
    if (t?.perUser) out.push({ key: `user-tool:${tool}:${userKey}`, scope: 'toolPerUser', spec: t.perUser });
  }
  return out;
}

/** Seconds until a bucket holding `tokens` has one again (at least 1, as Retry-After counts whole seconds). */
export function retryAfterSeconds(tokens: number, spec: CompiledBucket): number {
  const msPerToken = spec.refillMs / spec.maxTokens;
  // Whole milliseconds first: 0.05 of a 20 s token is 1000.0000000000009 ms in floating point.
  return Math.max(1, Math.ceil(Math.round((1 - tokens) * msPerToken) / 1000));
}

interface BucketState {
  tokens: number;
  at: number;
}

/** Buckets held at once before full (idle) ones are dropped; dropping a bucket only refills it. */
export const MAX_MEMORY_BUCKETS = 100_000;

/**
 * Limits kept in this process: exact on one replica; with N replicas and no shared store, each
 * replica allows the full rate. `now` is injectable for tests.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly state = new Map<string, BucketState>();

  constructor(
    private readonly limits: CompiledRateLimits,
    private readonly now: () => number = Date.now,
    private readonly maxBuckets = MAX_MEMORY_BUCKETS,
  ) {}

  get held(): number {
    return this.state.size;
  }

  take(tool: string, userKey: string | undefined): Refusal | undefined {
    const buckets = bucketsFor(this.limits, tool, userKey);
    if (buckets.length === 0) return undefined;
    const now = this.now();
    const levels = buckets.map((b) => this.level(b, now));
    const refused = levels.findIndex((tokens) => tokens < 1);
    buckets.forEach((b, i) => this.store(b.key, levels[i] - (refused < 0 ? 1 : 0), now));
    if (refused < 0) return undefined;
    return {
      retryAfterSeconds: retryAfterSeconds(levels[refused], buckets[refused].spec),
      scope: buckets[refused].scope,
    };
  }

  /** Tokens in a bucket now: what it held, plus the refill since, capped at capacity. A new bucket is full. */
  private level(b: AppliedBucket, now: number): number {
    const s = this.state.get(b.key);
    if (!s) return b.spec.maxTokens;
    const refill = ((now - s.at) * b.spec.maxTokens) / b.spec.refillMs;
    return Math.min(b.spec.maxTokens, s.tokens + Math.max(0, refill));
  }

  private store(key: string, tokens: number, now: number): void {
    const s = this.state.get(key);
    if (s) {
      s.tokens = tokens;
      s.at = now;
      return;
    }
    if (this.state.size >= this.maxBuckets) this.evict(now);
    this.state.set(key, { tokens, at: now });
  }

  /** Drops buckets that have refilled (they equal a new one); if none has, the oldest ones. */
  private evict(now: number): void {
    const spec = (key: string): CompiledBucket | undefined => {
      const [scope, ...rest] = key.split(':');
      if (scope === 'global') return this.limits.global;
      if (scope === 'user') return this.limits.perUser;
      if (scope === 'tool') return this.limits.tools[rest.join(':')]?.global;
      // user-tool:<tool>:<user>: tool names have no ':' (the catalog's name rule), so rest[0] is the tool.
      return this.limits.tools[rest[0]]?.perUser;
    };
    for (const [key, s] of this.state) {
      const b = spec(key);
      if (!b || s.tokens + ((now - s.at) * b.maxTokens) / b.refillMs >= b.maxTokens) this.state.delete(key);
    }
    for (const key of this.state.keys()) {
      if (this.state.size < this.maxBuckets) break;
      this.state.delete(key);
    }
  }
}

/** The generated module's factory for configs with `rateLimiting` and no shared store. */
export function memoryRateLimiter(limits: CompiledRateLimits): RateLimiter {
  return new MemoryRateLimiter(limits);
}
