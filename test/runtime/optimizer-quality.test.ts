/**
 * A floor under the optimizer's ranking: the benchmark's real catalog (617 tools of 38 npm servers)
 * and its 255 user-style queries, ranked with the compile-time index. The numbers bench/optimizer.ts
 * reports must not silently get worse; the floor sits just under today's result.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildIndex, loadIndex, rank } from '../../runtime/optimizer/search.ts';

const DATA = join(import.meta.dirname, '..', '..', 'bench', 'data');
const catalog = JSON.parse(readFileSync(join(DATA, 'optimizer-catalog.json'), 'utf8')) as {
  servers: Array<{ name: string; tools: Array<{ name: string }> }>;
};
const queries = JSON.parse(readFileSync(join(DATA, 'optimizer-queries.json'), 'utf8')).queries as Array<{
  query: string;
  keywords?: string[];
  expected: string[];
}>;

describe('optimizer ranking on the benchmark catalog', () => {
  const tools = catalog.servers.flatMap((s) => s.tools.map((t) => ({ ...t, name: `${s.name}_${t.name}` })));
  const index = loadIndex(JSON.stringify(buildIndex(tools)));

  it('the data is what the benchmark says: 15+ servers, 300+ tools, 150+ queries, every expected tool exists', () => {
    expect(catalog.servers.length).toBeGreaterThanOrEqual(15);
    expect(tools.length).toBeGreaterThanOrEqual(300);
    expect(queries.length).toBeGreaterThanOrEqual(150);
    const names = new Set(tools.map((t) => t.name));
    const missing = queries.flatMap((q) => q.expected.map((e) => e.replace('/', '_'))).filter((n) => !names.has(n));
    expect(missing).toEqual([]);
  });

  it('recall@8 and recall@1 stay at or above their floor', () => {
    let at1 = 0;
    let at8 = 0;
    for (const q of queries) {
      const want = new Set(q.expected.map((e) => e.replace('/', '_')));
      const top = rank(index, q.query, q.keywords ?? [], 8).map((r) => r.id);
      if (want.has(top[0])) at1++;
      if (top.some((n) => want.has(n))) at8++;
    }
    expect(at8 / queries.length).toBeGreaterThanOrEqual(0.79);
    expect(at1 / queries.length).toBeGreaterThanOrEqual(0.44);
  });
});
