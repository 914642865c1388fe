/**
 * rateLimiting on one gateway (buckets in memory), end to end with the real SDK clients: a tool's
 * bucket allows maxTokens calls and then refuses with ToolHive's answer (HTTP 429 + Retry-After, a
 * JSON-RPC error -32029 with data.retryAfterSeconds) in the 2025 era, the 2026 era and over stdio;
 * other tools are unaffected; /metrics counts the refusals by tool.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

const ECHO = join(REPO, 'test', 'fixtures', 'servers', 'echo-server.mjs');
const LIMIT = 3;
let gw: RunningBundle;
let bundle: string;
let dir: string;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const compiled = await compileConfig(
    'limited',
    `name: limited
backends:
  - name: e
    transport: stdio
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(ECHO)}]
rateLimiting:
  tools:
    - name: e_echo
      global: { maxTokens: ${LIMIT}, refillPeriod: 1h }
`,
  );
  bundle = compiled.bundle;
  dir = compiled.dir;
  gw = await startBundle(bundle, [], process.env, dir);
}, 60_000);

afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  await gw?.stop();
});

/** Either era's client: only callTool is used. */
type Caller = {
  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<Record<string, unknown>>;
};

const echo = (c: Caller, text: string) => c.callTool({ name: 'e_echo', arguments: { text } });

describe('rateLimiting in memory', () => {
  it('2025 era: maxTokens calls pass, the next gets 429 with Retry-After and -32029, other tools still pass', async () => {
    const client = new Client({ name: 'rl-v1', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(gw.url));
    await client.connect(transport);
    closers.push(() => client.close());
    for (let i = 0; i < LIMIT; i++) expect((await echo(client, `n${i}`)).isError).toBeFalsy();
    const refused = await echo(client, 'over').then(
      () => undefined,
      (e: Error) => e,
    );
    // The SDK surfaces a non-2xx answer as a transport error carrying the status and the body.
    expect((refused as Error & { code?: number })?.code).toBe(429);
    expect(refused?.message).toContain('-32029');
    expect(refused?.message).toContain('retryAfterSeconds');
    // The raw answer: ToolHive's status, header and body.
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': transport.sessionId!,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 42, method: 'tools/call', params: { name: 'e_echo', arguments: {} } }),
    });
    expect(res.status).toBe(429);
    const body = (await res.json()) as { error: { data: { retryAfterSeconds: number } } };
    expect(body).toMatchObject({ jsonrpc: '2.0', id: 42, error: { code: -32029, message: 'Rate limit exceeded' } });
    expect(Number(res.headers.get('retry-after'))).toBe(body.error.data.retryAfterSeconds);
    // One token per 20 min (3 an hour): the wait is about that long, never zero.
    expect(body.error.data.retryAfterSeconds).toBeGreaterThan(1000);
    expect(body.error.data.retryAfterSeconds).toBeLessThanOrEqual(1200);
    // A tool without a limit is unaffected, and lists are never limited.
    const other = await client.callTool({ name: 'e_add', arguments: { a: 1, b: 2 } });
    expect(other.isError).toBeFalsy();
    expect((await client.listTools()).tools.length).toBeGreaterThan(1);
  });

  it('2026 era: the same bucket refuses a modern client', async () => {
    const modern = new ClientV2({ name: 'rl-v2', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(new TransportV2(new URL(gw.url)));
    closers.push(() => modern.close());
    expect(modern.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
    const refused = await echo(modern, 'modern').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(refused).toBeDefined();
    expect(String(refused?.message)).toMatch(/429|Rate limit exceeded/);
  });

  it('/metrics counts refusals by tool and bucket', async () => {
    const text = await (await fetch(gw.url.replace('/mcp', '/metrics'))).text();
    const m = /^vmcp_rate_limited_total\{tool="e_echo",limit="tool"\} (\d+)$/m.exec(text);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/vmcp_requests_total\{method="tools\/call",kind="tool",name="e_echo",outcome="denied"\} \d+/);
  });

  it('stdio: the refusal is a JSON-RPC error -32029 with retryAfterSeconds', async () => {
    const client = new Client({ name: 'rl-stdio', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [bundle, '--stdio'],
        cwd: dir,
        env: getDefaultEnvironment(),
        stderr: 'ignore',
      }),
    );
    closers.push(() => client.close());
    for (let i = 0; i < LIMIT; i++) expect((await echo(client, `s${i}`)).isError).toBeFalsy();
    const refused = (await echo(client, 'over').then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: number; data?: { retryAfterSeconds?: number } } | undefined;
    expect(refused?.code).toBe(-32029);
    expect(refused?.data?.retryAfterSeconds).toBeGreaterThan(0);
  });
});
