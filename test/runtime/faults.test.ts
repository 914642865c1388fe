/** Fault tests: misbehaving stdio backends never take the gateway or the other backends down. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { ERR } from '../../runtime/jsonrpc.ts';
import { ECHO, FAULT, getJson, startGatewayOver, waitFor, type RunningGateway } from './harness.ts';

// Which timer or event ended a call is read from the error (code, message, data), never from the
// wall clock: a slow machine must not fail these, and a wrong path must.
const TIMEOUT = 1500;
let g: RunningGateway;
let client: Client;
const emptyCatalog = (tools: string[]) => ({
  capabilities: { tools: {} },
  tools: tools.map((n) => ({ name: n, description: '', inputSchema: { type: 'object' } })),
  prompts: [],
  resources: [],
  resourceTemplates: [],
});

beforeAll(async () => {
  g = await startGatewayOver(
    [
      { name: 'echo', args: [ECHO] },
      { name: 'killer', args: [FAULT], env: { FAULT: 'kill-mid-call' }, timeoutMs: 5000 },
      { name: 'silent', args: [FAULT], env: { FAULT: 'never-answers' }, timeoutMs: TIMEOUT },
      { name: 'garbage', args: [FAULT], env: { FAULT: 'garbage' }, timeoutMs: TIMEOUT },
      { name: 'slow', args: [FAULT], env: { FAULT: 'slow', SLOW_MS: '60000' }, timeoutMs: TIMEOUT },
      // exit-at-start cannot be introspected; the lock is what a compile made while it still worked.
      {
        name: 'dead',
        args: [FAULT],
        env: { FAULT: 'exit-at-start' },
        timeoutMs: TIMEOUT,
        catalog: emptyCatalog(['gone']),
      },
      {
        name: 'mute',
        args: [FAULT],
        env: { FAULT: 'hang-init' },
        timeoutMs: TIMEOUT,
        catalog: emptyCatalog(['mute_tool']),
      },
    ],
    { prefix: true, operational: { partialFailureMode: 'fail' } },
  );
  // Under load children start slowly; the fault cases must meet a started backend, not a cold one.
  await waitFor(
    async () => {
      const bs = (await getJson(g, '/status')).body.backends as any[];
      const ready = bs
        .filter((b) => b.state === 'ready')
        .map((b) => b.name)
        .sort()
        .join(',');
      return (
        ready === 'echo,garbage,killer,silent,slow' && /code 3/.test(bs.find((b) => b.name === 'dead').lastError ?? '')
      );
    },
    20_000,
    'backends settled',
  );
  client = new Client({ name: 'faults', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(g.url)));
});
afterAll(async () => {
  await client?.close();
  await g?.stop();
});

/** Calls a tool; returns [error or undefined, result]. */
async function call(name: string, args: Record<string, unknown> = {}): Promise<[any, any]> {
  try {
    const r = await client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema, {
      timeout: 30_000,
    });
    return [undefined, r];
  } catch (e) {
    return [e, undefined];
  }
}
const echoWorks = async () =>
  expect((await client.callTool({ name: 'echo_echo', arguments: { text: 'alive' } })).content).toEqual([
    { type: 'text', text: 'alive' },
  ]);

describe('fault isolation', () => {
  it('kill -9 mid-call: the call fails on the lost connection (not the timeout), the child is restarted, other backends unaffected', async () => {
    await waitFor(
      async () => (await getJson(g, '/status')).body.backends.find((b: any) => b.name === 'killer').state === 'ready',
      10_000,
      'killer ready',
    );
    const pid1 = (await getJson(g, '/status')).body.backends.find((b: any) => b.name === 'killer').pid;
    const [err] = await call('killer_die');
    // Failed by the child's exit (connection lost), not by the 5 s deadline (ERR.TIMEOUT).
    expect(err?.code).toBe(ERR.CONNECTION_CLOSED);
    expect(err?.message).toMatch(/backend "killer" connection lost: process exited \(signal SIGKILL\)/);
    expect(err?.data).toEqual({ backend: 'killer' });
    await echoWorks();
    const killer = await waitFor(
      async () => {
        const b = (await getJson(g, '/status')).body.backends.find((x: any) => x.name === 'killer');
        return b.state === 'ready' && b.pid !== pid1 && b;
      },
      10_000,
      'killer restarted',
    );
    expect(killer.restarts).toBeGreaterThanOrEqual(1);
  });

  it("never answers: the backend's own deadline ends the call, and the error names the backend and the limit", async () => {
    const [err] = await call('silent_hang');
    // The gateway's deadline for this backend, not the client's 30 s request timeout.
    expect(err?.code).toBe(ERR.TIMEOUT);
    expect(err?.message).toContain(`backend "silent" did not answer tools/call within ${TIMEOUT} ms`);
    expect(err?.data).toEqual({ backend: 'silent', timeoutMs: TIMEOUT });
    await echoWorks();
  });

  it("slow beyond the timeout: ended by the backend's deadline", async () => {
    const [err] = await call('slow_sleep');
    expect(err?.code).toBe(ERR.TIMEOUT);
    expect(err?.message).toContain(`backend "slow" did not answer tools/call within ${TIMEOUT} ms`);
    expect(err?.data).toEqual({ backend: 'slow', timeoutMs: TIMEOUT });
    await echoWorks();
  });

  it('garbage on stdout is skipped; the backend still answers', async () => {
    const [err, r] = await call('garbage_echo', { text: 'ignored' });
    void err;
    const [err2, r2] = await call('garbage_echo', { text: 'x' });
    expect(err2).toBeUndefined();
    expect(r2.content).toEqual([{ type: 'text', text: 'x' }]);
    void r;
  });

  it("exits at start: calls are refused within the backend's budget with the exit reason; the gateway stays up", async () => {
    const [err] = await call('dead_gone');
    // Refused while waiting for readiness within the backend's budget, with the exit reason.
    expect(err?.code).toBe(ERR.TIMEOUT);
    expect(err?.message).toMatch(/backend "dead" is not available/);
    expect(err?.message).toMatch(/code 3/);
    expect(err?.data).toMatchObject({ backend: 'dead', timeoutMs: TIMEOUT });
    const dead = (await getJson(g, '/status')).body.backends.find((b: any) => b.name === 'dead');
    expect(dead.state).not.toBe('ready');
    expect(dead.restarts).toBeGreaterThanOrEqual(1);
    await echoWorks();
  });

  it("hangs at initialize: calls are refused within the backend's budget", async () => {
    const [err] = await call('mute_mute_tool');
    // Refused by the wait for readiness within the call's budget (1.5 s), whichever state the
    // 10 s initialize allowance has reached by then.
    expect(err?.code).toBe(ERR.TIMEOUT);
    expect(err?.message).toMatch(
      new RegExp(`backend "mute" is not available \\(\\w+\\) after \\d+ ms \\(timeout ${TIMEOUT} ms\\)`),
    );
    expect(err?.data).toMatchObject({ backend: 'mute', timeoutMs: TIMEOUT });
    await echoWorks();
  });

  it('readyz is 503 while required backends are down (partialFailureMode fail); health stays 200', async () => {
    await echoWorks();
    await call('silent_hang');
    expect((await getJson(g, '/readyz')).status).toBe(503);
    expect((await getJson(g, '/health')).status).toBe(200);
    const metrics = (await getJson(g, '/metrics')).body as string;
    expect(metrics).toMatch(/vmcp_backend_calls_total\{backend="echo"\} [1-9]/);
    expect(metrics).toMatch(/vmcp_backend_errors_total\{backend="silent"\} [1-9]/);
    expect(metrics).toContain('vmcp_backend_call_duration_seconds_bucket{backend="echo",le="+Inf"}');
    const status = JSON.stringify((await getJson(g, '/status')).body);
    expect(status).not.toContain('FAULT'); // no env values leak
  });
});
