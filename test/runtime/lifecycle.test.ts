/** Process lifecycle: stdio mode, start-up errors, graceful shutdown without orphans, bundle contents. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioTransportV2 } from '@modelcontextprotocol/client/stdio';
import { ECHO, buildGateway, bundleGateway, getJson, pidAlive, runBundle, waitFor } from './harness.ts';

const PROBE = join(import.meta.dirname, 'fixtures', 'probe-server.mjs');
const alive = pidAlive;

describe('stdio mode', () => {
  it('serves the same gateway over stdio; stdout carries only protocol', async () => {
    const bundle = await bundleGateway(await buildGateway([{ name: 'echo', args: [ECHO] }], { prefix: true }));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bundle, '--stdio'],
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (c) => (stderr += c));
    const errors: Error[] = [];
    const c = new Client({ name: 'stdio-test', version: '1' });
    c.onerror = (e) => void errors.push(e);
    await c.connect(transport);
    expect((await c.listTools()).tools.map((t) => t.name)).toContain('echo_echo');
    const seen: number[] = [];
    expect((await c.callTool({ name: 'echo_echo', arguments: { text: 'piped' } })).content).toEqual([
      { type: 'text', text: 'piped' },
    ]);
    await c.callTool({ name: 'echo_slow', arguments: { ms: 80 } }, undefined, {
      onprogress: (p) => seen.push(p.progress),
    });
    // The v1 client itself drops progress that arrives in the same stdout chunk as the result (seen
    // directly against the fixture too; how many do depends on scheduling), so only the order of
    // what it kept is asserted here; the raw test below proves the gateway writes all four first.
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen).toEqual([1, 2, 3, 4].slice(0, seen.length));
    await c.close();
    // Only the v1 client's own quirk is tolerated: it handles a response before the notifications
    // that preceded it in the same stdout chunk (the raw test below shows the gateway's order).
    expect(
      errors
        .map((e) => e.message)
        .filter((m) => !m.startsWith('Received a progress notification for an unknown token')),
    ).toEqual([]);
    expect(stderr).toMatch(/"msg":"vmcp serving on stdio"/); // logs go to stderr
  });

  it('serves 2026-07-28 over stdio to the v2 client (auto negotiation)', async () => {
    const bundle = await bundleGateway(await buildGateway([{ name: 'echo', args: [ECHO] }]));
    const c = new ClientV2({ name: 'v2-stdio', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await c.connect(new StdioTransportV2({ command: process.execPath, args: [bundle, '--stdio'] }));
    expect(c.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
    expect((await c.callTool({ name: 'echo', arguments: { text: 'v2 over stdio' } })).structuredContent).toEqual({
      text: 'v2 over stdio',
    });
    await c.close();
  });

  it('writes every progress notification before the result, with the client token (raw stdio)', async () => {
    const bundle = await bundleGateway(await buildGateway([{ name: 'echo', args: [ECHO] }]));
    const p = spawn(process.execPath, [bundle, '--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    const send = (m: unknown) => p.stdin.write(`${JSON.stringify(m)}\n`);
    send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 80 }, _meta: { progressToken: 'tok-A' } },
    });
    await waitFor(() => out.includes('"id":1,'), 10_000, 'the result');
    p.kill();
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.slice(1).map((m) => m.method ?? `result ${m.id}`)).toEqual([
      ...Array(4).fill('notifications/progress'),
      'result 1',
    ]);
    expect(lines.slice(1, 5).map((m) => [m.params.progressToken, m.params.progress])).toEqual([
      ['tok-A', 1],
      ['tok-A', 2],
      ['tok-A', 3],
      ['tok-A', 4],
    ]);
  });
});

describe('start-up errors', () => {
  it('a missing env var stops start-up with one line naming it and the backend, exit 1', async () => {
    const gw = await buildGateway([{ name: 'echo', args: [ECHO] }]);
    gw.backends[0].auth = {
      type: 'header_injection',
      headerName: 'authorization',
      headerValueEnv: 'VMCP_SURELY_UNSET_TOKEN',
    };
    gw.backends[0].env = { API: '${env:VMCP_SURELY_UNSET_TOKEN}' };
    const bundle = await bundleGateway(gw);
    const env = { ...process.env };
    delete env.VMCP_SURELY_UNSET_TOKEN;
    const proc = spawn(process.execPath, [bundle, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (c) => (err += c));
    const code = await new Promise((r) => proc.once('exit', r));
    expect(code).toBe(1);
    expect(err.trim()).toMatch(
      /^vmcp: error: environment variable VMCP_SURELY_UNSET_TOKEN is not set \(needed by backend "echo"/,
    );
    expect(err.trim().split('\n')).toHaveLength(1);
  });

  it('a bad flag is a one-line error', async () => {
    const bundle = await bundleGateway(await buildGateway([{ name: 'echo', args: [ECHO] }]));
    const proc = spawn(process.execPath, [bundle, '--prot', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (c) => (err += c));
    expect(await new Promise((r) => proc.once('exit', r))).toBe(1);
    expect(err).toMatch(/^vmcp: error: unknown option --prot/);
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM drains the in-flight call, then exits 0 leaving no child process', async () => {
    const gw = await buildGateway([
      { name: 'echo', args: [ECHO] },
      { name: 'probe', args: [PROBE] },
    ]);
    const g = await runBundle(await bundleGateway(gw));
    const pids: number[] = await waitFor(
      async () => {
        const bs = (await getJson(g, '/status')).body.backends as any[];
        return bs.every((b) => b.state === 'ready')
          ? bs.map((b) => b.pid as number)
          : (undefined as unknown as number[]);
      },
      10_000,
      'backends ready',
    );
    expect(pids.every(alive)).toBe(true);
    const c = new Client({ name: 'drain', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(g.url)));
    const call = c.callTool({ name: 'wait', arguments: { ms: 600 } });
    await new Promise((r) => setTimeout(r, 100));
    const code = g.stop('SIGTERM');
    expect((await call).content).toEqual([{ type: 'text', text: 'waited' }]);
    expect(await code).toBe(0);
    await waitFor(() => pids.every((p) => !alive(p)), 5000, 'children gone');
  });

  /** The shutdown line's count of client calls to drain. */
  const drained = (logs: string) => {
    const line = logs.split('\n').find((l) => l.includes('shutting down: draining'));
    return line === undefined ? undefined : JSON.parse(line).inflight;
  };

  it('SIGTERM while a backend is still starting does not wait for its handshake; the child is killed', async () => {
    // The backend answers initialize only after a minute: the gateway's own handshake is pending.
    const gw = await buildGateway([
      { name: 'echo', args: [ECHO], env: { ECHO_INIT_DELAY_MS: '60000' }, introspectEnv: {} },
    ]);
    const g = await runBundle(await bundleGateway(gw));
    const pid: number = await waitFor(
      async () => {
        const [b] = (await getJson(g, '/status')).body.backends as any[];
        return b.state === 'connecting' && typeof b.pid === 'number' ? b.pid : (undefined as unknown as number);
      },
      10_000,
      'backend spawned',
    );
    expect(await g.stop('SIGTERM')).toBe(0);
    // Counting the handshake as a client call held every such shutdown for the whole drain (5 s),
    // long enough for a supervisor's grace period to SIGKILL the gateway and orphan its children.
    expect(drained(g.logs())).toBe(0);
    await waitFor(() => !alive(pid), 5000, 'child gone');
  });

  it('a call cancelled while it waits for its backend stops waiting, and SIGTERM does not wait for it', async () => {
    // The call's own timeout is long: only the cancellation can end its wait within the test.
    const gw = await buildGateway([
      { name: 'echo', args: [ECHO], env: { ECHO_INIT_DELAY_MS: '60000' }, introspectEnv: {}, timeoutMs: 120_000 },
    ]);
    const g = await runBundle(await bundleGateway(gw));
    const c = new Client({ name: 'cancel-waiting', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(g.url)));
    const ac = new AbortController();
    const call = c.callTool({ name: 'echo', arguments: { text: 'never sent' } }, undefined, { signal: ac.signal });
    const waiting = async () => ((await getJson(g, '/status')).body.backends as any[])[0].clientCalls;
    await waitFor(async () => (await waiting()) === 1, 10_000, 'the call waiting for the backend');
    ac.abort(); // the SDK sends notifications/cancelled
    await expect(call).rejects.toThrow();
    await waitFor(async () => (await waiting()) === 0, 10_000, 'the cancelled call no longer waiting');
    expect(await g.stop('SIGTERM')).toBe(0);
    expect(drained(g.logs())).toBe(0);
  });

  it('SIGTERM drains a client call that is waiting for its backend to become ready', async () => {
    const gw = await buildGateway([
      { name: 'echo', args: [ECHO], env: { ECHO_INIT_DELAY_MS: '1500' }, introspectEnv: {} },
    ]);
    const g = await runBundle(await bundleGateway(gw));
    const c = new Client({ name: 'drain-waiting', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(g.url)));
    const call = c.callTool({ name: 'echo', arguments: { text: 'after the handshake' } });
    // The call has reached the backend and waits for its handshake.
    await waitFor(
      async () => ((await getJson(g, '/status')).body.backends as any[])[0].clientCalls === 1,
      10_000,
      'the call waiting for the backend',
    );
    const code = g.stop('SIGTERM');
    expect((await call).content).toEqual([{ type: 'text', text: 'after the handshake' }]);
    expect(await code).toBe(0);
    expect(drained(g.logs())).toBe(1);
  });
});

describe('bundle contents', () => {
  it('contains only the transports and strategies the config uses, and no compiler or SDK code', async () => {
    const bundle = await bundleGateway(await buildGateway([{ name: 'echo', args: [ECHO] }]));
    const text = readFileSync(bundle, 'utf8');
    expect(text).toContain('child_process');
    expect(text).not.toMatch(/text\/event-stream, application\/json|endpoint event/); // no HTTP/SSE client transports
    expect(text).not.toContain('header_injection needs');
    for (const banned of ['ts-morph', 'zod', 'esbuild', 'yaml', '@modelcontextprotocol', 'ZodError'])
      expect(text).not.toContain(banned);
    expect(text.length).toBeLessThan(200_000);
  });
});
