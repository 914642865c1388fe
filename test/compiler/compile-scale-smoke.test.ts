import { describe, expect, it } from 'vitest';
import { compileScale, generateScale } from '../../bench/compile-scale.ts';

// Keeps bench/compile-scale.ts from rotting: the same generator at 5 × 5. No timing here.
describe('bench/compile-scale generator', () => {
  it('compiles a generated 5 × 5 config from its lock', async () => {
    const input = generateScale(5, 5);
    const out = await compileScale(input);
    expect(out.manifest.counts).toEqual({ tools: 25, prompts: 0, resources: 5, resourceTemplates: 0 });
    expect(Object.keys(out.gateway.tools)).toContain('server-004_tool_004');
    expect(out.gateway.backends.map((b) => b.name)).toEqual([
      'server-000',
      'server-001',
      'server-002',
      'server-003',
      'server-004',
    ]);
    expect(out.bundle.code.length).toBeGreaterThan(1000);
  });
});
