/**
 * The optimizer's catalog embeddings, made at compile time and pinned in vmcp.lock.json by content
 * hash: each exposed tool's text is embedded once by the configured service, and a later compile
 * (or any `--frozen` one) reuses the pinned vector as long as the text, provider and model are the
 * same. Only the query is embedded at run time. The network phase of the optimizer; the rest is pure.
 */
import { createHash } from 'node:crypto';
import { parseDuration } from '../../runtime/duration.ts';
import { resolveEnvMap } from '../../runtime/env.ts';
import { type EmbeddingEndpoint, embed, toBase64 } from '../../runtime/optimizer/embed.ts';
import { documentOf } from '../../runtime/optimizer/search.ts';
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import { effectiveOptimizer } from '../emit/optimizer.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { Lockfile } from '../lock.ts';

/** What the lock pins: the vectors by the hash of the text they embed, and what made them. */
export interface LockedEmbeddings {
  provider: 'tei' | 'openai';
  model: string;
  dimensions: number;
  /** sha256(text) → base64 float32, unit length. */
  vectors: Record<string, string>;
}

/** Texts sent per request while embedding the catalog. */
const BATCH = 32;
const COMPILE_TIMEOUT_MS = 60_000;

/** The text a tool is embedded from: what a person reads to pick it. */
export function embeddingText(tool: unknown): string {
  const d = documentOf(tool);
  return [d.name, d.title, d.description, d.params && `Parameters: ${d.params}`]
    .filter(Boolean)
    .join('\n')
    .slice(0, 4000);
}

export const textKey = (text: string) => createHash('sha256').update(text).digest('base64url');

/** The endpoint of the config's embedding service, with headers resolved from `env` (and OPENAI_API_KEY). */
export function endpointOf(
  config: VmcpConfig,
  env: NodeJS.ProcessEnv,
  timeoutMs?: number,
): EmbeddingEndpoint | undefined {
  const o = config.optimizer && effectiveOptimizer(config.optimizer);
  if (!o?.enabled || !o.embeddingService) return undefined;
  const provider = o.embeddingProvider ?? 'tei';
  const headers = resolveEnvMap(o.embeddingHeaders ?? {}, env, 'optimizer.embeddingHeaders');
  const key = env.OPENAI_API_KEY;
  if (provider === 'openai' && key && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization'))
    headers.authorization = `Bearer ${key}`;
  return {
    provider,
    url: o.embeddingService,
    ...(o.embeddingModel ? { model: o.embeddingModel } : {}),
    headers,
    timeoutMs: timeoutMs ?? COMPILE_TIMEOUT_MS,
  };
}

/**
 * Embeds the exposed tools (reusing the previous lock's vectors), or says why not. `frozen`: no
 * network; a missing vector is LOCK_STALE. Returns the lock section and each tool's vector.
 */
export async function embedCatalog(input: {
  config: VmcpConfig;
  tools: readonly Record<string, unknown>[];
  previous: LockedEmbeddings | undefined;
  frozen: boolean;
  env: NodeJS.ProcessEnv;
  file: string;
}): Promise<{ value?: { locked: LockedEmbeddings; byTool: Record<string, string> }; diagnostics: Diagnostic[] }> {
  const o = input.config.optimizer && effectiveOptimizer(input.config.optimizer);
  if (!o?.enabled || !o.embeddingService) return { diagnostics: [] };
  const provider = o.embeddingProvider ?? 'tei';
  const model = o.embeddingModel ?? '';
  const fail = (code: Diagnostic['code'], message: string, hint: string) => ({
    diagnostics: [{ code, severity: 'error' as const, message, file: input.file, line: 0, column: 0, hint }],
  });
  const texts = input.tools.map((t) => embeddingText(t));
  const keys = texts.map(textKey);
  const reusable = input.previous && input.previous.provider === provider && input.previous.model === model;
  const vectors: Record<string, string> = {};
  const missing: number[] = [];
  keys.forEach((k, i) => {
    const v = reusable ? input.previous!.vectors[k] : undefined;
    if (v) vectors[k] = v;
    else missing.push(i);
  });
  if (missing.length > 0) {
    if (input.frozen)
      return fail(
        'LOCK_STALE',
        `vmcp.lock.json has no optimizer embeddings for ${missing.length} tool(s) (${missing
          .slice(0, 3)
          .map((i) => String(input.tools[i].name))
          .join(', ')}${missing.length > 3 ? ', …' : ''}) with ${provider} model "${model}"`,
        'run `vmcp compile` without --frozen (it calls the embedding service) and commit the lock',
      );
    let endpoint: EmbeddingEndpoint;
    try {
      endpoint = endpointOf(input.config, input.env)!;
    } catch (err) {
      return fail('ENV_UNSET', (err as Error).message, 'set the variable, or remove the header');
    }
    for (let at = 0; at < missing.length; at += BATCH) {
      const batch = missing.slice(at, at + BATCH);
      try {
        const out = await embed(
          endpoint,
          batch.map((i) => texts[i]),
        );
        batch.forEach((i, j) => {
          vectors[keys[i]] = toBase64(out[j]);
        });
      } catch (err) {
        return fail(
          'EMBEDDING_UNREACHABLE',
          `optimizer: cannot embed the catalog: ${(err as Error).message}`,
          `start the embedding service at ${o.embeddingService}, or remove embeddingService to use lexical search only`,
        );
      }
    }
  }
  const dims = Buffer.from(Object.values(vectors)[0] ?? '', 'base64').byteLength / 4;
  if (Object.values(vectors).some((v) => Buffer.from(v, 'base64').byteLength / 4 !== dims))
    return fail(
      'EMBEDDING_UNREACHABLE',
      'optimizer: the embedding service answered vectors of different lengths',
      'pin one model with embeddingModel',
    );
  return {
    value: {
      locked: { provider, model, dimensions: dims, vectors },
      byTool: Object.fromEntries(input.tools.map((t, i) => [String(t.name), vectors[keys[i]]])),
    },
    diagnostics: [],
  };
}

/** The embeddings section of a lock, if it has a well-formed one. */
export function lockedEmbeddingsOf(lock: Lockfile | undefined): LockedEmbeddings | undefined {
  const e = (lock as { embeddings?: LockedEmbeddings } | undefined)?.embeddings;
  return e && typeof e.vectors === 'object' && typeof e.model === 'string' ? e : undefined;
}

/** The timeout of one query embedding at run time. */
export function queryTimeoutMs(config: VmcpConfig): number {
  return parseDuration(config.optimizer?.embeddingServiceTimeout ?? '2s') ?? 2000;
}
