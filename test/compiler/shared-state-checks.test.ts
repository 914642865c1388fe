/**
 * rateLimiting and sessionStorage at compile time: limits name exposed tools (checked against the
 * pinned catalog, after prefixes), Redis needs an address, and the settings that can never apply
 * are flagged at their line. The compiled data is what the runtime reads.
 */
import { describe, expect, it } from 'vitest';
import { compileFrozen, fakeConfig, fakeLockText, positionOf } from './compile-helpers.ts';

const LOCK = fakeLockText({ gh: { tools: ['search_issues', 'create_issue'] }, fs: { tools: ['read_file'] } });
const AUTH = 'incomingAuth:\n  type: oidc\n  oidc: { issuer: https://idp.example.com, audience: gw }\n';
const compile = (rest: string) => compileFrozen(fakeConfig(['gh', 'fs'], rest), LOCK);
const errors = (r: Awaited<ReturnType<typeof compile>>) => r.diagnostics.filter((d) => d.severity === 'error');

describe('rateLimiting at compile time', () => {
  it('compiles buckets to data: shared folds into global, tools by exposed name', async () => {
    const r = await compile(
      `${AUTH}rateLimiting:\n  shared: { maxTokens: 100, refillPeriod: 1m }\n  perUser: { maxTokens: 10, refillPeriod: 30s }\n  tools:\n    - name: gh_create_issue\n      perUser: { maxTokens: 2, refillPeriod: 1h }\n`,
    );
    expect(errors(r)).toEqual([]);
    expect(r.value!.gateway.rateLimits).toEqual({
      global: { maxTokens: 100, refillMs: 60_000 },
      perUser: { maxTokens: 10, refillMs: 30_000 },
      tools: { gh_create_issue: { perUser: { maxTokens: 2, refillMs: 3_600_000 } } },
      onStoreError: 'allow',
    });
    expect(r.value!.gateway.sharedStore).toBeUndefined();
  });

  it('a limit on a tool the gateway does not expose is RATE_LIMIT_UNKNOWN_TOOL at the name, with a suggestion', async () => {
    const rest = `rateLimiting:\n  tools:\n    - name: create_issue\n      global: { maxTokens: 1, refillPeriod: 1s }\n`;
    const r = await compile(rest);
    const d = errors(r);
    expect(d.map((x) => x.code)).toEqual(['RATE_LIMIT_UNKNOWN_TOOL']);
    expect(d[0]).toMatchObject(positionOf(fakeConfig(['gh', 'fs'], rest), 'create_issue'));
    expect(d[0].hint).toContain('"gh_create_issue"');
  });

  it('a zero refillPeriod is an error; global with shared, and perUser without users, are warnings', async () => {
    const rest = `rateLimiting:\n  global: { maxTokens: 1, refillPeriod: 0s }\n  shared: { maxTokens: 5, refillPeriod: 1s }\n  perUser: { maxTokens: 1, refillPeriod: 1s }\n`;
    const r = await compile(rest);
    expect(errors(r).map((d) => d.code)).toEqual(['NON_POSITIVE_DURATION']);
    const warnings = r.diagnostics.filter((d) => d.severity === 'warning');
    expect(warnings.map((d) => d.code).sort()).toEqual(['BAD_VALUE', 'DEPRECATED_KEY']);
    expect(warnings.find((d) => d.code === 'BAD_VALUE')!.message).toContain('anonymous');
  });

  it('maxTokens must be a positive integer', async () => {
    const r = await compile(`rateLimiting:\n  global: { maxTokens: 0, refillPeriod: 1s }\n`);
    expect(errors(r).length).toBeGreaterThan(0);
    expect(errors(r)[0].message).toContain('maxTokens');
  });
});

describe('sessionStorage at compile time', () => {
  it('redis compiles to host, port, db and prefix; the password is only an env name', async () => {
    const r = await compile(
      `sessionStorage:\n  provider: redis\n  address: redis.vmcp.svc:6380\n  db: 2\n  keyPrefix: "team-a:"\n  passwordRef: { name: redis-auth, key: password }\n`,
    );
    expect(errors(r)).toEqual([]);
    expect(r.value!.gateway.sharedStore).toEqual({
      provider: 'redis',
      host: 'redis.vmcp.svc',
      port: 6380,
      db: 2,
      keyPrefix: 'team-a:',
      passwordEnv: 'THV_SESSION_REDIS_PASSWORD',
      tls: false,
    });
    const info = r.diagnostics.find((d) => d.severity === 'info');
    expect(info?.message).toContain('THV_SESSION_REDIS_PASSWORD');
  });

  it('redis without an address is MISSING_KEY; a bad address is BAD_VALUE', async () => {
    expect(errors(await compile('sessionStorage: { provider: redis }\n')).map((d) => d.code)).toEqual(['MISSING_KEY']);
    expect(
      errors(await compile('sessionStorage: { provider: redis, address: "redis://x:6379" }\n')).map((d) => d.code),
    ).toEqual(['BAD_VALUE']);
  });

  it('provider memory compiles to nothing shared', async () => {
    const r = await compile('sessionStorage: { provider: memory }\n');
    expect(errors(r)).toEqual([]);
    expect(r.value!.gateway.sharedStore).toBeUndefined();
  });
});
