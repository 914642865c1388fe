/**
 * 2026-07-28 call state is per gateway and per caller: request ids of different clients never
 * collide, cancellation reaches only the caller's own calls, parked calls are bounded and expire.
 * Gateways run in this process (real GatewayCore, real node:http, real stdio backends).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { unauthenticated } from '../../runtime/auth/out/unauthenticated.ts';
import { stdioTransport } from '../../runtime/transports/stdio.ts';
import type { CallContext } from '../../runtime/call-context.ts';
import { GatewayCore } from '../../runtime/gateway.ts';
import { RpcError } from '../../runtime/jsonrpc.ts';
import { createLogger } from '../../runtime/log.ts';
import { AuthFailure, type RuntimePlugins } from '../../runtime/plugins.ts';
import { resolveBackends } from '../../runtime/resolve-backends.ts';
import { startHttp, type HttpFrontEnd } from '../../runtime/server/http.ts';
import { ModernCalls, RoundTripCall } from '../../runtime/protocol/calls.ts';
import type { Timers } from '../../runtime/protocol/timers.ts';

/** A hand-driven clock: nothing fires until the test runs it. */
function handTimers(): Timers & { due: Array<{ ms: number; fn: () => void; cancelled: boolean }> } {
  const due: Array<{ ms: number; fn: () => void; cancelled: boolean }> = [];
  return {
    due,
    after(ms, fn) {
      const entry = { ms, fn, cancelled: false };
      due.push(entry);
      return () => {
        entry.cancelled = true;
      };
    },
  };
}
import type { RuntimeLimits } from '../../runtime/compiled-gateway.ts';
import { FAULT, buildGateway, bundleGateway, waitFor, type BackendSpec } from './harness.ts';

const PROBE = join(import.meta.dirname, 'fixtures', 'probe-server.mjs');
/** The probe, with a timeout long enough that only a cancellation can end a long `wait`. */
const PROBE_SPEC: BackendSpec = { name: 'probe', args: [PROBE], timeoutMs: 120_000 };
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};

interface InProcess {
  core: GatewayCore;
  http: HttpFrontEnd;
  logs: any[];
  close(): Promise<void>;
}
const running: InProcess[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((g) => g.close()));
});

/** A gateway in this process. `oidc`: callers authenticate as `Bearer <subject>` (a stand-in verifier). */
async function startInProcess(
  specs: BackendSpec[],
  limits: Partial<RuntimeLimits> = {},
  oidc = false,
  prefix = false,
): Promise<InProcess> {
  const gw = await buildGateway(specs, { operational: { limits }, prefix });
  if (oidc) gw.incomingAuth = { type: 'oidc' };
  const logs: any[] = [];
  const log = createLogger({}, 'debug', (line) => void logs.push(JSON.parse(line)));
  const plugins: RuntimePlugins = {
    transports: { stdio: stdioTransport },
    outgoingAuth: { unauthenticated },
    incomingAuth: () => ({
      authenticate: async (h) => {
        const sub = /^Bearer (\w+)$/.exec(h ?? '')?.[1];
        if (!sub) throw new AuthFailure(401, 'invalid_token', 'no token');
        return { key: `test\n${sub}`, iss: 'test', sub, claims: {}, token: sub };
      },
      resourceMetadata: () => ({}),
    }),
  };
  const core = new GatewayCore(gw, resolveBackends(gw, plugins, process.env, log), plugins, log);
  const http = await startHttp(core, '127.0.0.1', 0);
  core.start();
  await waitFor(() => core.ready(), 15_000, 'backends ready');
  const g = {
    core,
    http,
    logs,
    close: async () => {
      await http.close(200);
      await core.close();
    },
  };
  running.push(g);
  return g;
}

/** A raw 2026 POST; resolves with the HTTP status and the JSON body (null for an empty 202). */
async function post(
  g: InProcess,
  body: any,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(g.http.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': body.method,
      ...(body.params?.name ? { 'mcp-name': body.params.name } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
const call = (id: unknown, name: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, _meta: ENVELOPE, ...extra },
});
const cancel = (requestId: unknown) => ({
  jsonrpc: '2.0',
  method: 'notifications/cancelled',
  params: { requestId, reason: 'test', _meta: ENVELOPE },
});

/** The upstream calls in flight on backend `index` (the gateway's own view, no polling of the backend). */
const upstreamPending = (g: InProcess, index: number) => g.core.backends[index].peer?.pending.size ?? 0;

describe('in-flight 2026 calls are keyed so that clients cannot collide', () => {
  it("an anonymous client cannot cancel another anonymous client's call that uses the same id", async () => {
    const g = await startInProcess([PROBE_SPEC]);
    // Client A's call 0 is in flight; client B (whose own call 0 may have just finished) sends a late cancel for 0.
    const a = post(g, call(0, 'wait', { ms: 1500 }));
    await waitFor(() => upstreamPending(g, 0) === 1, 5000, 'call A upstream');
    expect((await post(g, cancel(0))).status).toBe(202);
    const res = await a;
    expect(res.status).toBe(200);
    expect(res.body.result.content).toEqual([{ type: 'text', text: 'waited' }]);
    expect(g.logs.some((l) => l.msg.startsWith('notifications/cancelled from an anonymous HTTP caller ignored'))).toBe(
      true,
    );
  });

  it("an authenticated caller cancels its own call by id, never another subject's call with the same id", async () => {
    const g = await startInProcess([PROBE_SPEC], {}, true);
    const alice = post(g, call(0, 'wait', { ms: 1500 }), { authorization: 'Bearer alice' });
    const bob = post(g, call(0, 'wait', { ms: 20_000 }), { authorization: 'Bearer bob' });
    await waitFor(() => upstreamPending(g, 0) === 2, 5000, 'both calls upstream');
    expect((await post(g, cancel(0), { authorization: 'Bearer bob' })).status).toBe(202);
    const [a, b] = await Promise.all([alice, bob]);
    expect(b.status).toBe(202); // abandoned: no answer for a cancelled call
    expect(b.body).toBeNull();
    expect(a.body.result.content).toEqual([{ type: 'text', text: 'waited' }]);
  });

  it('a later call that reuses an id does not shadow the earlier one once it finishes', async () => {
    const g = await startInProcess([PROBE_SPEC], {}, true);
    const auth = { authorization: 'Bearer carol' };
    const first = post(g, call(7, 'wait', { ms: 20_000 }), auth);
    await waitFor(() => upstreamPending(g, 0) === 1, 5000, 'first call upstream');
    // A second client of the same subject reuses id 7 and finishes; the first call must stay reachable.
    expect((await post(g, call(7, 'wait', { ms: 10 }), auth)).body.result.content[0].text).toBe('waited');
    await post(g, cancel(7), auth);
    const res = await first;
    expect(res.status).toBe(202);
    expect(upstreamPending(g, 0)).toBe(0);
  });

  it('the v2 SDK client cancels its own 2026 call by closing the call stream (no notification needed)', async () => {
    const g = await startInProcess([PROBE_SPEC]);
    const client = new Client({ name: 'abort-test', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(g.http.url)));
    try {
      expect(client.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
      const ac = new AbortController();
      const pending = client.callTool({ name: 'wait', arguments: { ms: 20_000 } }, { signal: ac.signal });
      await waitFor(() => upstreamPending(g, 0) === 1, 5000, 'call upstream');
      ac.abort('user');
      await expect(pending).rejects.toThrow();
      await waitFor(
        async () =>
          ((await client.callTool({ name: 'stats', arguments: {} })).structuredContent as any)?.cancelled === 1,
        5000,
        'backend saw the cancellation',
      );
      expect(upstreamPending(g, 0)).toBe(0);
    } finally {
      await client.close();
    }
  });
});

describe('parked (input_required) calls', () => {
  it('belong to the gateway that parked them: another gateway in the same process does not know the requestState', async () => {
    const one = await startInProcess([{ name: 'ask', args: [FAULT], env: { FAULT: 'elicitation' } }]);
    const two = await startInProcess([{ name: 'ask', args: [FAULT], env: { FAULT: 'elicitation' } }]);
    const r = await post(one, call(1, 'ask_user', { message: 'one?' }));
    expect(r.body.result.resultType).toBe('input_required');
    const [key] = Object.keys(r.body.result.inputRequests);
    const retry = (id: number) =>
      call(
        id,
        'ask_user',
        { message: 'one?' },
        { inputResponses: { [key]: { action: 'decline' } }, requestState: r.body.result.requestState },
      );
    const elsewhere = await post(two, retry(2));
    expect(elsewhere.body.error).toMatchObject({
      code: -32602,
      message: expect.stringContaining('Unknown or expired requestState'),
    });
    const home = await post(one, retry(3));
    expect(JSON.parse(home.body.result.content[0].text)).toEqual({ action: 'decline' });
  });

  it("are bounded by maxParkedCalls: a call beyond it is refused with a clear error and the backend's request is answered", async () => {
    // Two backends: one shared stdio connection routes one server→client request at a time.
    const asker = { args: [FAULT], env: { FAULT: 'elicitation' } };
    const g = await startInProcess(
      [
        { name: 'one', ...asker },
        { name: 'two', ...asker },
      ],
      { maxParkedCalls: 1 },
      false,
      true,
    );
    const peer = g.core.backends[1].peer!;
    const answeredUpstream: Array<{ code: number; message: string }> = [];
    const respondError = peer.respondError.bind(peer);
    peer.respondError = (id, error) => {
      answeredUpstream.push(error);
      return respondError(id, error);
    };
    const first = await post(g, call(1, 'one_ask_user', { message: 'first?' }));
    expect(first.body.result.resultType).toBe('input_required');
    expect(g.core.modernCalls.parkedCount).toBe(1);

    const second = await post(g, call(2, 'two_ask_user', { message: 'second?' }));
    expect(second.status).toBe(200);
    expect(second.body.error.code).toBe(-32603);
    expect(second.body.error.message).toContain('operational.limits.maxParkedCalls is 1');
    expect(second.body.error.data).toEqual({ maxParkedCalls: 1 });
    expect(g.core.modernCalls.parkedCount).toBe(1);
    // The backend's elicitation was answered with the same error, and its tools/call cancelled: only the parked call remains upstream.
    await waitFor(() => answeredUpstream.length === 1, 5000, 'the refused elicitation answered upstream');
    expect(answeredUpstream[0].message).toContain('maxParkedCalls');
    expect(upstreamPending(g, 0)).toBe(1);
    expect(upstreamPending(g, 1)).toBe(0);
    expect(g.logs.filter((l) => l.msg.startsWith('parked 2026 calls reached'))).toHaveLength(1);

    // Resuming the parked call frees the slot.
    const [key] = Object.keys(first.body.result.inputRequests);
    const done = await post(
      g,
      call(
        3,
        'one_ask_user',
        { message: 'first?' },
        {
          inputResponses: { [key]: { action: 'accept', content: { answer: 'ok' } } },
          requestState: first.body.result.requestState,
        },
      ),
    );
    expect(JSON.parse(done.body.result.content[0].text)).toEqual({ action: 'accept', content: { answer: 'ok' } });
    const third = await post(g, call(4, 'two_ask_user', { message: 'third?' }));
    expect(third.body.result.resultType).toBe('input_required');
  });

  it("expire after the TTL on the injected clock: the backend's request is rejected and its call cancelled", () => {
    const log = createLogger({}, 'silent');
    const timers = handTimers();
    const calls = new ModernCalls({ maxParkedCalls: 10 }, log, timers, 20);
    const ctx: CallContext = { notify: () => {} };
    const call = new RoundTripCall({ write() {}, end() {}, abandon() {} }, ctx);
    let rejected: unknown;
    const parked = calls.park(call, {
      kind: 'input',
      method: 'elicitation/create',
      params: {},
      resolve: () => {},
      reject: (e: unknown) => (rejected = e),
    })!;
    expect(calls.parkedCall(parked.token)).toBe(call);
    expect(timers.due.map((d) => d.ms)).toEqual([20]);
    expect(rejected).toBeUndefined();
    timers.due[0].fn(); // the TTL passes
    expect(rejected).toBeInstanceOf(RpcError);
    expect((rejected as RpcError).message).toContain('did not retry with inputResponses in time');
    expect(calls.parkedCount).toBe(0);
    expect(ctx.cancelled).toBe(true);
  });

  it('a resumed call cancels its expiry', () => {
    const timers = handTimers();
    const calls = new ModernCalls({ maxParkedCalls: 10 }, createLogger({}, 'silent'), timers);
    const call = new RoundTripCall({ write() {}, end() {}, abandon() {} }, { notify: () => {} });
    const parked = calls.park(call, {
      kind: 'input',
      method: 'roots/list',
      params: {},
      resolve: () => {},
      reject: () => {},
    })!;
    calls.unpark(parked.token, call);
    expect(timers.due[0].cancelled).toBe(true);
    expect(calls.parkedCall(parked.token)).toBeUndefined();
  });

  it('are dropped at gateway close: timers cleared, backends answered', async () => {
    const timers = handTimers();
    const calls = new ModernCalls({ maxParkedCalls: 10 }, createLogger({}, 'silent'), timers);
    const rejected: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const call = new RoundTripCall({ write() {}, end() {}, abandon() {} }, { notify: () => {} });
      calls.park(call, {
        kind: 'input',
        method: 'roots/list',
        params: {},
        resolve: () => {},
        reject: (e: unknown) => rejected.push(e),
      });
    }
    calls.close();
    expect(calls.parkedCount).toBe(0);
    expect(rejected).toHaveLength(3);
    expect(timers.due.every((d) => d.cancelled)).toBe(true);
  });
});

describe('2026 cancellation over stdio', () => {
  it('notifications/cancelled from the stdio client reaches its 2026 call', async () => {
    const bundle = await bundleGateway(await buildGateway([PROBE_SPEC]));
    const child = spawn(process.execPath, [bundle, '--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const answers = new Map<unknown, any>();
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line);
      if (msg.id !== undefined) answers.set(msg.id, msg);
    });
    const send = (msg: unknown) => child.stdin!.write(`${JSON.stringify(msg)}\n`);
    const stats = async (id: string) => {
      send(call(id, 'stats', {}));
      return (await waitFor(() => answers.get(id), 10_000, `answer ${id}`)).result.structuredContent;
    };
    try {
      send(call(1, 'wait', { ms: 30_000 }));
      // The probe counts every call it started: once it counts more than our stats calls, `wait` is running.
      let n = 0;
      await waitFor(async () => (await stats(`s${++n}`)).calls > n, 10_000, 'wait started');
      send(cancel(1));
      await waitFor(async () => (await stats(`s${++n}`)).cancelled === 1, 10_000, 'backend saw the cancellation');
      expect(answers.has(1)).toBe(false); // a cancelled call gets no answer
    } finally {
      child.kill('SIGTERM');
    }
  });
});
