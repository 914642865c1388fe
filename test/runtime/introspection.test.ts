import { describe, expect, it } from 'vitest';
import { CACHE_TTL_MS, Introspector, MAX_CACHED } from '../../runtime/auth/in/introspection.ts';
import { createLogger } from '../../runtime/log.ts';
import { AuthFailure } from '../../runtime/plugins.ts';

// The introspection cache against a fake endpoint and a hand-driven clock.
function setup(exp: (now: number) => number) {
  let now = 1_700_000_000_000;
  const calls: string[] = [];
  const fetchFn = async (_url: string | URL, init?: { body?: string }) => {
    const token = new URLSearchParams(init?.body ?? '').get('token')!;
    calls.push(token);
    const doc = token.startsWith('dead')
      ? { active: false }
      : { active: true, sub: token, aud: 'gw', exp: Math.floor(exp(now) / 1000) };
    return new Response(JSON.stringify(doc), { status: 200 });
  };
  const log = createLogger({}, 'error', () => {});
  const i = new Introspector(
    { url: 'https://idp/introspect', issuer: 'https://idp', audience: 'gw', clockSkewMs: 0 },
    fetchFn,
    log,
    () => now,
  );
  return { i, calls, tick: (ms: number) => (now += ms) };
}

describe('Introspector cache', () => {
  it('holds at most MAX_CACHED tokens, dropping the oldest', async () => {
    const { i, calls } = setup((now) => now + 3_600_000);
    for (let n = 0; n <= MAX_CACHED; n++) await i.authenticate(`t${n}`);
    expect(i.size).toBe(MAX_CACHED);
    calls.length = 0;
    await i.authenticate(`t${MAX_CACHED}`); // newest: cached
    expect(calls).toEqual([]);
    await i.authenticate('t0'); // oldest: dropped, introspected again
    expect(calls).toEqual(['t0']);
  });

  it('trusts an answer no longer than CACHE_TTL_MS', async () => {
    const { i, calls, tick } = setup((now) => now + 3_600_000);
    await i.authenticate('a');
    tick(CACHE_TTL_MS - 1);
    await i.authenticate('a');
    expect(calls).toEqual(['a']);
    tick(2);
    await i.authenticate('a');
    expect(calls).toEqual(['a', 'a']);
  });

  it('and no longer than the token lives (exp)', async () => {
    const { i, calls, tick } = setup((now) => now + 60_000);
    await i.authenticate('short');
    tick(59_000);
    await i.authenticate('short');
    expect(calls).toEqual(['short']);
    tick(2_000); // past exp: the cached answer is dropped and the endpoint asked again
    await i.authenticate('short');
    expect(calls).toEqual(['short', 'short']);
  });

  it('shares one call between identical tokens in flight, and caches no inactive answer', async () => {
    const { i, calls } = setup((now) => now + 60_000);
    await Promise.all([i.authenticate('x'), i.authenticate('x'), i.authenticate('x')]);
    expect(calls).toEqual(['x']);
    await expect(i.authenticate('dead')).rejects.toBeInstanceOf(AuthFailure);
    await expect(i.authenticate('dead')).rejects.toThrow('the token is not active');
    expect(calls).toEqual(['x', 'dead', 'dead']);
    expect(i.size).toBe(1);
  });
});
