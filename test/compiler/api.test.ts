/** The compiler's public API (compiler/index.ts): each entry point answers { value, diagnostics }. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../compiler/index.ts';

const QUICKSTART = join(import.meta.dirname, '..', '..', 'examples', 'quickstart', 'vmcp.yaml');

describe('compiler/index.ts', () => {
  it('exports exactly the documented functions', () => {
    expect(Object.keys(api).sort()).toEqual(['compile', 'diff', 'formatDiagnostics', 'validate', 'verify']);
  });

  it('validate: a value for a good config, diagnostics and no value for a bad one', () => {
    const good = api.validate('vmcp.yaml', readFileSync(QUICKSTART, 'utf8'), { env: {}, readFile: () => undefined });
    expect(good.value?.config.name).toBe('quickstart');
    const bad = api.validate('vmcp.yaml', 'name: x\nbackend: []\n', { env: {}, readFile: () => undefined });
    expect(bad.value).toBeUndefined();
    expect(bad.diagnostics.map((d) => d.code)).toContain('UNKNOWN_KEY');
  });

  it('diff: two releases read through the injected reader', async () => {
    const dir = join(import.meta.dirname, '..', 'fixtures', 'diff', 'description-changed');
    const reader = {
      env: {},
      readFile: (p: string) => (existsSync(join(dir, p)) ? readFileSync(join(dir, p), 'utf8') : undefined),
      gitShow: () => undefined,
      dumpGateway: async () => ({}),
    };
    const r = await api.diff('old/vmcp.yaml', 'new/vmcp.yaml', reader);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.value?.changes.map((c) => c.class)).toContain('risky');
    const missing = await api.diff('old/vmcp.yaml', 'nope.yaml', reader);
    expect(missing.value).toBeUndefined();
    expect(missing.diagnostics[0]).toMatchObject({ severity: 'error', file: 'nope.yaml' });
  });

  it('verify: a mismatching bundle is an error diagnostic naming the check', () => {
    const manifest = JSON.stringify({
      manifestVersion: 1,
      bundle: { file: 'x.vmcp.mjs', sha256: 'abc', bytes: 3 },
      inputs: {},
    });
    const r = api.verify({ bundleFile: 'x.vmcp.mjs', bundle: Buffer.from('xyz'), manifestText: manifest });
    expect(r.value?.find((c) => c.what === 'bundle size')?.ok).toBe(true);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['VERIFY_MISMATCH']);
    expect(r.diagnostics[0].message).toMatch(/bundle sha256 differs/);
  });
});
