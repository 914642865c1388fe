import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userInfo } from 'node:os';
import { INITIALIZE, compileWithEnv, rawPost, startAuthBackend, type AuthBackend } from './auth-helpers.ts';
import { startBundle, type RunningBundle } from './gateway.ts';

// incomingAuth local, as ToolHive: no token check, every request is the OS user the gateway runs
// as, with ToolHive's claims, which a Cedar policy can read.
describe('incomingAuth local', () => {
  let backend: AuthBackend;
  let gw: RunningBundle;
  const user = userInfo().username;

  beforeAll(async () => {
    backend = await startAuthBackend();
    const { bundle } = await compileWithEnv(
      'local',
      `name: localgw
backends:
  - name: b
    transport: streamable-http
    url: ${backend.url}
incomingAuth:
  type: local
  authz:
    type: cedar
    policies:
      - 'permit(principal, action == Action::"call_tool", resource == Tool::"b_echo") when { principal has claim_iss && principal.claim_iss == "toolhive-local" && principal.claim_email == "${user}@localhost" };'
`,
      {},
    );
    gw = await startBundle(bundle);
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await backend?.stop();
  });

  const session = async (opts: { authorization?: string } = {}) => {
    const init = await rawPost(gw.url, INITIALIZE, opts);
    expect(init.status).toBe(200);
    const sid = init.headers.get('mcp-session-id')!;
    let id = 10;
    return async (method: string, params: Record<string, unknown>) => {
      const r = await rawPost(gw.url, { jsonrpc: '2.0', id: ++id, method, params }, { ...opts, session: sid });
      return { status: r.status, body: JSON.parse(r.text) };
    };
  };

  it('serves a client without a token as the local user, whose claims the policy reads', async () => {
    const rpc = await session();
    expect((await rpc('tools/list', {})).body.result.tools.map((t: { name: string }) => t.name)).toEqual(['b_echo']);
    const ok = await rpc('tools/call', { name: 'b_echo', arguments: { text: 'hi' } });
    expect(ok.body.result.content[0].text).toBe('hi');
    const denied = await rpc('tools/call', { name: 'b_whoami', arguments: {} });
    expect(denied.status).toBe(403);
  });

  it('ignores whatever Authorization a client sends, and never forwards it', async () => {
    const rpc = await session({ authorization: 'Bearer not-checked' });
    expect((await rpc('tools/call', { name: 'b_echo', arguments: { text: 'x' } })).status).toBe(200);
    const seen = JSON.parse((await backendSeen()).text);
    expect(seen).not.toContain('Bearer not-checked');
  });

  it('publishes no protected resource metadata (there is no authorization server)', async () => {
    const res = await fetch(gw.url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'));
    expect(res.status).toBe(404);
  });

  it('logs that requests are not authenticated', () => {
    expect(gw.logs()).toContain('incomingAuth local: requests are not authenticated');
  });

  // The backend's own record of Authorization values, read directly (b_seen is not permitted).
  async function backendSeen() {
    const init = await rawPost(backend.url, INITIALIZE);
    const sid = init.headers.get('mcp-session-id')!;
    await rawPost(backend.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { session: sid });
    const r = await rawPost(
      backend.url,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'seen', arguments: {} } },
      { session: sid },
    );
    const body = r.text.startsWith('event:') ? JSON.parse(/data: (.*)/.exec(r.text)![1]) : JSON.parse(r.text);
    return { text: body.result.content[0].text as string };
  }
});
