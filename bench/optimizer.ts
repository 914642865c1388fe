/**
 * Optimizer quality and speed (issue 18). The catalog is real: tool definitions introspected once
 * from MCP servers published on npm (bench/data/optimizer-catalog.json, made by
 * bench/collect-optimizer-catalog.ts); the queries are tasks written as a user or an agent would ask
 * (bench/data/optimizer-queries.json), not copied from the descriptions.
 *
 * The index is built exactly as `vmcp compile` builds it and queried through the runtime's own
 * find_tool (runtime/optimizer), lexical only. Latency is also measured with a caller's visibility
 * filter (as with an authorization policy: half the tools visible), which looks further down the rank. Reports recall@1, recall@8 and MRR, the token savings
 * find_tool reports, and find_tool latency at the real catalog's size and at 10,000 tools (the real
 * catalog repeated under new server names).
 *   npx tsx bench/optimizer.ts
 *   OPTIMIZER_JSON=1 npx tsx bench/optimizer.ts     # also print the results as JSON
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolTokens } from '../compiler/emit/optimizer.ts';
import type { CompiledGateway, CompiledOptimizer } from '../runtime/compiled-gateway.ts';
import { Optimizer } from '../runtime/optimizer/optimizer.ts';
import { buildIndex, loadIndex, rank } from '../runtime/optimizer/search.ts';
import { percentile, round } from './lib/measure.ts';

const DATA = join(import.meta.dirname, 'data');
const TOP = 8;
const LARGE = 10_000;

interface Catalog {
  servers: Array<{ name: string; package: string; version: string; tools: Array<Record<string, unknown>> }>;
}
interface Query {
  query: string;
  keywords?: string[];
  expected: string[];
}

/** The exposed tools, named as vmcp's default prefix strategy names them (`<server>_<tool>`). */
function exposed(catalog: Catalog, copies = 1): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let c = 0; c < copies; c++)
    for (const s of catalog.servers)
      for (const t of s.tools) out.push({ ...t, name: `${s.name}${c ? `-${c}` : ''}_${t.name}` });
  return out;
}

function optimizerFor(tools: Array<Record<string, unknown>>) {
  const started = performance.now();
  const index = JSON.stringify(buildIndex(tools));
  const buildMs = performance.now() - started;
  const cfg: CompiledOptimizer = {
    maxToolsToReturn: TOP,
    index,
    tokens: Object.fromEntries(tools.map((t) => [String(t.name), toolTokens(t)])),
  };
  const gw = { lists: { tools: JSON.stringify(tools) } } as unknown as CompiledGateway;
  const loading = performance.now();
  const opt = new Optimizer(cfg, gw);
  const loadMs = performance.now() - loading;
  return { opt, cfg, buildMs, loadMs, indexBytes: Buffer.byteLength(index) };
}

const expectedName = (ref: string) => {
  const [server, tool] = ref.split('/');
  return `${server}_${tool}`;
};

async function quality(catalog: Catalog, queries: Query[]) {
  const tools = exposed(catalog);
  const { opt, cfg } = optimizerFor(tools);
  const index = loadIndex(cfg.index);
  let hit1 = 0;
  let hit8 = 0;
  let rr = 0;
  let savings = 0;
  const misses: string[] = [];
  for (const q of queries) {
    const want = new Set(q.expected.map(expectedName));
    const found = await opt.find({ tool_description: q.query, tool_keywords: q.keywords }, undefined);
    const names = (found.tools as Array<{ name: string }>).map((t) => t.name);
    if (want.has(names[0])) hit1++;
    if (names.some((n) => want.has(n))) hit8++;
    else misses.push(`${q.query} → wanted ${[...want].join('|')}, got ${names.slice(0, 3).join(', ')}`);
    const full = rank(index, q.query, q.keywords ?? []).map((r) => r.id);
    const at = full.findIndex((n) => want.has(n));
    if (at >= 0) rr += 1 / (at + 1);
    savings += found.token_metrics.savings_percent;
  }
  const n = queries.length;
  return {
    tools: tools.length,
    servers: catalog.servers.length,
    queries: n,
    recallAt1: round(hit1 / n),
    recallAt8: round(hit8 / n),
    mrr: round(rr / n),
    tokenSavingsPercent: round(savings / n, 1),
    baselineTokens: Object.values(cfg.tokens).reduce((a, b) => a + b, 0),
    misses,
  };
}

async function latency(catalog: Catalog, queries: Query[], copies: number) {
  const tools = exposed(catalog, copies);
  const { opt, buildMs, loadMs, indexBytes } = optimizerFor(tools);
  const half = new Set(tools.filter((_, i) => i % 2 === 0).map((t) => String(t.name)));
  const time = async (visible: ReadonlySet<string> | undefined) => {
    // Warm up, then time every query several times.
    for (const q of queries) await opt.find({ tool_description: q.query, tool_keywords: q.keywords }, visible);
    const samples: number[] = [];
    for (let rep = 0; rep < 5; rep++)
      for (const q of queries) {
        const t = performance.now();
        await opt.find({ tool_description: q.query, tool_keywords: q.keywords }, visible);
        samples.push(performance.now() - t);
      }
    return samples;
  };
  const samples = await time(undefined);
  const filtered = await time(half);
  return {
    tools: tools.length,
    p50Ms: round(percentile(samples, 50), 3),
    p99Ms: round(percentile(samples, 99), 3),
    filteredP50Ms: round(percentile(filtered, 50), 3),
    filteredP99Ms: round(percentile(filtered, 99), 3),
    compileIndexMs: round(buildMs, 0),
    startupLoadMs: round(loadMs, 1),
    indexBytes,
  };
}

const catalog = JSON.parse(readFileSync(join(DATA, 'optimizer-catalog.json'), 'utf8')) as Catalog;
const queries = (JSON.parse(readFileSync(join(DATA, 'optimizer-queries.json'), 'utf8')) as { queries: Query[] })
  .queries;
const q = await quality(catalog, queries);
const small = await latency(catalog, queries, 1);
const large = await latency(catalog, queries, Math.ceil(LARGE / q.tools));

console.log(`optimizer quality: ${q.tools} tools from ${q.servers} npm servers, ${q.queries} queries (lexical search)`);
console.log(`  recall@1 ${q.recallAt1}   recall@8 ${q.recallAt8} (goal 0.9)   MRR ${q.mrr}`);
console.log(`  token savings per find_tool: ${q.tokenSavingsPercent}% of ${q.baselineTokens} tokens`);
console.log('find_tool latency (ranking and cutting to 8, in process)');
for (const l of [small, large])
  console.log(
    `  ${String(l.tools).padStart(6)} tools: p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms (goal p50 <= 1 ms at 10,000); with a visibility filter p50 ${l.filteredP50Ms} ms, p99 ${l.filteredP99Ms} ms; index ${Math.round(l.indexBytes / 1024)} KB, built in ${l.compileIndexMs} ms at compile time, loaded in ${l.startupLoadMs} ms at start-up`,
  );
if (q.misses.length) {
  console.log(`misses at 8 (${q.misses.length}):`);
  for (const m of q.misses) console.log(`  - ${m}`);
}
if (process.env.OPTIMIZER_JSON)
  console.log(JSON.stringify({ quality: { ...q, misses: undefined }, latency: [small, large] }, null, 2));
