/**
 * The optimizer at compile time: the index is built from the exposed tools (after prefixes, with
 * composites), the meta-tools may not be shadowed, and pinned embeddings make --frozen need no network.
 */
import { describe, expect, it } from 'vitest';
import { rank, loadIndex } from '../../runtime/optimizer/search.ts';
import { compileFrozen, fakeConfig, fakeLockText } from './compile-helpers.ts';

const LOCK = fakeLockText({ gh: { tools: ['create_issue', 'list_commits'] }, fs: { tools: ['read_file'] } });
const compile = (rest: string, lock = LOCK) => compileFrozen(fakeConfig(['gh', 'fs'], rest), lock);

describe('optimizer at compile time', () => {
  it('indexes every exposed tool by its exposed name, with token estimates', async () => {
    const r = await compile('optimizer:\n  maxToolsToReturn: 2\n');
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const o = r.value!.gateway.optimizer!;
    expect(Object.keys(o.tokens).sort()).toEqual(['fs_read_file', 'gh_create_issue', 'gh_list_commits']);
    expect(Object.values(o.tokens).every((n) => n > 10)).toBe(true);
    const index = loadIndex(o.index);
    expect(rank(index, 'the recent commits')[0].id).toBe('gh_list_commits');
    expect(o.embedding).toBeUndefined();
  });

  it('enabled: false compiles to no optimizer at all', async () => {
    const r = await compile('optimizer:\n  enabled: false\n');
    expect(r.value!.gateway.optimizer).toBeUndefined();
  });

  it('a tool exposed as find_tool is OPTIMIZER_NAME_CONFLICT', async () => {
    const r = await compile(
      'aggregation:\n  conflictResolution: priority\n  conflictResolutionConfig: { priorityOrder: [gh, fs] }\n  tools:\n    - workload: gh\n      overrides:\n        create_issue: { name: find_tool }\noptimizer: {}\n',
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(['OPTIMIZER_NAME_CONFLICT']);
  });

  it('--frozen with an embedding service but no pinned vectors is LOCK_STALE, without calling the service', async () => {
    const r = await compile('optimizer:\n  embeddingService: http://127.0.0.1:9/\n');
    const d = r.diagnostics.filter((x) => x.severity === 'error');
    expect(d.map((x) => x.code)).toEqual(['LOCK_STALE']);
    expect(d[0].message).toContain('no optimizer embeddings for 3 tool(s)');
    expect(d[0].hint).toContain('without --frozen');
  });
});

describe('older ToolHive optimizer keys', () => {
  it('are read as the current ones, with DEPRECATED_KEY warnings', async () => {
    const { effectiveOptimizer } = await import('../../compiler/emit/optimizer.ts');
    const base = { enabled: true, maxToolsToReturn: 8 };
    expect(
      effectiveOptimizer({
        ...base,
        embeddingURL: 'http://ollama:11434',
        embeddingBackend: 'ollama',
        hybridSearchRatio: 70,
      }),
    ).toMatchObject({
      embeddingService: 'http://ollama:11434',
      embeddingProvider: 'openai',
      hybridSearchSemanticRatio: 0.7,
    });
    const placeholder = effectiveOptimizer({ ...base, embeddingURL: 'http://x:1', embeddingBackend: 'placeholder' });
    expect(placeholder.embeddingService).toBeUndefined();
    // The current names win over the older ones.
    expect(
      effectiveOptimizer({
        ...base,
        embeddingService: 'http://tei:80',
        embeddingURL: 'http://old:1',
        hybridSearchSemanticRatio: 0.2,
        hybridSearchRatio: 0.9,
      }),
    ).toMatchObject({
      embeddingService: 'http://tei:80',
      hybridSearchSemanticRatio: 0.2,
    });
    const r = await compile('optimizer:\n  embeddingDimension: 384\n  persistPath: /var/run/x.db\n');
    expect(r.diagnostics.filter((d) => d.code === 'DEPRECATED_KEY').map((d) => d.message)).toEqual([
      'optimizer.embeddingDimension is an older ToolHive setting, not needed: vmcp takes the dimension from the vectors the service returns',
      'optimizer.persistPath is an older ToolHive setting, not needed: vmcp compiles the index into the bundle',
    ]);
  });
});
