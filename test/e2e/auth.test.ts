import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { SignJWT, exportSPKI, importJWK, type CryptoKey } from 'jose';
import { startIssuer, type Issuer } from '../fixtures/oauth/issuer.ts';
import { startTokenServer, type TokenServer } from '../fixtures/oauth/token-server.ts';
import { INITIALIZE, compileWithEnv, rawPost, startAuthBackend, type AuthBackend } from './auth-helpers.ts';
import { startBundle, type RunningBundle } from './gateway.ts';

// Incoming OIDC in front of two HTTP backends, one reached with RFC 8693 token exchange and one
// with client credentials, against a real local issuer and a real token endpoint.
const SECRET = 'gw-client-secret-7d1f0c2a';
const AUDIENCE = 'vmcp-auth-test';

describe('OIDC in, token exchange and client credentials out', () => {
  let issuer: Issuer;
  let tokens: TokenServer;
  let xchg: AuthBackend;
  let cc: AuthBackend;
  let gw: RunningBundle;
  let compiled: Awaited<ReturnType<typeof compileWithEnv>>;
  const clientTokens: string[] = [];
  const mint = async (claims: Record<string, unknown>, opts?: Parameters<Issuer['mint']>[1]) => {
    const t = await issuer.mint({ aud: AUDIENCE, scope: 'mcp:tools', ...claims }, opts);
    clientTokens.push(t);
    return t;
  };

  beforeAll(async () => {
    issuer = await startIssuer();
    tokens = await startTokenServer({ clients: { 'vmcp-gw': SECRET } });
    xchg = await startAuthBackend('Bearer xchg-', 'xchg');
    cc = await startAuthBackend('Bearer cc-', 'cc');
    const yaml = `name: authgw
backends:
  - name: xchg
    transport: streamable-http
    url: ${xchg.url}
  - name: cc
    transport: streamable-http
    url: ${cc.url}
incomingAuth:
  type: oidc
  oidc:
    issuer: ${issuer.issuer}
    audience: ${AUDIENCE}
    scopes: [mcp:tools]
outgoingAuth:
  backends:
    xchg:
      type: token_exchange
      tokenExchange: { tokenUrl: ${tokens.tokenUrl}, clientId: vmcp-gw, clientSecretEnv: VMCP_T_SECRET, audience: backend-xchg }
    cc:
      type: client_credentials
      clientCredentials: { tokenUrl: ${tokens.tokenUrl}, clientId: vmcp-gw, clientSecretEnv: VMCP_T_SECRET }
`;
    // Compile lists the token-exchange backend with a CI identity's token (VMCP_SUBJECT_TOKEN).
    compiled = await compileWithEnv('oidc', yaml, {
      VMCP_T_SECRET: SECRET,
      VMCP_SUBJECT_TOKEN: await mint({ sub: 'ci-bot' }),
    });
    gw = await startBundle(compiled.bundle, [], { ...process.env, VMCP_T_SECRET: SECRET, VMCP_LOG_LEVEL: 'debug' });
  });
  afterAll(async () => {
    await gw?.stop();
    await Promise.all([xchg?.stop(), cc?.stop(), tokens?.close(), issuer?.close()]);
  });

  const connect = async (token: string) => {
    const client = new Client({ name: 'auth-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(gw.url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    return client;
  };
  const text = (r: any) => (r.content as Array<{ text: string }>).map((c) => c.text).join('');

  it('compiled both backends with fetched credentials (the lock lists their tools)', () => {
    const lock = JSON.parse(readFileSync(compiled.lock, 'utf8'));
    expect(Object.keys(lock.backends.xchg.tools)).toContain('whoami');
    expect(Object.keys(lock.backends.cc.tools)).toContain('whoami');
  });

  it('serves RFC 9728 protected resource metadata', async () => {
    const res = await fetch(gw.url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: gw.url,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:tools'],
    });
  });

  it('a backend receives the exchanged token, never the client token; the other gets client credentials', async () => {
    const token = await mint({ sub: 'alice' });
    const client = await connect(token);
    try {
      const a = text(
        await client.request(
          { method: 'tools/call', params: { name: 'xchg_whoami', arguments: {} } },
          CallToolResultSchema,
        ),
      );
      expect(a).toMatch(/^Bearer xchg-\d+-[0-9a-f]{8}$/);
      const b = text(
        await client.request(
          { method: 'tools/call', params: { name: 'cc_whoami', arguments: {} } },
          CallToolResultSchema,
        ),
      );
      expect(b).toMatch(/^Bearer cc-\d+$/);
      for (const name of ['xchg_seen', 'cc_seen']) {
        const seen = JSON.parse(
          text(await client.request({ method: 'tools/call', params: { name, arguments: {} } }, CallToolResultSchema)),
        ) as string[];
        expect(seen.length).toBeGreaterThan(0);
        for (const t of clientTokens) expect(seen.some((s) => s.includes(t))).toBe(false);
      }
    } finally {
      await client.close();
    }
  });

  it('N calls of one subject make one exchange; another subject gets its own; expiry triggers a refresh', async () => {
    const before = tokens.requests.filter((r) => r.grantType?.endsWith('token-exchange')).length;
    const token = await mint({ sub: 'bob' });
    const client = await connect(token);
    try {
      const call = () =>
        client
          .request({ method: 'tools/call', params: { name: 'xchg_whoami', arguments: {} } }, CallToolResultSchema)
          .then(text);
      const first = await call();
      const all = await Promise.all(Array.from({ length: 10 }, call));
      expect(new Set(all)).toEqual(new Set([first]));
      const exchanges = () => tokens.requests.filter((r) => r.grantType?.endsWith('token-exchange')).slice(before);
      expect(exchanges()).toHaveLength(1);
      expect(exchanges()[0].form).toMatchObject({
        subject_token: token,
        audience: 'backend-xchg',
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      });

      const carol = await connect(await mint({ sub: 'carol' }));
      try {
        const c = text(
          await carol.request(
            { method: 'tools/call', params: { name: 'xchg_whoami', arguments: {} } },
            CallToolResultSchema,
          ),
        );
        expect(c).not.toBe(first);
        expect(exchanges()).toHaveLength(2);
      } finally {
        await carol.close();
      }

      // Short-lived exchanged tokens: the next call after expiry exchanges again.
      tokens.setExpiresIn(1);
      const dave = await connect(await mint({ sub: 'dave' }));
      try {
        const d1 = text(
          await dave.request(
            { method: 'tools/call', params: { name: 'xchg_whoami', arguments: {} } },
            CallToolResultSchema,
          ),
        );
        await new Promise((r) => setTimeout(r, 1300));
        const d2 = text(
          await dave.request(
            { method: 'tools/call', params: { name: 'xchg_whoami', arguments: {} } },
            CallToolResultSchema,
          ),
        );
        expect(d2).not.toBe(d1);
        expect(exchanges()).toHaveLength(4);
      } finally {
        tokens.setExpiresIn(3600);
        await dave.close();
      }
    } finally {
      await client.close();
    }
  });

  it('a session belongs to its subject: another valid token gets 404 for it', async () => {
    const alice = await mint({ sub: 'alice' });
    const init = await rawPost(gw.url, INITIALIZE, { token: alice });
    expect(init.status).toBe(200);
    const session = init.headers.get('mcp-session-id')!;
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
    expect((await rawPost(gw.url, list, { token: alice, session })).status).toBe(200);
    const mallory = await mint({ sub: 'mallory' });
    const stolen = await rawPost(gw.url, list, { token: mallory, session });
    expect(stolen.status).toBe(404);
    expect((await rawPost(gw.url, list, { session })).status).toBe(401);
  });

  describe('negative matrix: every bad token is refused with a challenge', () => {
    const forge = async (header: object, payload: object, sign: (input: string) => string) => {
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const input = `${b64(header)}.${b64(payload)}`;
      return `${input}.${sign(input)}`;
    };
    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<[string, () => Promise<string | undefined>, number, RegExp]> = [
      ['missing token', async () => undefined, 401, /missing bearer token/],
      ['empty bearer', async () => 'Bearer ', 401, /Bearer <token>/],
      ['Basic scheme', async () => 'Basic dXNlcjpwYXNz', 401, /Bearer <token>/],
      ['malformed token', async () => 'Bearer not.a.jwt', 401, /malformed/],
      ['garbage', async () => 'Bearer %%%%', 401, /malformed/],
      [
        'alg none',
        async () =>
          `Bearer ${await forge({ alg: 'none', typ: 'JWT' }, { iss: issuer.issuer, aud: AUDIENCE, sub: 'x', exp: now() + 60, scope: 'mcp:tools' }, () => '')}`,
        401,
        /algorithm|malformed/,
      ],
      [
        'HS256 signed with the public key',
        async () => {
          const pub = (await importJWK(issuer.publicJwk(), 'RS256')) as CryptoKey;
          const pem = await exportSPKI(pub);
          const t = await new SignJWT({ iss: issuer.issuer, aud: AUDIENCE, sub: 'x', scope: 'mcp:tools' })
            .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
            .setExpirationTime('5m')
            .sign(new TextEncoder().encode(pem));
          return `Bearer ${t}`;
        },
        401,
        /algorithm/,
      ],
      [
        'wrong iss',
        async () => `Bearer ${await mint({ sub: 'x' }, { iss: 'https://evil.example.com' })}`,
        401,
        /another issuer/,
      ],
      ['wrong aud', async () => `Bearer ${await mint({ sub: 'x', aud: 'someone-else' })}`, 401, /another audience/],
      ['expired', async () => `Bearer ${await mint({ sub: 'x' }, { expiresIn: -120 })}`, 401, /expired/],
      ['nbf in the future', async () => `Bearer ${await mint({ sub: 'x', nbf: now() + 600 })}`, 401, /not valid yet/],
      ['unknown kid', async () => `Bearer ${await mint({ sub: 'x' }, { kid: 'nope' })}`, 401, /unknown kid/],
      [
        'tampered payload',
        async () => {
          const [h, , s] = (await mint({ sub: 'x' })).split('.');
          const p = Buffer.from(
            JSON.stringify({ iss: issuer.issuer, aud: AUDIENCE, sub: 'admin', exp: now() + 60, scope: 'mcp:tools' }),
          ).toString('base64url');
          return `Bearer ${h}.${p}.${s}`;
        },
        401,
        /signature/,
      ],
      ['missing scope', async () => `Bearer ${await mint({ sub: 'x', scope: 'other' })}`, 403, /lacks scope mcp:tools/],
      ['no exp', async () => `Bearer ${await mint({ sub: 'x' }, { noExp: true })}`, 401, /"exp"/],
      ['no sub', async () => `Bearer ${await mint({})}`, 401, /"sub"/],
      ['token in a query string is not a credential', async () => undefined, 401, /missing bearer token/],
    ];
    for (const [name, make, status, reason] of cases) {
      it(name, async () => {
        const authorization = await make();
        const url = name.includes('query') ? `${gw.url}?access_token=${await mint({ sub: 'x' })}` : gw.url;
        const res = await rawPost(url, INITIALIZE, authorization === undefined ? {} : { authorization });
        expect(res.status).toBe(status);
        const challenge = res.headers.get('www-authenticate') ?? '';
        expect(challenge).toContain(
          `resource_metadata="${gw.url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp')}"`,
        );
        const code =
          status === 403
            ? 'insufficient_scope'
            : /Bearer <token>/.test(String(reason))
              ? 'invalid_request'
              : 'invalid_token';
        if (authorization !== undefined) expect(challenge).toContain(`error="${code}"`);
        else expect(challenge).not.toContain('error=');
        expect(JSON.parse(res.text).error.message).toMatch(reason);
        expect(res.headers.get('mcp-session-id')).toBeNull();
      });
    }
    it('a token expired within the clock skew is still accepted (control)', async () => {
      const res = await rawPost(gw.url, INITIALIZE, { token: await mint({ sub: 'x' }, { expiresIn: -5 }) });
      expect(res.status).toBe(200);
    });
  });

  it('secrets and tokens reach no artifact, /status or the logs', async () => {
    const status = await (await fetch(gw.url.replace('/mcp', '/status'))).text();
    const artifacts: Record<string, string> = {
      bundle: readFileSync(compiled.bundle, 'utf8'),
      manifest: readFileSync(compiled.manifest, 'utf8'),
      lock: readFileSync(compiled.lock, 'utf8'),
      status,
      logs: gw.logs(),
      compileOutput: compiled.err,
    };
    const issuedUpstream = [...tokens.issued.keys()];
    expect(issuedUpstream.length).toBeGreaterThan(2);
    for (const [what, text] of Object.entries(artifacts)) {
      expect(text.includes(SECRET), `${what} contains the client secret`).toBe(false);
      for (const t of clientTokens) expect(text.includes(t), `${what} contains a client token`).toBe(false);
      for (const t of issuedUpstream) expect(text.includes(t), `${what} contains an upstream token`).toBe(false);
    }
    expect(gw.logs()).toContain('"level":20'); // debug logging was on, so the check covers it
  });
});

describe('OIDC fail closed', () => {
  it('refuses every request while the JWKS is down, keeps serving, and recovers', async () => {
    const issuer = await startIssuer();
    const backend = await startAuthBackend();
    let gw: RunningBundle | undefined;
    try {
      const yaml = `name: closed
backends:
  - { name: b, transport: streamable-http, url: ${backend.url} }
incomingAuth:
  type: oidc
  oidc: { issuer: ${issuer.issuer}, audience: ${AUDIENCE}, jwksUrl: ${issuer.jwksUrl} }
`;
      const { bundle } = await compileWithEnv('closed', yaml, {});
      gw = await startBundle(bundle);
      issuer.setDown(true);
      const token = await issuer.mint({ sub: 'x', aud: AUDIENCE });
      for (let i = 0; i < 3; i++) {
        const res = await rawPost(gw.url, INITIALIZE, { token });
        expect(res.status).toBe(401);
        expect(JSON.parse(res.text).error.message).toMatch(/cannot verify tokens/);
      }
      expect((await fetch(gw.url.replace('/mcp', '/health'))).status).toBe(200);
      issuer.setDown(false);
      const ok = await rawPost(gw.url, INITIALIZE, { token });
      expect(ok.status).toBe(200);
      // A rotated key is picked up: the unknown kid triggers a JWKS refetch (after the cool-down).
      await issuer.rotate();
      await new Promise((r) => setTimeout(r, 5200));
      const fetches = issuer.jwksFetches;
      const rotated = await rawPost(gw.url, INITIALIZE, { token: await issuer.mint({ sub: 'y', aud: AUDIENCE }) });
      expect(rotated.status).toBe(200);
      expect(issuer.jwksFetches).toBe(fetches + 1);
    } finally {
      await gw?.stop();
      await Promise.all([backend.stop(), issuer.close()]);
    }
  });
});

describe('Cedar authorization over OIDC callers', () => {
  let issuer: Issuer;
  let backend: AuthBackend;
  let gw: RunningBundle;
  const policies = [
    'permit(principal, action == Action::"call_tool", resource == Tool::"b_echo");',
    'permit(principal, action == Action::"call_tool", resource == Tool::"b_deploy") when { context has arg_env && context.arg_env == "staging" };',
    'permit(principal, action, resource) when { principal has claim_role && principal.claim_role == "admin" };',
    'permit(principal, action == Action::"get_prompt", resource == Prompt::"b_greet");',
    'permit(principal, action == Action::"read_resource", resource == Resource::"auth://backend/public");',
    'forbid(principal, action, resource == Tool::"b_seen") unless { principal has claim_role && principal.claim_role == "admin" };',
  ];
  const yaml = (ps: string[], backendUrl: string, iss: string) => `name: cedargw
backends:
  - name: b
    transport: streamable-http
    url: ${backendUrl}
incomingAuth:
  type: oidc
  oidc: { issuer: ${iss}, audience: ${AUDIENCE} }
  authz:
    type: cedar
    policies:
${ps.map((p) => `      - '${p}'`).join('\n')}
`;

  beforeAll(async () => {
    issuer = await startIssuer();
    backend = await startAuthBackend();
    const { bundle } = await compileWithEnv('cedar', yaml(policies, backend.url, issuer.issuer), {});
    gw = await startBundle(bundle);
  });
  afterAll(async () => {
    await gw?.stop();
    await Promise.all([backend?.stop(), issuer?.close()]);
  });

  const session = async (claims: Record<string, unknown>) => {
    const token = await issuer.mint({ aud: AUDIENCE, ...claims });
    const init = await rawPost(gw.url, INITIALIZE, { token });
    expect(init.status).toBe(200);
    const sid = init.headers.get('mcp-session-id')!;
    let id = 10;
    const rpc = async (method: string, params: Record<string, unknown>) => {
      const r = await rawPost(gw.url, { jsonrpc: '2.0', id: ++id, method, params }, { token, session: sid });
      return { status: r.status, body: JSON.parse(r.text) };
    };
    return rpc;
  };

  it('lists only what the caller may use, with the same decision that gates calls', async () => {
    const alice = await session({ sub: 'alice' });
    const tools = (await alice('tools/list', {})).body.result.tools.map((t: any) => t.name).sort();
    // b_deploy is permitted only with arguments, so a list (no arguments) does not show it.
    expect(tools).toEqual(['b_echo']);
    expect((await alice('prompts/list', {})).body.result.prompts.map((p: any) => p.name)).toEqual(['b_greet']);
    expect((await alice('resources/list', {})).body.result.resources.map((r: any) => r.uri)).toEqual([
      'auth://backend/public',
    ]);
    const admin = await session({ sub: 'root', role: 'admin' });
    const all = (await admin('tools/list', {})).body.result.tools.map((t: any) => t.name).sort();
    expect(all).toEqual(['b_admin_reset', 'b_deploy', 'b_echo', 'b_headers', 'b_seen', 'b_whoami']);
  });

  it('allowed calls pass; denied ones are HTTP 403 whether or not the item exists', async () => {
    const alice = await session({ sub: 'alice' });
    const ok = await alice('tools/call', { name: 'b_echo', arguments: { text: 'hi' } });
    expect(ok.status).toBe(200);
    expect(ok.body.result.content[0].text).toBe('hi');
    expect(
      (await alice('tools/call', { name: 'b_deploy', arguments: { env: 'staging' } })).body.result.content[0].text,
    ).toBe('deployed to staging');
    for (const [method, params] of [
      ['tools/call', { name: 'b_deploy', arguments: { env: 'prod' } }],
      ['tools/call', { name: 'b_admin_reset', arguments: {} }],
      ['tools/call', { name: 'b_does_not_exist', arguments: {} }],
      ['resources/read', { uri: 'auth://backend/private' }],
      ['resources/read', { uri: 'auth://backend/nothing-here' }],
      ['prompts/get', { name: 'b_nope', arguments: {} }],
    ] as const) {
      const denied = await alice(method, params);
      expect(denied.status, `${method} ${JSON.stringify(params)}`).toBe(403);
      expect(denied.body.error.code).toBe(-32003);
    }
    expect(
      (await alice('prompts/get', { name: 'b_greet', arguments: { name: 'A' } })).body.result.messages[0].content.text,
    ).toBe('Hello A');
    expect((await alice('resources/read', { uri: 'auth://backend/public' })).body.result.contents[0].text).toBe(
      'public',
    );
  });

  it('forbid overrides the admin permit only where it says so', async () => {
    const admin = await session({ sub: 'root', role: 'admin' });
    expect((await admin('tools/call', { name: 'b_admin_reset', arguments: {} })).body.result.content[0].text).toBe(
      'reset',
    );
    expect((await admin('tools/call', { name: 'b_seen', arguments: {} })).status).toBe(200);
    const alice = await session({ sub: 'alice', role: 'viewer' });
    expect((await alice('tools/call', { name: 'b_seen', arguments: {} })).status).toBe(403);
  });

  it('a policy naming a tool the gateway does not expose fails the compile at its line', async () => {
    const bad = [
      ...policies.slice(0, 2),
      'permit(principal, action == Action::"call_tool", resource == Tool::"echo");',
    ];
    await expect(compileWithEnv('cedarbad', yaml(bad, backend.url, issuer.issuer), {})).rejects.toThrow(
      /vmcp\.yaml:14:\d+ error\[POLICY_UNKNOWN_ENTITY\][^\n]*Tool::"echo"[\s\S]*did you mean "b_echo"/,
    );
  });
});
