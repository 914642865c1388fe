/** HTTP upstreams: Streamable HTTP and legacy SSE backends, outgoing header auth, per-call timeouts. */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { ECHO, FAULT, startGatewayOver, type RunningGateway } from './harness.ts';

const children: ChildProcess[] = [];

/** Starts a fixture in `--http` or `--sse` mode and resolves with its base URL. */
function serveFixture(script: string, mode: '--http' | '--sse', env: Record<string, string> = {}): Promise<string> {
  const proc = spawn(process.execPath, [script, mode, '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(proc);
  return new Promise((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => {
      err += c;
      const m = /listening (\d+)/.exec(err);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    proc.once('exit', (code) => reject(new Error(`fixture exited ${code}: ${err}`)));
  });
}

let g: RunningGateway;
let client: Client;

beforeAll(async () => {
  const http = await serveFixture(ECHO, '--http');
  const sse = await serveFixture(ECHO, '--sse', { ECHO_PREFIX: 'sse_' });
  const slow = await serveFixture(FAULT, '--http', { FAULT: 'slow', SLOW_MS: '60000' });
  g = await startGatewayOver(
    [
      {
        name: 'web',
        transport: 'streamable-http',
        url: `${http}/mcp`,
        auth: { type: 'header_injection', headerName: 'x-api-key', headerValue: 'k-${env:VMCP_TEST_KEY}' },
      },
      { name: 'legacy', transport: 'sse', url: `${sse}/sse` },
      { name: 'slowweb', transport: 'streamable-http', url: `${slow}/mcp`, timeoutMs: 1000 },
    ],
    {},
    [],
    { ...process.env, VMCP_TEST_KEY: 'secret-value' },
  );
  client = new Client({ name: 'upstream-http', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(g.url)));
});
afterAll(async () => {
  await client?.close();
  await g?.stop();
  for (const c of children) c.kill();
});

describe('HTTP upstreams', () => {
  it('forwards to a Streamable HTTP backend, with progress', async () => {
    expect((await client.callTool({ name: 'echo', arguments: { text: 'over http' } })).structuredContent).toEqual({
      text: 'over http',
    });
    const seen: number[] = [];
    await client.callTool({ name: 'slow', arguments: { ms: 100 } }, CallToolResultSchema, {
      onprogress: (p) => seen.push(p.progress),
    });
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(((await client.readResource({ uri: 'fixture://items/3' })).contents[0] as any).text).toBe('{"id":"3"}');
  });

  it('forwards to a legacy SSE backend', async () => {
    expect((await client.callTool({ name: 'sse_echo', arguments: { text: 'over sse' } })).content).toEqual([
      { type: 'text', text: 'over sse' },
    ]);
  });

  it('bounds HTTP calls by the backend timeout and keeps the others working', async () => {
    // The backend sleeps 60 s: the call can only end this way through the 1000 ms timeout.
    await expect(client.callTool({ name: 'sleep', arguments: {} })).rejects.toThrow(
      /backend "slowweb" did not answer tools\/call within 1000 ms/,
    );
    expect((await client.callTool({ name: 'sse_add', arguments: { a: 1, b: 2 } })).structuredContent).toEqual({
      sum: 3,
    });
  });

  it('many sequential HTTP calls do not leak abort listeners', async () => {
    for (let i = 0; i < 300; i++) await client.callTool({ name: 'echo', arguments: { text: String(i) } });
    expect(g.logs()).not.toMatch(/MaxListenersExceeded/);
  });

  it('never logs the resolved secret', () => {
    expect(g.logs()).not.toContain('secret-value');
  });
});
