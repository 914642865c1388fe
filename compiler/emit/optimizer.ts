/**
 * The optimizer's search index, built at compile time over every exposed tool (routed and
 * composite) with the runtime's own rules (runtime/optimizer/search.ts), and emitted as data: no
 * index is built at start-up or per session. Pure.
 */
import type { CompiledOptimizer } from '../../runtime/compiled-gateway.ts';
import { buildIndex } from '../../runtime/optimizer/search.ts';
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import { parseDuration } from '../../runtime/duration.ts';

/** A number written as a number or a string ("0.8"); `fallback` when absent or not a number. */
function numberOr(v: number | string | undefined, fallback: number): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return n !== undefined && Number.isFinite(n) ? n : fallback;
}

/** Estimated tokens of a tool definition: its JSON length / 4, as ToolHive estimates them. */
export function toolTokens(def: unknown): number {
  return Math.ceil(JSON.stringify(def).length / 4);
}

type OptimizerConfig = NonNullable<VmcpConfig['optimizer']>;

/**
 * The optimizer block with older ToolHive names read as the current ones: embeddingURL →
 * embeddingService, embeddingBackend (ollama, openai-compatible, vllm: OpenAI's API; placeholder: none)
 * → embeddingProvider, hybridSearchRatio (0..1 or a percentage) → hybridSearchSemanticRatio.
 */
export function effectiveOptimizer(o: OptimizerConfig): OptimizerConfig {
  const placeholder = o.embeddingBackend === 'placeholder';
  const raw = o.hybridSearchSemanticRatio ?? o.hybridSearchRatio;
  let ratio = typeof raw === 'string' ? Number(raw) : raw;
  if (ratio !== undefined && ratio > 1) ratio /= 100;
  const service = o.embeddingService ?? (placeholder ? undefined : o.embeddingURL);
  const provider = o.embeddingProvider ?? (o.embeddingBackend && !placeholder ? 'openai' : undefined);
  return {
    ...o,
    ...(service ? { embeddingService: service } : {}),
    ...(provider ? { embeddingProvider: provider } : {}),
    ...(ratio !== undefined ? { hybridSearchSemanticRatio: ratio } : {}),
  };
}

export function compileOptimizer(
  config: VmcpConfig,
  tools: readonly Record<string, unknown>[],
  vectors?: Record<string, string>,
): CompiledOptimizer | undefined {
  if (!config.optimizer?.enabled) return undefined;
  const o = effectiveOptimizer(config.optimizer);
  const ratio =
    typeof o.hybridSearchSemanticRatio === 'string' ? Number(o.hybridSearchSemanticRatio) : o.hybridSearchSemanticRatio;
  return {
    maxToolsToReturn: o.maxToolsToReturn,
    index: JSON.stringify(buildIndex(tools)),
    tokens: Object.fromEntries(tools.map((t) => [String(t.name), toolTokens(t)])),
    ...(o.embeddingService && vectors
      ? {
          embedding: {
            provider: o.embeddingProvider ?? 'tei',
            url: o.embeddingService,
            ...(o.embeddingModel ? { model: o.embeddingModel } : {}),
            // Header values stay `${env:NAME}` references, resolved at start-up; OPENAI_API_KEY is read then too.
            headers: o.embeddingHeaders ?? {},
            timeoutMs: parseDuration(o.embeddingServiceTimeout ?? '2s') ?? 2000,
            semanticRatio: ratio !== undefined && Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 0.5,
            distanceThreshold: numberOr(o.semanticDistanceThreshold, 1),
            vectors,
          },
        }
      : {}),
  };
}
