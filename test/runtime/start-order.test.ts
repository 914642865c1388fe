/**
 * Clients before backends (issue 19): the gateway answers initialize and the lists from the compiled
 * catalog, so it starts its backends only in the first quiet moment after start-up (no request for
 * QUIET_MS, and at the latest START_DEFER_MS after start), and a call that needs a backend before
 * then starts it at once. Fake timers drive the order of events; one real echo backend answers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { unauthenticated } from '../../runtime/auth/out/unauthenticated.ts';
import { GatewayCore, QUIET_MS, START_DEFER_MS } from '../../runtime/gateway.ts';
import { createLogger } from '../../runtime/log.ts';
import type { RuntimePlugins } from '../../runtime/plugins.ts';
import { resolveBackends } from '../../runtime/resolve-backends.ts';
import { stdioTransport } from '../../runtime/transports/stdio.ts';
import { ECHO, buildGateway } from './harness.ts';

const cores: GatewayCore[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(cores.splice(0).map((c) => c.close()));
});

async function core(): Promise<GatewayCore> {
  const gw = await buildGateway([{ name: 'e', command: process.execPath, args: [ECHO] }]);
  const plugins: RuntimePlugins = { transports: { stdio: stdioTransport }, outgoingAuth: { unauthenticated } };
  const log = createLogger({}, 'error', () => {});
  const c = new GatewayCore(gw, resolveBackends(gw, plugins, process.env, log), plugins, log);
  cores.push(c);
  return c;
}

describe('backends start after the clients first requests', () => {
  it('waits while requests keep coming, starts in the first quiet moment', async () => {
    const c = await core();
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate', 'setInterval', 'performance'] });
    const start = vi.spyOn(c.backends[0], 'start').mockImplementation(() => {});
    c.start();
    // A request every few milliseconds, as a client's initialize, initialized and tools/list.
    for (let t = 0; t < 4; t++) {
      c.lastRequestAt = performance.now();
      vi.advanceTimersByTime(QUIET_MS / 2);
    }
    expect(start).not.toHaveBeenCalled();
    vi.advanceTimersByTime(QUIET_MS * 2);
    expect(start).toHaveBeenCalledTimes(1);
  });

  it('a client that never pauses delays the backends by START_DEFER_MS at most', async () => {
    const c = await core();
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate', 'setInterval', 'performance'] });
    const start = vi.spyOn(c.backends[0], 'start').mockImplementation(() => {});
    c.start();
    for (let t = 0; t < START_DEFER_MS - QUIET_MS; t += 2) {
      c.lastRequestAt = performance.now();
      vi.advanceTimersByTime(2);
    }
    expect(start).not.toHaveBeenCalled();
    for (let t = 0; t < 3 * QUIET_MS; t += 2) {
      c.lastRequestAt = performance.now();
      vi.advanceTimersByTime(2);
    }
    expect(start).toHaveBeenCalledTimes(1);
  });

  it('a call before the gateway started the backend starts it, and is answered', async () => {
    const c = await core();
    const b = c.backends[0];
    expect(b.state).toBe('connecting');
    expect(b.pid).toBeUndefined();
    const result = await b.call('tools/call', { name: 'echo', arguments: { text: 'early' } });
    expect(result.parse ? result.parse().structuredContent : result.structuredContent).toEqual({ text: 'early' });
    expect(b.state).toBe('ready');
  });
});
