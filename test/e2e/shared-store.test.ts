/**
 * sessionStorage redis (issue 17): three replicas of one bundle behind a real HAProxy (round robin),
 * sharing VMCP_SESSION_KEY and a real redis-server, with OIDC callers from a local issuer.
 * - a per-user limit of N calls allows N calls in total across the replicas, not 3N, in both eras;
 * - a session DELETEd through one replica is refused by a replica that holds it (told over pub/sub)
 *   and by one that never saw it (checked in Redis before restoring);
 * - Redis down: calls and session restores go on (fail open, logged and counted); when it is back,
 *   the limits hold again;
 * - `onStoreError: deny` refuses calls when Redis cannot answer.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { startIssuer, type Issuer } from '../fixtures/oauth/issuer.ts';
import { type Balancer, freePort, type RedisServer, startBalancer, startRedis } from '../support/lb.ts';
import { requireTool } from '../support/system-tools.ts';
import { waitFor } from '../runtime/harness.ts';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

const ECHO = join(REPO, 'test', 'fixtures', 'servers', 'echo-server.mjs');
const AUDIENCE = 'vmcp-shared';
const KEY = 'shared-store-test-session-key-0123456789abcdef';
const PER_USER = 5;
const REPLICAS = 3;

const haproxy = requireTool('haproxy');
const redisServer = requireTool('redis-server');
const suite = haproxy && redisServer ? describe : describe.skip;

let issuer: Issuer;
let redis: RedisServer;
let lb: Balancer;
let dir: string;
const replicas: RunningBundle[] = [];
const closers: Array<() => Promise<unknown>> = [];

const config = (name: string, redisPort: number, extra = '') => `name: ${name}
backends:
  - name: e
    transport: stdio
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(ECHO)}]
incomingAuth:
  type: oidc
  oidc:
    issuer: ${issuer.issuer}
    audience: ${AUDIENCE}
    insecureAllowHttp: true
sessionStorage:
  provider: redis
  address: 127.0.0.1:${redisPort}
rateLimiting:
  perUser: { maxTokens: ${PER_USER}, refillPeriod: 1h }
${extra}`;

const token = (sub: string) => issuer.mint({ sub, aud: AUDIENCE });
const base = (r: RunningBundle) => r.url.replace(/\/mcp$/, '');
const lbUrl = () => `http://127.0.0.1:${lb.port}/mcp`;

async function connectV1(sub: string, url = lbUrl()) {
  const client = new Client({ name: `v1-${sub}`, version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${await token(sub)}` } },
  });
  await client.connect(transport);
  closers.push(() => client.close().catch(() => {}));
  return { client, transport };
}

/** Either era's client: only callTool is used. */
type Caller = {
  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<Record<string, unknown>>;
};

const echo = (c: Caller, text: string) =>
  c.callTool({ name: 'e_echo', arguments: { text } }).then(
    (r) => ((r.content as Array<{ text: string }>)[0]?.text === text ? 'ok' : `wrong answer ${JSON.stringify(r)}`),
    (e: Error & { code?: number }) => (e.code === 429 || /Rate limit exceeded/.test(e.message) ? 'limited' : e.message),
  );

/** tools/list on one replica with a session id: the HTTP status. */
async function listOn(url: string, sub: string, session: string): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${await token(sub)}`,
      'mcp-session-id': session,
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** One series of a replica's /metrics page. */
async function metric(r: RunningBundle, re: RegExp): Promise<number> {
  const m = re.exec(await (await fetch(`${base(r)}/metrics`)).text());
  return m ? Number(m[1]) : Number.NaN;
}
const toolCalls = (r: RunningBundle) =>
  metric(r, /^vmcp_requests_total\{method="tools\/call",kind="tool",name="e_echo",outcome="success"\} (\d+)$/m);

suite('sessionStorage redis: three replicas behind HAProxy share revocations and limits', () => {
  beforeAll(async () => {
    issuer = await startIssuer();
    redis = await startRedis(redisServer!);
    const compiled = await compileConfig('shared', config('shared', redis.port));
    dir = compiled.dir;
    const env = { ...process.env, VMCP_SESSION_KEY: KEY };
    const ports = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()));
    replicas.push(
      ...(await Promise.all(ports.map((p) => startBundle(compiled.bundle, ['--port', String(p)], env, compiled.dir)))),
    );
    lb = await startBalancer(haproxy!, ports);
    await waitFor(
      async () => (await lb.states().catch(() => [])).filter((s) => s === 'UP').length === REPLICAS,
      15_000,
      `HAProxy to see every replica UP:\n${lb.logs()}`,
    );
    // Every replica is connected to Redis before the first call.
    for (const r of replicas)
      await waitFor(async () => (await metric(r, /^vmcp_shared_store_up\{[^}]*\} (\d)$/m)) === 1, 10_000, 'Redis');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(closers.map((c) => c()));
    lb?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    await redis?.kill();
    await issuer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`a per-user limit of ${PER_USER} allows ${PER_USER} calls in total across the replicas, in both eras`, async () => {
    const before = await Promise.all(replicas.map(toolCalls));
    const { client } = await connectV1('alice');
    const results: string[] = [];
    for (let i = 0; i < PER_USER * REPLICAS; i++) results.push(await echo(client, `a${i}`));
    expect(results.filter((r) => r === 'ok')).toHaveLength(PER_USER);
    expect(results.slice(PER_USER).every((r) => r === 'limited')).toBe(true);
    // The calls really were spread: at least two replicas served some of alice's.
    const after = await Promise.all(replicas.map(toolCalls));
    expect(after.filter((n, i) => (n || 0) > (before[i] || 0)).length).toBeGreaterThanOrEqual(2);
    // Another user has a bucket of their own.
    const bob = await connectV1('bob');
    expect(await echo(bob.client, 'b')).toBe('ok');
    // A 2026-era client (no session) of a third user: the same total.
    const modern = new ClientV2({ name: 'v2-carol', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(
      new TransportV2(new URL(lbUrl()), {
        requestInit: { headers: { authorization: `Bearer ${await token('carol')}` } },
      }),
    );
    closers.push(() => modern.close().catch(() => {}));
    const modernResults: string[] = [];
    for (let i = 0; i < PER_USER * 2; i++) modernResults.push(await echo(modern, `c${i}`));
    expect(modernResults.filter((r) => r === 'ok')).toHaveLength(PER_USER);
    expect(modernResults.slice(PER_USER).every((r) => r === 'limited')).toBe(true);
  });

  it('a session DELETEd via one replica is refused by one that holds it and by one that never saw it', async () => {
    const { transport } = await connectV1('dave', replicas[0].url);
    const id = transport.sessionId!;
    // Replica 1 restores and holds the session; replica 2 has never seen it.
    expect(await listOn(replicas[1].url, 'dave', id)).toBe(200);
    const res = await fetch(replicas[0].url, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await token('dave')}`, 'mcp-session-id': id },
    });
    expect(res.status).toBe(200);
    expect(await listOn(replicas[2].url, 'dave', id)).toBe(404);
    await waitFor(async () => (await listOn(replicas[1].url, 'dave', id)) === 404, 5_000, 'replica 1 to drop it');
    expect(await listOn(lbUrl(), 'dave', id)).toBe(404);
  });

  it('Redis down: calls and restores go on (fail open, counted); back up: the limits hold again', async () => {
    const { client } = await connectV1('erin');
    for (let i = 0; i < PER_USER; i++) expect(await echo(client, `e${i}`)).toBe('ok');
    expect(await echo(client, 'over')).toBe('limited');
    await redis.kill();
    // Fail open: erin's exhausted bucket cannot be read, so her calls pass, on every replica.
    for (let i = 0; i < REPLICAS * 2; i++) expect(await echo(client, `down${i}`)).toBe('ok');
    // A session created now is restored by another replica (its id is self-contained).
    const fresh = await connectV1('frank', replicas[0].url);
    expect(await listOn(replicas[2].url, 'frank', fresh.transport.sessionId!)).toBe(200);
    let errors = 0;
    for (const r of replicas) {
      expect(await metric(r, /^vmcp_shared_store_up\{[^}]*\} (\d)$/m)).toBe(0);
      errors += await metric(r, /^vmcp_shared_store_errors_total\{[^}]*\} (\d+)$/m);
    }
    expect(errors).toBeGreaterThan(0);
    // Logged once per outage per replica, however many reconnection attempts fail.
    const warned = replicas.map((r) => r.logs().split('session revocations are not shared').length - 1);
    expect(Math.max(...warned)).toBe(1);
    // Back (empty, as after a failover with no persistence): limits apply again from a full bucket.
    await redis.start();
    for (const r of replicas)
      await waitFor(async () => (await metric(r, /^vmcp_shared_store_up\{[^}]*\} (\d)$/m)) === 1, 15_000, 'reconnect');
    const again: string[] = [];
    for (let i = 0; i < PER_USER + 2; i++) again.push(await echo(client, `up${i}`));
    expect(again.filter((r) => r === 'ok')).toHaveLength(PER_USER);
    expect(again.at(-1)).toBe('limited');
  });

  it('onStoreError deny: with Redis unreachable, a limited tool call is refused with a clear message', async () => {
    const deadPort = await freePort();
    const compiled = await compileConfig('denying', config('denying', deadPort, '  onStoreError: deny\n'));
    const gw = await startBundle(compiled.bundle, [], { ...process.env, VMCP_SESSION_KEY: KEY }, compiled.dir);
    closers.push(async () => {
      await gw.stop();
      rmSync(compiled.dir, { recursive: true, force: true });
    });
    const { client } = await connectV1('grace', gw.url);
    const err = await client.callTool({ name: 'e_echo', arguments: { text: 'x' } }).then(
      () => undefined,
      (e: Error & { code?: number }) => e,
    );
    expect(err?.code).toBe(429);
    expect(err?.message).toContain('rate-limit store cannot answer');
    // Lists are not limited: the gateway itself keeps serving.
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
  });
});
