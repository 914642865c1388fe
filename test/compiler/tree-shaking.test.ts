import { beforeAll, describe, expect, it } from 'vitest';
import type { CompileOutput } from '../../compiler/compile.ts';
import { serializeLock } from '../../compiler/lock.ts';
import { compileFrozen, fakeLockedBackend } from './compile-helpers.ts';

// The generated router imports only the auth code a config uses: proven from esbuild's metafile
// (what went in) and from the bundle text (what came out).
const WEB = { transport: 'streamable-http' as const, url: 'http://127.0.0.1:9/mcp' };
const backends = '  - name: web\n    transport: streamable-http\n    url: http://127.0.0.1:9/mcp\n';
const OIDC = 'incomingAuth:\n  type: oidc\n  oidc: { issuer: https://idp.example.com, audience: gw }\n';

const CONFIGS = {
  anonymous: `name: anon\nbackends:\n${backends}`,
  oidcHeader: `name: oidchdr\nbackends:\n${backends}${OIDC}outgoingAuth:\n  default:\n    type: header_injection\n    headerInjection: { headerName: X-Api-Key, headerValueEnv: WEB_KEY }\n`,
  cedar: `name: cedar\nbackends:\n${backends}incomingAuth:\n  type: anonymous\n  authz:\n    type: cedar\n    policies: ['permit(principal, action == Action::"call_tool", resource == Tool::"web_fetch");']\n`,
  composite: `name: wf\nbackends:\n${backends}compositeTools:\n  - name: fetch_twice\n    description: Two fetches\n    steps:\n      - id: a\n        tool: web_fetch\n      - id: b\n        tool: web_fetch\n        dependsOn: [a]\n`,
  telemetry: `name: traced\nbackends:\n${backends}telemetry:\n  endpoint: otel.example.com:4318\n  tracingEnabled: true\n  metricsEnabled: true\n`,
  audit: `name: audited\nbackends:\n${backends}audit:\n  enabled: true\n`,
  telemetryOff: `name: quiet\nbackends:\n${backends}telemetry:\n  serviceName: quiet\naudit:\n  enabled: false\n`,
  rateLimited: `name: limited\nbackends:\n${backends}rateLimiting:\n  global: { maxTokens: 100, refillPeriod: 1m }\n`,
  redis: `name: replicated\nbackends:\n${backends}sessionStorage: { provider: redis, address: 127.0.0.1:6379 }\nrateLimiting:\n  tools: [{ name: web_fetch, global: { maxTokens: 5, refillPeriod: 1s } }]\n`,
  optimized: `name: optimized\nbackends:\n${backends}optimizer:\n  maxToolsToReturn: 5\n`,
  memoryStore: `name: memstore\nbackends:\n${backends}sessionStorage: { provider: memory }\n`,
  tokenExchange: `name: xchg\nbackends:\n${backends}${OIDC}outgoingAuth:\n  default:\n    type: token_exchange\n    tokenExchange: { tokenUrl: https://idp.example.com/token, clientId: gw, clientSecretEnv: GW_SECRET, audience: web }\n`,
};

const inputs = (out: CompileOutput) => Object.keys(out.bundle.metafile.inputs);
const uses = (out: CompileOutput, re: RegExp) => inputs(out).some((p) => re.test(p));
const JOSE = /node_modules\/jose\//;
const CEDAR = /@cedar-policy\/|runtime\/auth\/authz\//;
const STRATEGY = (name: string) => new RegExp(`^runtime/auth/out/${name}\\.ts$`);

describe('tree-shaking of auth code', () => {
  const out: Record<string, CompileOutput> = {};
  beforeAll(async () => {
    const lock = serializeLock({ lockfileVersion: 1, backends: { web: fakeLockedBackend(WEB, { tools: ['fetch'] }) } });
    for (const [k, text] of Object.entries(CONFIGS)) {
      const r = await compileFrozen(text, lock, { WEB_KEY: 'k-123456', GW_SECRET: 's-123456' });
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      out[k] = r.value!;
    }
  });

  it('anonymous: no jose, no cedar, no OIDC verifier, only the unauthenticated strategy', () => {
    const a = out.anonymous;
    expect(uses(a, JOSE)).toBe(false);
    expect(uses(a, CEDAR)).toBe(false);
    expect(uses(a, /runtime\/auth\/in\//)).toBe(false);
    expect(uses(a, STRATEGY('unauthenticated'))).toBe(true);
    for (const s of ['header-injection', 'token-exchange', 'client-credentials', 'token-cache'])
      expect(uses(a, STRATEGY(s)), s).toBe(false);
    expect(a.bundle.code).not.toMatch(/JWKS|jwks_uri|openid-configuration/);
  });

  it('OIDC + header injection: jose and the verifier, header injection only, no cedar', () => {
    const o = out.oidcHeader;
    expect(uses(o, JOSE)).toBe(true);
    expect(uses(o, /^runtime\/auth\/in\/oidc\.ts$/)).toBe(true);
    expect(o.bundle.code).toContain('openid-configuration');
    expect(uses(o, CEDAR)).toBe(false);
    expect(uses(o, STRATEGY('header-injection'))).toBe(true);
    for (const s of ['unauthenticated', 'token-exchange', 'client-credentials', 'token-cache'])
      expect(uses(o, STRATEGY(s)), s).toBe(false);
  });

  it('token exchange: the exchange strategy and its cache, no other strategy, no cedar', () => {
    const x = out.tokenExchange;
    expect(uses(x, STRATEGY('token-exchange'))).toBe(true);
    expect(uses(x, STRATEGY('token-cache'))).toBe(true);
    expect(x.bundle.code).toContain('urn:ietf:params:oauth:grant-type:token-exchange');
    for (const s of ['unauthenticated', 'header-injection', 'client-credentials'])
      expect(uses(x, STRATEGY(s)), s).toBe(false);
    expect(uses(x, CEDAR)).toBe(false);
  });

  it('cedar: the authorizer and its embedded engine, no jose, no OIDC verifier', () => {
    const c = out.cedar;
    expect(uses(c, CEDAR)).toBe(true);
    expect(uses(c, JOSE)).toBe(false);
    expect(uses(c, /runtime\/auth\/in\//)).toBe(false);
  });

  it('composite tools: the workflow engine only when the config has composites', () => {
    const ENGINE = /^runtime\/composite\//;
    expect(uses(out.anonymous, ENGINE)).toBe(false);
    expect(uses(out.composite, /^runtime\/composite\/engine\.ts$/)).toBe(true);
    // The engine evaluates templates as data: no template parser and no compiler code in the bundle.
    expect(uses(out.composite, /^compiler\//)).toBe(false);
    expect(out.composite.bundle.code).not.toMatch(/new Function|\beval\(/);
    const added = Buffer.byteLength(out.composite.bundle.code) - Buffer.byteLength(out.anonymous.bundle.code);
    expect(added).toBeGreaterThan(5_000);
    expect(added).toBeLessThan(40_000);
    console.log(`bundle bytes: the workflow engine and one plan add ${added}`);
  });

  it('reports what auth costs in bundle bytes', () => {
    const size = (k: string) => Buffer.byteLength(out[k].bundle.code);
    // jose's verifier is a few tens of KB; the anonymous bundle stays far under the 1 MB budget.
    expect(size('anonymous')).toBeLessThan(200_000);
    expect(size('oidcHeader') - size('anonymous')).toBeGreaterThan(5_000);
    expect(size('oidcHeader') - size('anonymous')).toBeLessThan(120_000);
    // The Cedar engine is a 4.3 MB wasm, embedded brotli-compressed: about 1.5 MB, only when used.
    expect(size('cedar') - size('anonymous')).toBeGreaterThan(1_000_000);
    console.log(
      `bundle bytes: anonymous ${size('anonymous')}, oidc+header ${size('oidcHeader')}, token exchange ${size('tokenExchange')}, cedar ${size('cedar')}`,
    );
  });

  it('shared state: the rate limiter only with rateLimiting, the Redis client only with sessionStorage redis', () => {
    const IOREDIS = /node_modules\/(ioredis|@ioredis|redis-parser)\//;
    const LIMITER = /^runtime\/shared\/rate-limit\.ts$/;
    for (const k of ['anonymous', 'memoryStore', 'cedar', 'telemetry']) {
      expect(uses(out[k], IOREDIS), k).toBe(false);
      expect(uses(out[k], LIMITER), k).toBe(false);
      expect(uses(out[k], /^runtime\/shared\/redis\.ts$/), k).toBe(false);
    }
    // provider memory is the default: the same bundle as no sessionStorage at all.
    const shared = (k: string) =>
      inputs(out[k])
        .filter((p) => !p.endsWith('.router.ts'))
        .sort();
    expect(shared('memoryStore')).toEqual(shared('anonymous'));
    expect(uses(out.rateLimited, LIMITER)).toBe(true);
    expect(uses(out.rateLimited, IOREDIS)).toBe(false);
    expect(uses(out.redis, IOREDIS)).toBe(true);
    expect(uses(out.redis, /^runtime\/shared\/redis\.ts$/)).toBe(true);
    // The Redis store keeps the buckets itself: the in-memory limiter class is not needed.
    expect(out.redis.bundle.code).not.toContain('MemoryRateLimiter');
    expect(out.redis.routerSource).toContain('redisStore');
    const size = (k: string) => Buffer.byteLength(out[k].bundle.code);
    // ioredis is about 150 KB minified; it must stay well under the 1 MB budget.
    expect(size('redis') - size('anonymous')).toBeLessThan(250_000);
    console.log(
      `bundle bytes: in-memory rate limits add ${size('rateLimited') - size('anonymous')}, the Redis store ${size('redis') - size('anonymous')}`,
    );
  });

  it('optimizer: the search code (and the stemmer) only when the optimizer is on', () => {
    const SEARCH = /node_modules\/stemmer\/|^runtime\/optimizer\/(optimizer|search|embed)\.ts$/;
    for (const k of ['anonymous', 'cedar', 'composite', 'redis']) expect(uses(out[k], SEARCH), k).toBe(false);
    expect(uses(out.optimized, /node_modules\/stemmer\//)).toBe(true);
    expect(uses(out.optimized, /^runtime\/optimizer\/search\.ts$/)).toBe(true);
    expect(out.optimized.gateway.optimizer?.maxToolsToReturn).toBe(5);
    const size = (k: string) => Buffer.byteLength(out[k].bundle.code);
    console.log(`bundle bytes: the optimizer adds ${size('optimized') - size('anonymous')} (index data included)`);
    expect(size('optimized') - size('anonymous')).toBeLessThan(60_000);
  });

  it('observability: OpenTelemetry only with a telemetry endpoint, the audit log only when enabled', () => {
    const OTEL = /@opentelemetry\/|^runtime\/telemetry\//;
    const AUDIT = /^runtime\/audit\//;
    for (const k of ['anonymous', 'telemetryOff', 'cedar', 'composite']) {
      expect(uses(out[k], OTEL), k).toBe(false);
      expect(uses(out[k], AUDIT), k).toBe(false);
      expect(out[k].bundle.code, k).not.toMatch(/audit_event|traceparent\b.*propagat|OTLPTraceExporter/);
    }
    // A telemetry block that turns nothing on compiles to the same bundle as none at all.
    const shared = (k: string) =>
      inputs(out[k])
        .filter((p) => !p.endsWith('.router.ts'))
        .sort();
    expect(shared('telemetryOff')).toEqual(shared('anonymous'));
    expect(out.telemetryOff.routerSource).not.toContain('observers');
    expect(out.telemetry.routerSource).toContain('observers');
    const t = out.telemetry;
    expect(uses(t, /@opentelemetry\/sdk-trace-base\//)).toBe(true);
    expect(uses(t, /^runtime\/telemetry\/otel\.ts$/)).toBe(true);
    expect(uses(t, AUDIT)).toBe(false);
    const a = out.audit;
    expect(uses(a, /^runtime\/audit\/audit\.ts$/)).toBe(true);
    expect(uses(a, OTEL)).toBe(false);
    const size = (k: string) => Buffer.byteLength(out[k].bundle.code);
    console.log(
      `bundle bytes: OpenTelemetry adds ${size('telemetry') - size('anonymous')}, the audit log ${size('audit') - size('anonymous')}`,
    );
  });
});
