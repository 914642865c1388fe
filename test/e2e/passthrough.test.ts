import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { join } from 'node:path';
import { INITIALIZE, rawPost, startAuthBackend, type AuthBackend } from './auth-helpers.ts';
import { REPO, compileConfig, startBundle, type RunningBundle } from './gateway.ts';

// passthroughHeaders end to end: a compiled bundle in front of two HTTP backends that echo the
// headers they receive, and a stdio backend that cannot take any; real SDK clients of both eras.
const ECHO = join(REPO, 'test', 'fixtures', 'servers', 'echo-server.mjs');

describe('passthroughHeaders', () => {
  let a: AuthBackend;
  let b: AuthBackend;
  let gw: RunningBundle;
  const clients: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    a = await startAuthBackend(undefined, 'a');
    b = await startAuthBackend(undefined, 'b');
    const { bundle } = await compileConfig(
      'passthrough',
      `name: passgw
passthroughHeaders: [X-Tenant-Id, x-request-tag]
backends:
  - name: a
    transport: streamable-http
    url: ${a.url}
  - name: b
    transport: streamable-http
    url: ${b.url}
    headers: { X-Request-Tag: from-config }
  - name: local
    transport: stdio
    command: node
    args: [${ECHO}]
`,
    );
    gw = await startBundle(bundle);
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await gw?.stop();
    await a?.stop();
    await b?.stop();
  });

  const v1 = async (headers: Record<string, string>) => {
    const c = new Client({ name: 'pass-v1', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(gw.url), { requestInit: { headers } }));
    clients.push(c);
    return c;
  };
  const seenBy = async (c: Client, tool: string): Promise<Record<string, string>> => {
    const r = await c.request({ method: 'tools/call', params: { name: tool, arguments: {} } }, CallToolResultSchema);
    return JSON.parse((r.content[0] as { text: string }).text);
  };

  it('forwards allowlisted headers per call, on one shared upstream, each caller its own value', async () => {
    const alpha = await v1({ 'X-Tenant-Id': 'alpha', 'X-Request-Tag': 't1' });
    const beta = await v1({ 'X-Tenant-Id': 'beta' });
    const none = await v1({});
    // Interleaved and concurrent: the shared upstream connection must not mix them up.
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => [alpha, beta, none][i % 3]).map((c) => seenBy(c, 'a_headers')),
    );
    results.forEach((h, i) => {
      const want = [
        { tenant: 'alpha', tag: 't1' },
        { tenant: 'beta', tag: undefined },
        { tenant: undefined, tag: undefined },
      ][i % 3];
      expect(h['x-tenant-id']).toBe(want.tenant);
      expect(h['x-request-tag']).toBe(want.tag);
    });
  });

  it('never overrides a header the backend config sets', async () => {
    const c = await v1({ 'X-Tenant-Id': 'gamma', 'X-Request-Tag': 'client-wins?' });
    const h = await seenBy(c, 'b_headers');
    expect(h['x-tenant-id']).toBe('gamma');
    expect(h['x-request-tag']).toBe('from-config');
  });

  it('forwards nothing that is not on the list: no Authorization, Cookie or other client header', async () => {
    const c = await v1({
      'X-Tenant-Id': 'delta',
      Authorization: 'Bearer client-secret-token',
      Cookie: 'session=client-cookie',
      'X-Other': 'nope',
    });
    const h = await seenBy(c, 'a_headers');
    expect(h['x-tenant-id']).toBe('delta');
    expect(h.authorization).toBeUndefined();
    expect(h.cookie).toBeUndefined();
    expect(h['x-other']).toBeUndefined();
  });

  it('2026-07-28 calls (v2 client, no session) carry them too', async () => {
    const c = new ClientV2({ name: 'pass-v2', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await c.connect(new TransportV2(new URL(gw.url), { requestInit: { headers: { 'X-Tenant-Id': 'modern' } } }));
    clients.push(c);
    expect(c.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
    const r = await c.callTool({ name: 'a_headers', arguments: {} });
    expect(JSON.parse((r.content as Array<{ text: string }>)[0].text)['x-tenant-id']).toBe('modern');
  });

  it('stdio backends keep working (they cannot receive headers)', async () => {
    const c = await v1({ 'X-Tenant-Id': 'alpha' });
    const r = await c.request(
      { method: 'tools/call', params: { name: 'local_echo', arguments: { text: 'hi' } } },
      CallToolResultSchema,
    );
    expect(r.isError).toBeFalsy();
  });

  it('a value over the bound is refused with 431 before anything is forwarded', async () => {
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'x-tenant-id': 'x'.repeat(9000),
      },
      body: JSON.stringify(INITIALIZE),
    });
    expect(res.status).toBe(431);
    expect(await res.text()).toContain('x-tenant-id');
    // The gateway still serves.
    expect((await rawPost(gw.url, INITIALIZE)).status).toBe(200);
  });
});
