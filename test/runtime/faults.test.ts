/** Fault tests: misbehaving stdio backends never take the gateway or the other backends down. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { ECHO, FAULT, getJson, startGatewayOver, waitFor, type RunningGateway } from './harness.ts';

const TIMEOUT = 1500;
const MARGIN = 700;
let g: RunningGateway;
let client: Client;
const emptyCatalog = (tools: string[]) => ({ capabilities: { tools: {} }, tools: tools.map((n) => ({ name: n, description: '', inputSchema: { type: 'object' } })), prompts: [], resources: [], resourceTemplates: [] });

beforeAll(async () => {
  g = await startGatewayOver([
    { name: 'echo', args: [ECHO] },
    { name: 'killer', args: [FAULT], env: { FAULT: 'kill-mid-call' }, timeoutMs: 5000 },
    { name: 'silent', args: [FAULT], env: { FAULT: 'never-answers' }, timeoutMs: TIMEOUT },
    { name: 'garbage', args: [FAULT], env: { FAULT: 'garbage' }, timeoutMs: TIMEOUT },
    { name: 'slow', args: [FAULT], env: { FAULT: 'slow', SLOW_MS: '60000' }, timeoutMs: TIMEOUT },
    // exit-at-start cannot be introspected; the lock is what a compile made while it still worked.
    { name: 'dead', args: [FAULT], env: { FAULT: 'exit-at-start' }, timeoutMs: TIMEOUT, catalog: emptyCatalog(['gone']) },
    { name: 'mute', args: [FAULT], env: { FAULT: 'hang-init' }, timeoutMs: TIMEOUT, catalog: emptyCatalog(['mute_tool']) },
  ], { prefix: true, operational: { partialFailureMode: 'fail' } });
  // Under load children start slowly; the fault cases must meet a started backend, not a cold one.
  await waitFor(async () => {
    const bs = (await getJson(g, '/status')).body.backends as any[];
    const ready = bs.filter((b) => b.state === 'ready').map((b) => b.name).sort().join(',');
    return ready === 'echo,garbage,killer,silent,slow' && /code 3/.test(bs.find((b) => b.name === 'dead').lastError ?? '');
  }, 20_000, 'backends settled');
  client = new Client({ name: 'faults', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(g.url)));
});
afterAll(async () => {
  await client?.close();
  await g?.stop();
});

/** Calls a tool; returns [error or undefined, elapsed ms]. */
async function timed(name: string, args: Record<string, unknown> = {}): Promise<[any, number, any]> {
  const t0 = Date.now();
  try {
    const r = await client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema, { timeout: 30_000 });
    return [undefined, Date.now() - t0, r];
  } catch (e) {
    return [e, Date.now() - t0, undefined];
  }
}
const echoWorks = async () => expect((await client.callTool({ name: 'echo_echo', arguments: { text: 'alive' } })).content).toEqual([{ type: 'text', text: 'alive' }]);

describe('fault isolation', () => {
  it('kill -9 mid-call: the call fails at once, the child is restarted, other backends unaffected', async () => {
    await waitFor(async () => (await getJson(g, '/status')).body.backends.find((b: any) => b.name === 'killer').state === 'ready', 10_000, 'killer ready');
    const pid1 = (await getJson(g, '/status')).body.backends.find((b: any) => b.name === 'killer').pid;
    const [err, ms] = await timed('killer_die');
    expect(err?.message).toMatch(/backend "killer" connection lost: process exited \(signal SIGKILL\)/);
    expect(ms).toBeLessThan(2000); // not the 5 s timeout: in-flight calls fail immediately
    await echoWorks();
    const killer = await waitFor(async () => {
      const b = (await getJson(g, '/status')).body.backends.find((x: any) => x.name === 'killer');
      return b.state === 'ready' && b.pid !== pid1 && b;
    }, 10_000, 'killer restarted');
    expect(killer.restarts).toBeGreaterThanOrEqual(1);
  });

  it('never answers: the error names the backend and the limit, within timeout + margin', async () => {
    const [err, ms] = await timed('silent_hang');
    expect(err?.code).toBe(-32001);
    expect(err?.message).toContain(`backend "silent" did not answer tools/call within`);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT - 100);
    expect(ms).toBeLessThan(TIMEOUT + MARGIN);
    await echoWorks();
  });

  it('slow beyond the timeout: cancelled upstream and answered in time', async () => {
    const [err, ms] = await timed('slow_sleep');
    expect(err?.message).toContain(`backend "slow" did not answer tools/call within`);
    expect(ms).toBeLessThan(TIMEOUT + MARGIN);
    await echoWorks();
  });

  it('garbage on stdout is skipped; the backend still answers', async () => {
    const [err, , r] = await timed('garbage_echo', { text: 'ignored' });
    void err;
    const [err2, , r2] = await timed('garbage_echo', { text: 'x' });
    expect(err2).toBeUndefined();
    expect(r2.content).toEqual([{ type: 'text', text: 'x' }]);
    void r;
  });

  it('exits at start: calls fail within the timeout with the exit reason; the gateway stays up', async () => {
    const [err, ms] = await timed('dead_gone');
    expect(err?.message).toMatch(/backend "dead" is not available/);
    expect(err?.message).toMatch(/code 3/);
    expect(ms).toBeLessThan(TIMEOUT + MARGIN);
    const dead = (await getJson(g, '/status')).body.backends.find((b: any) => b.name === 'dead');
    expect(dead.state).not.toBe('ready');
    expect(dead.restarts).toBeGreaterThanOrEqual(1);
    await echoWorks();
  });

  it('hangs at initialize: calls fail within the timeout', async () => {
    const [err, ms] = await timed('mute_mute_tool');
    expect(err?.message).toMatch(/backend "mute"/);
    expect(ms).toBeLessThan(TIMEOUT + MARGIN);
    await echoWorks();
  });

  it('readyz is 503 while required backends are down (partialFailureMode fail); health stays 200', async () => {
    await echoWorks();
    await timed('silent_hang');
    expect((await getJson(g, '/readyz')).status).toBe(503);
    expect((await getJson(g, '/health')).status).toBe(200);
    const metrics = (await getJson(g, "/metrics")).body as string;
    expect(metrics).toMatch(/vmcp_backend_calls_total\{backend="echo"\} [1-9]/);
    expect(metrics).toMatch(/vmcp_backend_errors_total\{backend="silent"\} [1-9]/);
    expect(metrics).toContain('vmcp_backend_call_duration_seconds_bucket{backend="echo",le="+Inf"}');
    const status = JSON.stringify((await getJson(g, '/status')).body);
    expect(status).not.toContain('FAULT'); // no env values leak
  });
});
