import { beforeAll, describe, expect, it } from 'vitest';
import type { CompileOutput } from '../../compiler/compile.ts';
import {
  askBundleOverStdio,
  compileFrozen,
  dumpGateway,
  fakeConfig,
  fakeIdentity,
  fakeLockedBackend,
  ROOT,
} from './compile-helpers.ts';
import { serializeLock } from '../../compiler/lock.ts';

// Packages and source trees that belong to the compiler and must never reach a bundle.
const FORBIDDEN_INPUTS = [
  /node_modules\/(@ts-morph|ts-morph|yaml|typescript|zod|esbuild)\//,
  /^compiler\//,
  /^schemas\//,
];
// Strings only those packages or the compiler contain (the bundle is minified, literals survive).
const FORBIDDEN_TEXT = [
  'ts-morph',
  'ZodError',
  'LineCounter',
  'esbuild',
  'conflictResolutionConfig',
  'breaks the MCP name rule',
];
const AUTH_MODULES = ['unauthenticated', 'header-injection', 'token-exchange', 'client-credentials'];
const TRANSPORT_MODULES = ['stdio', 'sse', 'streamable-http'];

const HTTP_BACKEND = '  - name: web\n    transport: streamable-http\n    url: http://127.0.0.1:9/mcp\n';
const WITH_HEADER_AUTH =
  'outgoingAuth:\n  backends:\n    web:\n      type: header_injection\n      headerInjection:\n        headerName: Authorization\n        headerValueEnv: WEB_TOKEN\n';

// A description with every character a generated string literal must escape.
const TRICKY = 'it\'s "quoted" \\ back\nslash\ttab \u2028 ${x} `tick` </script>';
const PLAIN = { tools: [{ name: 'x', description: TRICKY, inputSchema: { type: 'object' } }, 'y'], prompts: ['p'] };

async function build(text: string, lock: Record<string, ReturnType<typeof fakeLockedBackend>>): Promise<CompileOutput> {
  const out = await compileFrozen(text, serializeLock({ lockfileVersion: 1, backends: lock }));
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.value!;
}

const inputs = (out: CompileOutput) => Object.keys(out.bundle.metafile.inputs).sort();
const has = (out: CompileOutput, dir: string, name: string) => inputs(out).includes(`runtime/${dir}/${name}.ts`);

describe('bundle contents', () => {
  let plain: CompileOutput;
  let headerAuth: CompileOutput;

  beforeAll(async () => {
    plain = await build(fakeConfig(['a']), { a: fakeLockedBackend(fakeIdentity('a'), PLAIN) });
    // fakeConfig ends inside `backends:`, so the HTTP backend joins the list.
    headerAuth = await build(fakeConfig(['a']) + HTTP_BACKEND + WITH_HEADER_AUTH, {
      a: fakeLockedBackend(fakeIdentity('a'), { tools: ['x'] }),
      web: fakeLockedBackend({ transport: 'streamable-http', url: 'http://127.0.0.1:9/mcp' }, { tools: ['fetch'] }),
    });
  });

  it('holds no compiler, schema, ts-morph, yaml, typescript, zod or esbuild input', () => {
    for (const out of [plain, headerAuth]) {
      expect(inputs(out).length).toBeGreaterThan(3);
      expect(inputs(out).some((p) => p.startsWith('runtime/'))).toBe(true);
      for (const re of FORBIDDEN_INPUTS) expect(inputs(out).filter((p) => re.test(p))).toEqual([]);
      for (const s of FORBIDDEN_TEXT) expect(out.bundle.code.includes(s), `bundle text contains "${s}"`).toBe(false);
      // No absolute path of this machine: the same inputs give the same bytes anywhere.
      expect(out.bundle.code.includes(ROOT)).toBe(false);
      expect(out.routerSource.includes(ROOT)).toBe(false);
    }
  });

  it('compiles in only the auth strategies and transports the config uses', () => {
    expect(AUTH_MODULES.filter((m) => has(plain, 'auth/out', m))).toEqual(['unauthenticated']);
    expect(TRANSPORT_MODULES.filter((m) => has(plain, 'transports', m))).toEqual(['stdio']);
    expect(plain.bundle.code).not.toContain('headerValueEnv');
    expect(AUTH_MODULES.filter((m) => has(headerAuth, 'auth/out', m))).toEqual(['unauthenticated', 'header-injection']);
    expect(TRANSPORT_MODULES.filter((m) => has(headerAuth, 'transports', m))).toEqual(['stdio', 'streamable-http']);
    expect(plain.manifest.auth.outgoing).toEqual(['unauthenticated']);
    expect(headerAuth.manifest.auth.outgoing).toEqual(['header_injection', 'unauthenticated']);
    expect(headerAuth.manifest.transports).toEqual(['stdio', 'streamable-http']);
  });

  it('runs with plain node and no node_modules, serving the tables compiled into it', () => {
    const { responses, stderr } = askBundleOverStdio(plain.bundle.code, ['tools/list', 'prompts/list']);
    expect(responses.get(1)?.result, stderr).toMatchObject({ serverInfo: { name: 'routing' } });
    expect((responses.get(2)?.result as { tools: unknown[] } | undefined)?.tools).toEqual(
      JSON.parse(plain.gateway.lists.tools),
    );
    expect((responses.get(3)?.result as { prompts: unknown[] } | undefined)?.prompts).toEqual(
      JSON.parse(plain.gateway.lists.prompts),
    );
    expect(
      JSON.parse(plain.gateway.lists.tools).map((t: { name: string; description: string }) => [t.name, t.description]),
    ).toEqual([
      ['a_x', TRICKY],
      ['a_y', 'y tool'],
    ]);
  });

  it('answers --dump-gateway with its CompiledGateway, from a directory with no node_modules', () => {
    expect(dumpGateway(headerAuth.bundle.code, headerAuth.gateway.name)).toEqual(headerAuth.gateway);
  });

  it('is byte-identical when built twice from the same inputs', async () => {
    const again = await build(fakeConfig(['a']), { a: fakeLockedBackend(fakeIdentity('a'), PLAIN) });
    expect(again.bundle.code).toBe(plain.bundle.code);
    expect(again.manifestText).toBe(plain.manifestText);
    expect(again.routerSource).toBe(plain.routerSource);
  });
});
