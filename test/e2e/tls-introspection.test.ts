import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INITIALIZE, compileWithEnv, rawPost, startAuthBackend, type AuthBackend } from './auth-helpers.ts';
import { startBundle, type RunningBundle } from './gateway.ts';
import { makePki, type Pki } from '../support/pki.ts';

// A private CA made with openssl in the test (test/support/pki.ts): an HTTPS identity provider that answers RFC 7662
// introspection, and an HTTPS MCP backend (a TLS terminator in front of the auth fixture). The
// gateway trusts that CA only through caBundlePath, for the IdP and for the backend.
const AUDIENCE = 'vmcp-tls-test';
const SECRET = 'introspect-secret-5b9e';

describe('caBundlePath and token introspection over a private CA', () => {
  let dir: string;
  let pki: Pki;
  let idp: HttpsServer;
  let tlsFront: Server;
  let backend: AuthBackend;
  let gw: RunningBundle;
  let idpUrl: string;
  const calls = new Map<string, number>();
  const auths: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmcp-tls-'));
    pki = makePki(dir);
    // The same CA under another name: a literal path equal to an env value would trip the leak check.
    writeFileSync(join(dir, 'idp-ca.pem'), readFileSync(pki.caPath));
    idp = createHttpsServer({ key: pki.key, cert: pki.cert }, (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url !== '/introspect' || req.method !== 'POST') return void res.writeHead(404).end();
        auths.push(String(req.headers.authorization));
        const token = new URLSearchParams(body).get('token') ?? '';
        calls.set(token, (calls.get(token) ?? 0) + 1);
        if (token === 'opaque-broken') return void res.writeHead(500).end('boom');
        const now = Math.floor(Date.now() / 1000);
        const doc =
          token === 'opaque-alice'
            ? { active: true, sub: 'alice', aud: AUDIENCE, exp: now + 300, scope: 'mcp:tools', iss: idpUrl }
            : token === 'opaque-other-aud'
              ? { active: true, sub: 'bob', aud: 'someone-else', exp: now + 300 }
              : { active: false };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
      });
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    idpUrl = `https://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    backend = await startAuthBackend();
    const backendPort = Number(new URL(backend.url).port);
    tlsFront = createTlsServer({ key: pki.key, cert: pki.cert }, (sock) => {
      const up = connect(backendPort, '127.0.0.1');
      sock.pipe(up).pipe(sock);
      up.on('error', () => sock.destroy());
      sock.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => tlsFront.listen(0, '127.0.0.1', r));
    const httpsUrl = `https://127.0.0.1:${(tlsFront.address() as AddressInfo).port}/mcp`;
    const compiled = await compileWithEnv(
      'tls',
      `name: tlsgw
backends:
  - name: b
    transport: streamable-http
    url: ${httpsUrl}
    caBundlePath: \${env:VMCP_T_CA}
incomingAuth:
  type: oidc
  oidc:
    issuer: ${idpUrl}
    audience: ${AUDIENCE}
    scopes: [mcp:tools]
    introspectionUrl: ${idpUrl}/introspect
    clientId: gw
    clientSecretEnv: VMCP_T_ISECRET
    caBundlePath: ${pki.caPath.replace('ca.pem', 'idp-ca.pem')}
`,
      { VMCP_T_CA: pki.caPath, VMCP_T_ISECRET: SECRET },
    );
    expect(readFileSync(compiled.bundle, 'utf8')).not.toContain(SECRET);
    gw = await startBundle(compiled.bundle, [], { ...process.env, VMCP_T_CA: pki.caPath, VMCP_T_ISECRET: SECRET });
  }, 90_000);

  afterAll(async () => {
    await gw?.stop();
    await backend?.stop();
    tlsFront?.close();
    idp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (token: string) => {
    const init = await rawPost(gw.url, INITIALIZE, { token });
    if (init.status !== 200) return { status: init.status, text: init.text, headers: init.headers };
    const session = init.headers.get('mcp-session-id')!;
    const r = await rawPost(
      gw.url,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'b_echo', arguments: { text: 'over tls' } } },
      { token, session },
    );
    return { status: r.status, text: r.text, headers: r.headers };
  };

  it('an active opaque token reaches the HTTPS backend (both trusted through caBundlePath)', async () => {
    const r = await call('opaque-alice');
    expect(r.status).toBe(200);
    expect(r.text).toContain('over tls');
    // HTTP Basic with clientId and the secret from clientSecretEnv.
    expect(auths[0]).toBe(`Basic ${Buffer.from(`gw:${SECRET}`).toString('base64')}`);
  });

  it('introspection answers are cached: many requests with one token, one introspection', async () => {
    const before = calls.get('opaque-alice') ?? 0;
    for (let i = 0; i < 5; i++) expect((await call('opaque-alice')).status).toBe(200);
    expect(calls.get('opaque-alice')).toBe(before);
  });

  it.each([
    ['an inactive token', 'opaque-revoked', 'the token is not active'],
    ['a token for another audience', 'opaque-other-aud', 'the token is for another audience'],
    ['an introspection endpoint failing', 'opaque-broken', 'the introspection endpoint failed (HTTP 500)'],
  ])('%s is refused with 401 and a challenge', async (_, token, why) => {
    const r = await call(token);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(r.text).toContain(why);
  });

  it('tokens and the client secret never reach the logs', () => {
    const logs = gw.logs();
    expect(logs).toContain('token introspection failed');
    for (const s of ['opaque-alice', 'opaque-broken', SECRET]) expect(logs).not.toContain(s);
  });

  it('a CA bundle that cannot be read stops the start-up, naming the setting and the path', async () => {
    const missing = join(dir, 'nope.pem');
    await expect(
      startBundle(gw.proc.spawnargs[1], [], { ...process.env, VMCP_T_CA: missing, VMCP_T_ISECRET: SECRET }),
    ).rejects.toThrow(/backend "b" caBundlePath: cannot read the CA bundle .*nope\.pem/);
  });
});
