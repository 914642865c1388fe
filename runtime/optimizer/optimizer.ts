/**
 * The optimizer (ToolHive's `optimizer` block): clients see two tools instead of the catalog.
 * - `find_tool { tool_description, tool_keywords? }` ranks the exposed tools against the task with
 *   the index vmcp compile built, keeps those the caller may see (the same authorization and
 *   availability as tools/list), and returns up to maxToolsToReturn definitions with
 *   `token_metrics { baseline_tokens, returned_tokens, savings_percent }`.
 * - `call_tool { tool_name, parameters }` is unwrapped into a plain tools/call of the real tool
 *   before anything else sees the request, so authorization, rate limits, audit and metrics all
 *   apply under the real name, exactly as for a direct call.
 * Bundled only for configs with an enabled optimizer.
 */
import type { CompiledGateway, CompiledOptimizer } from '../compiled-gateway.ts';
import { ERR, RpcError } from '../jsonrpc.ts';
import { resolveEnvMap } from '../env.ts';
import type { Logger } from '../log.ts';
import { cosine, type EmbeddingEndpoint, embed, fromBase64 } from './embed.ts';
import { loadIndex, rank } from './search.ts';

import { CALL_TOOL, FIND_TOOL } from './names.ts';
import { CALL_TOOL_DEF, FIND_TOOL_DEF, Histogram, SECONDS } from './parts.ts';

/** How many lexical results hybrid search re-ranks with the embeddings. */
const CANDIDATES = 200;
const MAX_QUERY_CHARS = 4096;
const MAX_KEYWORDS = 32;

/** find_tool's answer before serialization. */
export interface FindResult {
  tools: unknown[];
  token_metrics: { baseline_tokens: number; returned_tokens: number; savings_percent: number };
}

export class Optimizer {
  private readonly index;
  private readonly defs: Map<string, unknown>;
  private findRequests = 0;
  private findErrors = 0;
  private readonly findSeconds = new Histogram(SECONDS);
  private readonly findResults = new Histogram([0, 1, 2, 3, 5, 10, 20, 50]);
  private readonly savings = new Histogram([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 100]);
  private callRequests = 0;
  private callErrors = 0;
  /** call_tool naming a tool that does not exist (or that the caller may not see). */
  callNotFound = 0;
  private readonly lists: Record<'legacy' | 'modern', string>;

  /** Hybrid search: where queries are embedded, and each tool's vector. */
  private readonly semantic?: {
    endpoint: EmbeddingEndpoint;
    vectors: Map<string, Float32Array>;
    ratio: number;
    threshold: number;
  };
  /** Query embeddings that failed (search fell back to lexical), and whether an outage is under way. */
  private embedErrors = 0;
  private embedDown = false;

  constructor(
    private readonly cfg: CompiledOptimizer,
    gw: CompiledGateway,
    private readonly log?: Logger,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.index = loadIndex(cfg.index);
    const e = cfg.embedding;
    if (e) {
      const headers = resolveEnvMap(e.headers, env, 'optimizer.embeddingHeaders');
      if (
        e.provider === 'openai' &&
        env.OPENAI_API_KEY &&
        !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')
      )
        headers.authorization = `Bearer ${env.OPENAI_API_KEY}`;
      this.semantic = {
        endpoint: {
          provider: e.provider,
          url: e.url,
          ...(e.model ? { model: e.model } : {}),
          headers,
          timeoutMs: e.timeoutMs,
        },
        vectors: new Map(Object.entries(e.vectors).map(([name, v]) => [name, fromBase64(v)])),
        ratio: e.semanticRatio,
        threshold: e.distanceThreshold,
      };
    }
    this.defs = new Map((JSON.parse(gw.lists.tools) as Array<{ name: string }>).map((t) => [t.name, t]));
    const tools = JSON.stringify([FIND_TOOL_DEF, CALL_TOOL_DEF]);
    this.lists = {
      legacy: `{"tools":${tools}}`,
      modern: `{"tools":${tools},"resultType":"complete","ttlMs":0,"cacheScope":"public"}`,
    };
  }

  /** Tokens of every tool `visible` holds (all tools when undefined), computed once per visible set. */
  private baselineOf(visible: ReadonlySet<string> | undefined): number {
    const key = visible ?? this.allTools;
    let n = this.baselines.get(key);
    if (n === undefined) {
      n = 0;
      if (visible) for (const name of visible) n += this.cfg.tokens[name] ?? 0;
      else for (const name in this.cfg.tokens) n += this.cfg.tokens[name];
      this.baselines.set(key, n);
    }
    return n;
  }
  private readonly allTools: ReadonlySet<string> = new Set();
  /** Baselines by visible set (the catalog caches the sets per caller, so they repeat). */
  private readonly baselines = new WeakMap<ReadonlySet<string>, number>();

  /** The tools/list result: the two meta-tools, the same for every caller. */
  listResult(modern: boolean): string {
    return modern ? this.lists.modern : this.lists.legacy;
  }

  /** Whether `name` is one of the meta-tools. */
  isMeta(name: unknown): boolean {
    return name === FIND_TOOL || name === CALL_TOOL;
  }

  /**
   * Runs find_tool. `visible` holds the names the caller may see and use right now (authorization,
   * drift, backends down): a tool outside it is never returned, and never counted in the baseline.
   */
  async find(args: unknown, visible: ReadonlySet<string> | undefined): Promise<FindResult> {
    const started = performance.now();
    this.findRequests++;
    try {
      const a = (args ?? {}) as { tool_description?: unknown; tool_keywords?: unknown };
      if (typeof a.tool_description !== 'string' || a.tool_description.trim() === '')
        throw new RpcError(
          ERR.INVALID_PARAMS,
          'find_tool: tool_description must be a non-empty string describing the task',
        );
      if (
        a.tool_keywords !== undefined &&
        !(Array.isArray(a.tool_keywords) && a.tool_keywords.every((k) => typeof k === 'string'))
      )
        throw new RpcError(ERR.INVALID_PARAMS, 'find_tool: tool_keywords must be a list of strings');
      const keywords = ((a.tool_keywords as string[] | undefined) ?? []).slice(0, MAX_KEYWORDS);
      const description = a.tool_description.slice(0, MAX_QUERY_CHARS);
      // Ranked among the tools this caller may see: the best maxToolsToReturn of those (hybrid search
      // re-ranks a wider lexical cut).
      const accept = visible ? (name: string) => visible.has(name) : undefined;
      const cut = this.semantic ? CANDIDATES : this.cfg.maxToolsToReturn;
      const lexical = rank(this.index, description, keywords, cut, accept);
      const ranked = this.semantic
        ? await this.hybrid(lexical, [description, ...keywords].join(' '), visible)
        : lexical;
      const tools: unknown[] = [];
      let returned = 0;
      for (const r of ranked) {
        if (tools.length >= this.cfg.maxToolsToReturn) break;
        if (visible && !visible.has(r.id)) continue;
        const def = this.defs.get(r.id);
        if (def === undefined) continue;
        tools.push(def);
        returned += this.cfg.tokens[r.id] ?? 0;
      }
      const baseline = this.baselineOf(visible);
      const savings = baseline > 0 ? Math.round((1 - returned / baseline) * 1000) / 10 : 0;
      this.findResults.observe(tools.length);
      this.savings.observe(savings);
      return {
        tools,
        token_metrics: { baseline_tokens: baseline, returned_tokens: returned, savings_percent: savings },
      };
    } catch (err) {
      this.findErrors++;
      throw err;
    } finally {
      this.findSeconds.observe((performance.now() - started) / 1000);
    }
  }

  /**
   * Lexical and semantic ranks combined: each score scaled to 0..1 (lexical by the best lexical
   * score, semantic as cosine similarity), weighted by semanticRatio. When the query cannot be
   * embedded (service down or slow), the lexical rank answers alone.
   */
  private async hybrid(
    lexical: Array<{ id: string; score: number }>,
    query: string,
    visible: ReadonlySet<string> | undefined,
  ) {
    const s = this.semantic!;
    let q: Float32Array;
    try {
      [q] = await embed(s.endpoint, [query]);
      if (this.embedDown) this.log?.info({}, 'optimizer: embedding service answering again; search is hybrid');
      this.embedDown = false;
    } catch (err) {
      this.embedErrors++;
      if (!this.embedDown)
        this.log?.warn(
          { error: (err as Error).message },
          'optimizer: cannot embed the query; find_tool answers from lexical search until the service is back',
        );
      this.embedDown = true;
      return lexical;
    }
    const best = lexical[0]?.score ?? 0;
    const scores = new Map<string, number>();
    for (const r of lexical) scores.set(r.id, (1 - s.ratio) * (best > 0 ? r.score / best : 0));
    for (const [name, v] of s.vectors) {
      if (visible && !visible.has(name)) continue;
      const sim = cosine(q, v);
      if (1 - sim > s.threshold) continue;
      scores.set(name, (scores.get(name) ?? 0) + s.ratio * Math.max(0, sim));
    }
    return [...scores].map(([id, score]) => ({ id, score })).sort((x, y) => y.score - x.score);
  }

  /**
   * The real tools/call a call_tool stands for: `{ name, arguments }`. ToolHive also accepts
   * `tool_name` inside `parameters`; so does this.
   */
  unwrap(params: any): { name: string; arguments: Record<string, unknown>; _meta?: unknown } {
    this.callRequests++;
    const args = params?.arguments ?? {};
    let parameters = args.parameters;
    let name = args.tool_name;
    if (
      name === undefined &&
      parameters &&
      typeof parameters === 'object' &&
      typeof parameters.tool_name === 'string'
    ) {
      const { tool_name, ...rest } = parameters;
      name = tool_name;
      parameters = rest;
    }
    if (typeof name !== 'string' || name === '') {
      this.callErrors++;
      throw new RpcError(ERR.INVALID_PARAMS, 'call_tool: tool_name must name a tool that find_tool returned');
    }
    if (this.isMeta(name)) {
      this.callErrors++;
      throw new RpcError(ERR.INVALID_PARAMS, `call_tool: ${name} cannot be called through call_tool`);
    }
    if (
      parameters !== undefined &&
      (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters))
    ) {
      this.callErrors++;
      throw new RpcError(ERR.INVALID_PARAMS, 'call_tool: parameters must be an object of the tool arguments');
    }
    return { name, arguments: parameters ?? {}, ...(params?._meta !== undefined ? { _meta: params._meta } : {}) };
  }

  /** The optimizer's series (ToolHive's optimizer metrics; mapping in docs/observability.md). */
  metricLines(out: string[]): void {
    out.push(
      '# HELP vmcp_optimizer_find_tool_requests_total find_tool calls, by outcome.',
      '# TYPE vmcp_optimizer_find_tool_requests_total counter',
      `vmcp_optimizer_find_tool_requests_total{outcome="success"} ${this.findRequests - this.findErrors}`,
      `vmcp_optimizer_find_tool_requests_total{outcome="error"} ${this.findErrors}`,
    );
    this.findSeconds.lines(
      out,
      'vmcp_optimizer_find_tool_duration_seconds',
      'Time to rank and filter one find_tool query.',
    );
    this.findResults.lines(out, 'vmcp_optimizer_find_tool_results', 'Tools returned per find_tool call.');
    this.savings.lines(
      out,
      'vmcp_optimizer_token_savings_percent',
      'Token savings of each find_tool answer against the whole visible catalog.',
    );
    out.push(
      '# HELP vmcp_optimizer_call_tool_requests_total call_tool calls, by outcome (not_found: no such tool for this caller).',
      '# TYPE vmcp_optimizer_call_tool_requests_total counter',
      `vmcp_optimizer_call_tool_requests_total{outcome="forwarded"} ${this.callRequests - this.callErrors - this.callNotFound}`,
      `vmcp_optimizer_call_tool_requests_total{outcome="error"} ${this.callErrors}`,
      `vmcp_optimizer_call_tool_requests_total{outcome="not_found"} ${this.callNotFound}`,
    );
    if (this.semantic)
      out.push(
        '# HELP vmcp_optimizer_embedding_errors_total find_tool queries the embedding service could not embed (answered lexically).',
        '# TYPE vmcp_optimizer_embedding_errors_total counter',
        `vmcp_optimizer_embedding_errors_total ${this.embedErrors}`,
      );
  }
}

/** The generated module's factory for configs with an enabled optimizer. */
export function optimizer(cfg: CompiledOptimizer, gw: CompiledGateway, log?: Logger): Optimizer {
  return new Optimizer(cfg, gw, log);
}
