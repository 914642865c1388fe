/**
 * Scale-out (issue 17): three replicas of one compiled bundle behind a real HAProxy (round robin, no
 * stickiness), sharing VMCP_SESSION_KEY, spoken to by the real SDK clients. A 2025-era session's
 * requests spread over every replica; `kill -9` of a replica fails only the call it held, and the
 * session goes on without a new initialize; a rolling restart (SIGTERM each replica in turn, with
 * a drain delay) under load from a 2025-era and a 2026-era client loses no call. HAProxy's own health
 * check (`GET /readyz` over HTTP/1.0 with no Host) must pass on a loopback-bound gateway.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { requireTool } from '../support/system-tools.ts';
import { type Balancer, freePort, startBalancer } from '../support/lb.ts';
import { waitFor } from '../runtime/harness.ts';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

const ECHO = join(REPO, 'test', 'fixtures', 'servers', 'echo-server.mjs');
const KEY = 'scale-out-test-session-key-0123456789abcdef';
const REPLICAS = 3;

const haproxy = requireTool('haproxy');
const suite = haproxy ? describe : describe.skip;

let dir: string;
let bundle: string;
const ports: number[] = [];
const replicas: Array<RunningBundle | undefined> = [];
let lb: Balancer;
let lbPort: number;

const env = { ...process.env, VMCP_SESSION_KEY: KEY };
const startReplica = async (i: number) => {
  replicas[i] = await startBundle(bundle, ['--port', String(ports[i]), '--drain-delay', '1500'], env, dir);
};

const lbStates = () => lb.states();
const allUp = async () => (await lbStates()).every((s) => s === 'UP');

/** Tool calls served by one replica so far, from its own /metrics. */
async function served(i: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ports[i]}/metrics`)).text();
  return [...text.matchAll(/^vmcp_requests_total\{method="tools\/call",[^}]*\} (\d+)$/gm)].reduce(
    (s, m) => s + Number(m[1]),
    0,
  );
}

async function connectV1(): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'scale-v1', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${lbPort}/mcp`));
  await client.connect(transport);
  return { client, transport };
}

const echo = async (c: { callTool: Client['callTool'] }, text: string) => {
  const r = await c.callTool({ name: 'e_echo', arguments: { text } });
  const got = (r.content as Array<{ text: string }>)[0]?.text;
  if (got !== text) throw new Error(`echo answered ${JSON.stringify(r)}`);
};

suite('three replicas behind HAProxy, one session key', () => {
  beforeAll(async () => {
    const compiled = await compileConfig(
      'scale',
      `name: scale\nbackends:\n  - name: e\n    transport: stdio\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(ECHO)}]\n`,
    );
    dir = compiled.dir;
    bundle = compiled.bundle;
    for (let i = 0; i < REPLICAS; i++) ports.push(await freePort());
    await Promise.all(ports.map((_, i) => startReplica(i)));
    lb = await startBalancer(haproxy!, ports);
    lbPort = lb.port;
    await waitFor(async () => allUp().catch(() => false), 15_000, `HAProxy to see every replica UP:\n${lb.logs()}`);
  }, 120_000);

  afterAll(async () => {
    lb?.stop();
    await Promise.all(replicas.map((r) => r?.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('examples/scale-out/haproxy.cfg is a valid HAProxy config', () => {
    const out = execFileSync(haproxy!, ['-c', '-f', join(REPO, 'examples', 'scale-out', 'haproxy.cfg')], {
      encoding: 'utf8',
    });
    expect(out).toContain('Configuration file is valid');
  });

  it("HAProxy's default check (HTTP/1.0, no Host) finds every loopback-bound replica ready", async () => {
    expect(await lbStates()).toEqual(['UP', 'UP', 'UP']);
  });

  it('a 2025-era session spreads its requests over all replicas with no error', async () => {
    const before = await Promise.all(ports.map((_, i) => served(i)));
    const { client, transport } = await connectV1();
    const id = transport.sessionId;
    for (let i = 0; i < 30; i++) await echo(client, `spread-${i}`);
    expect(transport.sessionId).toBe(id);
    const after = await Promise.all(ports.map((_, i) => served(i)));
    const perReplica = after.map((n, i) => n - before[i]);
    expect(perReplica.reduce((a, b) => a + b, 0)).toBe(30);
    for (const n of perReplica) expect(n).toBeGreaterThan(0);
    await client.close();
  });

  it('a forged or tampered id gets 404 like an unknown one; after DELETE the id is refused on that replica', async () => {
    const { client, transport } = await connectV1();
    const id = transport.sessionId!;
    const list = (port: number, sid: string) =>
      fetch(`http://127.0.0.1:${port}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sid,
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    // Every replica serves the id, including those that never saw its initialize.
    for (const p of ports) expect((await list(p, id)).status).toBe(200);
    const i = id.length - 12;
    const tampered = id.slice(0, i) + (id[i] === 'A' ? 'B' : 'A') + id.slice(i + 1);
    for (const bad of [tampered, `${id.slice(0, 3)}${'A'.repeat(id.length - 3)}`, crypto.randomUUID()])
      expect((await list(ports[0], bad)).status).toBe(404);
    const del = await fetch(`http://127.0.0.1:${ports[1]}/mcp`, {
      method: 'DELETE',
      headers: { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(del.status).toBe(200);
    expect((await list(ports[1], id)).status).toBe(404);
    await client.close().catch(() => {});
  });

  it('kill -9 of a replica: only its in-flight call fails; the session goes on without a new initialize', async () => {
    const { client, transport } = await connectV1();
    const id = transport.sessionId;
    await echo(client, 'before');
    // A slow call, then find the replica that holds it.
    const slow = client.callTool({ name: 'e_slow', arguments: { ms: 20_000 } }).then(
      () => 'finished',
      (err: Error) => err.message,
    );
    const holder = await waitFor(
      async () => {
        for (let i = 0; i < REPLICAS; i++) {
          const text = await (await fetch(`http://127.0.0.1:${ports[i]}/metrics`)).text();
          if (/^vmcp_backend_inflight_requests\{backend="e"\} 1$/m.test(text)) return i + 1;
        }
        return 0;
      },
      10_000,
      'the slow call to reach a replica',
    );
    const victim = holder - 1;
    const killed = new Promise((r) => replicas[victim]!.proc.once('exit', r));
    replicas[victim]!.proc.kill('SIGKILL');
    await killed;
    expect(await slow).toMatch(/502|Bad Gateway|terminated|fetch failed|socket/i);
    for (let i = 0; i < 12; i++) await echo(client, `after-${i}`);
    expect(transport.sessionId).toBe(id);
    // Back to three for the next test.
    await replicas[victim]!.stop();
    await startReplica(victim);
    await waitFor(allUp, 15_000, 'the restarted replica to be UP');
    await client.close();
  }, 60_000);

  it('a rolling restart under load from a 2025-era and a 2026-era client loses no call', async () => {
    const { client: legacy, transport } = await connectV1();
    const modern = new ClientV2({ name: 'scale-v2', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(new TransportV2(new URL(`http://127.0.0.1:${lbPort}/mcp`)));
    expect(modern.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
    const id = transport.sessionId;
    let running = true;
    const failures: string[] = [];
    const counts = { legacy: 0, modern: 0 };
    const load = async (name: 'legacy' | 'modern', c: { callTool: Client['callTool'] }) => {
      while (running) {
        try {
          await echo(c, `${name}-${counts[name]}`);
          counts[name]++;
        } catch (err) {
          failures.push(`${name}: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 50)); // a failing client must not starve the test's timers
        }
      }
    };
    const loops = [load('legacy', legacy), load('modern', modern as never)];
    for (let i = 0; i < REPLICAS; i++) {
      const before = counts.legacy + counts.modern;
      expect(await replicas[i]!.stop('SIGTERM')).toBe(0);
      await startReplica(i);
      await waitFor(allUp, 15_000, `replica ${i} to be UP again`);
      // Calls kept flowing while this replica was away.
      expect(counts.legacy + counts.modern).toBeGreaterThan(before);
    }
    running = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(counts.legacy).toBeGreaterThan(20);
    expect(counts.modern).toBeGreaterThan(20);
    expect(transport.sessionId).toBe(id);
    await legacy.close();
    await modern.close();
  }, 120_000);
});

describe('without a session key', () => {
  it('a replica that never saw a session answers 404, as before', async () => {
    const compiled = await compileConfig(
      'single',
      `name: single\nbackends:\n  - name: e\n    transport: stdio\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(ECHO)}]\n`,
    );
    const noKey = { ...process.env };
    delete noKey.VMCP_SESSION_KEY;
    const a = await startBundle(compiled.bundle, [], noKey, compiled.dir);
    const b = await startBundle(compiled.bundle, [], noKey, compiled.dir);
    try {
      const client = new Client({ name: 'single', version: '1' });
      const t = new StreamableHTTPClientTransport(new URL(a.url));
      await client.connect(t);
      const res = await fetch(b.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': t.sessionId!,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(res.status).toBe(404);
      await client.close();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
