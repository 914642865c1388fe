/**
 * Signed session ids with OIDC (issue 17): a session created on one replica is served by another
 * replica for the same caller, and refused there (404, as an unknown id) for any other caller,
 * without counting against the owner. Two real bundle processes share VMCP_SESSION_KEY; tokens come
 * from a local issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startIssuer, type Issuer } from '../fixtures/oauth/issuer.ts';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';
import { join } from 'node:path';

const ECHO = join(REPO, 'test', 'fixtures', 'servers', 'echo-server.mjs');
const AUDIENCE = 'vmcp-signed';
let issuer: Issuer;
let a: RunningBundle;
let b: RunningBundle;

beforeAll(async () => {
  issuer = await startIssuer();
  const compiled = await compileConfig(
    'signed',
    `name: signed
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
`,
  );
  const env = { ...process.env, VMCP_SESSION_KEY: 'signed-sessions-test-key-0123456789abcdef' };
  [a, b] = await Promise.all([
    startBundle(compiled.bundle, [], env, compiled.dir),
    startBundle(compiled.bundle, [], env, compiled.dir),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await issuer?.close();
});

const listTools = async (url: string, token: string, session: string) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
      'mcp-session-id': session,
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
  });
const sessionsOn = async (g: RunningBundle) => {
  const text = await (await fetch(g.url.replace(/\/mcp$/, '/metrics'))).text();
  return Number(/^vmcp_sessions (\d+)$/m.exec(text)![1]);
};

describe('signed session ids with OIDC', () => {
  it("another replica serves the owner's session, and refuses everyone else's use of it", async () => {
    const alice = await issuer.mint({ sub: 'alice', aud: AUDIENCE });
    const bob = await issuer.mint({ sub: 'bob', aud: AUDIENCE });
    const client = new Client({ name: 'signed', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(a.url), {
      requestInit: { headers: { authorization: `Bearer ${alice}` } },
    });
    await client.connect(transport);
    const id = transport.sessionId!;
    expect(await sessionsOn(b)).toBe(0);
    // Bob holds the id but is not its owner: 404 on the replica that never saw it, and nothing admitted.
    expect((await listTools(b.url, bob, id)).status).toBe(404);
    expect(await sessionsOn(b)).toBe(0);
    // Alice's own requests are served there, the session restored from its id.
    const res = await listTools(b.url, alice, id);
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('e_echo');
    expect(await sessionsOn(b)).toBe(1);
    // And Bob is still refused on the replica that now holds it.
    expect((await listTools(b.url, bob, id)).status).toBe(404);
    await client.close();
  });
});
