/**
 * Token buckets in memory (rateLimiting without a shared store), on an injected clock: bursts up to
 * maxTokens, an even refill over refillPeriod, all-or-nothing across the buckets of a call, one
 * bucket per caller, and the bound on buckets held.
 */
import { describe, expect, it } from 'vitest';
import type { CompiledRateLimits } from '../../runtime/compiled-gateway.ts';
import { MemoryRateLimiter, bucketsFor, retryAfterSeconds } from '../../runtime/shared/rate-limit.ts';
import { RATE_LIMITED, rateLimitedError } from '../../runtime/shared/rate-limited.ts';
import { errorAnswer } from '../../runtime/protocol/errors.ts';
import { endingOf } from '../../runtime/observers.ts';

const limits = (l: Partial<CompiledRateLimits>): CompiledRateLimits => ({ tools: {}, onStoreError: 'allow', ...l });

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('MemoryRateLimiter', () => {
  it('allows a burst of maxTokens, then refuses with the wait for one token', () => {
    const c = clock();
    const rl = new MemoryRateLimiter(limits({ global: { maxTokens: 3, refillMs: 60_000 } }), c.now);
    expect([rl.take('a', undefined), rl.take('b', undefined), rl.take('c', undefined)]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    // One token every 20 s.
    expect(rl.take('a', undefined)).toEqual({ retryAfterSeconds: 20, scope: 'global' });
    c.advance(19_000);
    expect(rl.take('a', undefined)).toEqual({ retryAfterSeconds: 1, scope: 'global' });
    c.advance(1_000);
    expect(rl.take('a', undefined)).toBeUndefined();
    expect(rl.take('a', undefined)?.scope).toBe('global');
  });

  it('refills to capacity, never beyond', () => {
    const c = clock();
    const rl = new MemoryRateLimiter(limits({ global: { maxTokens: 2, refillMs: 1000 } }), c.now);
    rl.take('a', undefined);
    rl.take('a', undefined);
    c.advance(3_600_000);
    expect(rl.take('a', undefined)).toBeUndefined();
    expect(rl.take('a', undefined)).toBeUndefined();
    expect(rl.take('a', undefined)).toBeDefined();
  });

  it('keeps one bucket per caller; anonymous calls have none', () => {
    const c = clock();
    const rl = new MemoryRateLimiter(limits({ perUser: { maxTokens: 1, refillMs: 60_000 } }), c.now);
    expect(rl.take('t', 'iss\nalice')).toBeUndefined();
    expect(rl.take('t', 'iss\nalice')).toEqual({ retryAfterSeconds: 60, scope: 'perUser' });
    expect(rl.take('t', 'iss\nbob')).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(rl.take('t', undefined)).toBeUndefined();
  });

  it('applies tool buckets to that tool only, and takes from every bucket or from none', () => {
    const c = clock();
    const rl = new MemoryRateLimiter(
      limits({
        global: { maxTokens: 3, refillMs: 60_000 },
        tools: { slow: { global: { maxTokens: 1, refillMs: 60_000 } } },
      }),
      c.now,
    );
    expect(rl.take('slow', undefined)).toBeUndefined();
    // Refused by the tool's bucket: the global bucket keeps its two tokens.
    expect(rl.take('slow', undefined)).toEqual({ retryAfterSeconds: 60, scope: 'tool' });
    expect(rl.take('slow', undefined)?.scope).toBe('tool');
    expect(rl.take('fast', undefined)).toBeUndefined();
    expect(rl.take('fast', undefined)).toBeUndefined();
    expect(rl.take('fast', undefined)?.scope).toBe('global');
  });

  it('a per-user tool bucket is separate per caller and per tool', () => {
    const c = clock();
    const rl = new MemoryRateLimiter(limits({ tools: { t: { perUser: { maxTokens: 1, refillMs: 1000 } } } }), c.now);
    expect(rl.take('t', 'u1')).toBeUndefined();
    expect(rl.take('t', 'u1')?.scope).toBe('toolPerUser');
    expect(rl.take('t', 'u2')).toBeUndefined();
    expect(rl.take('other', 'u1')).toBeUndefined();
    expect(rl.take('other', 'u1')).toBeUndefined();
  });

  it('holds a bounded number of buckets: refilled ones go first, then the oldest', () => {
    const c = clock();
    const rl = new MemoryRateLimiter(limits({ perUser: { maxTokens: 2, refillMs: 1000 } }), c.now, 10);
    for (let i = 0; i < 10; i++) rl.take('t', `u${i}`);
    expect(rl.held).toBe(10);
    c.advance(1000); // every bucket has refilled
    rl.take('t', 'new');
    expect(rl.held).toBe(1);
    for (let i = 0; i < 20; i++) rl.take('t', `v${i}`);
    expect(rl.held).toBeLessThanOrEqual(10);
  });

  it('names no bucket for a config without limits for the call', () => {
    expect(bucketsFor(limits({}), 't', 'u')).toEqual([]);
    expect(bucketsFor(limits({ tools: { other: { global: { maxTokens: 1, refillMs: 1 } } } }), 't', 'u')).toEqual([]);
    // A tool named like an Object.prototype member is not a configured tool.
    expect(bucketsFor(limits({}), 'constructor', undefined)).toEqual([]);
  });
});

describe('the rate-limited answer', () => {
  it("is ToolHive's shape: -32029, Rate limit exceeded, data.retryAfterSeconds, HTTP 429 with Retry-After", () => {
    const err = rateLimitedError({ retryAfterSeconds: 7, scope: 'perUser' }, 'search');
    const a = errorAnswer(err);
    expect(a.status).toBe(429);
    expect(a.headers).toEqual({ 'retry-after': '7' });
    expect(a.error).toEqual({
      code: RATE_LIMITED,
      message: 'Rate limit exceeded',
      data: { retryAfterSeconds: 7, tool: 'search', limit: 'perUser' },
    });
    expect(endingOf(err)).toMatchObject({ outcome: 'denied', errorType: 'rate_limited' });
  });

  it('Retry-After is at least one whole second', () => {
    expect(retryAfterSeconds(0.999, { maxTokens: 1000, refillMs: 1000 })).toBe(1);
    expect(retryAfterSeconds(0, { maxTokens: 1, refillMs: 90_500 })).toBe(91);
  });
});
