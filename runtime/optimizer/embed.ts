/**
 * The embedding client of the optimizer, shared by vmcp compile (the catalog, once) and the runtime
 * (each find_tool query). Two APIs: TEI (`POST <base>/embed {inputs}` → number[][]) and
 * OpenAI-compatible (`POST <base>/v1/embeddings {model, input}` → {data: [{index, embedding}]}).
 * Vectors travel as base64 float32 and are L2-normalized, so cosine similarity is a dot product.
 */

export interface EmbeddingEndpoint {
  provider: 'tei' | 'openai';
  /** The service's base URL. */
  url: string;
  model?: string;
  /** Request headers (resolved: no `${env:...}` left). */
  headers: Record<string, string>;
  timeoutMs: number;
}

/** The request URL for `texts` on this endpoint. */
export function embeddingUrl(e: Pick<EmbeddingEndpoint, 'provider' | 'url'>): string {
  const base = e.url.replace(/\/+$/, '');
  if (e.provider === 'tei') return `${base}/embed`;
  return base.endsWith('/v1') ? `${base}/embeddings` : `${base}/v1/embeddings`;
}

/** Embeds `texts` (one request); rejects with a message naming the service and what went wrong. */
export async function embed(e: EmbeddingEndpoint, texts: readonly string[]): Promise<Float32Array[]> {
  const url = embeddingUrl(e);
  const body = e.provider === 'tei' ? { inputs: texts, truncate: true } : { model: e.model, input: texts };
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...e.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(e.timeoutMs),
    });
  } catch (err) {
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${e.timeoutMs} ms` : (err as Error).message;
    throw new Error(`embedding service ${url}: ${why}`);
  }
  if (!res.ok) {
    const text = (await res.text().catch(() => '')).slice(0, 200);
    throw new Error(`embedding service ${url} answered HTTP ${res.status}${text ? `: ${text}` : ''}`);
  }
  const json: any = await res.json().catch(() => undefined);
  const rows: unknown[] | undefined =
    e.provider === 'tei'
      ? json
      : Array.isArray(json?.data)
        ? [...json.data].sort((a: any, b: any) => a.index - b.index).map((d: any) => d.embedding)
        : undefined;
  if (!Array.isArray(rows) || rows.length !== texts.length || !rows.every((r) => Array.isArray(r) && r.length > 0))
    throw new Error(`embedding service ${url} did not answer one vector per input`);
  return rows.map((r) => normalize(Float32Array.from(r as number[])));
}

/** Scales `v` to unit length (a zero vector stays zero). */
export function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

export function toBase64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

export function fromBase64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  // A copy, aligned for Float32Array.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** The dot product of two unit vectors: their cosine similarity. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
