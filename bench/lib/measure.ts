/** Timing, verification and statistics shared by the scenarios. */
import type { RpcClient } from './mcp-client.ts';

export class VerifyError extends Error {}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  const s = Array.from(samples).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const median = (xs: number[]) => percentile(xs, 50);

export const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

/** Checks that an echo result carries the input back, in text and in structuredContent. */
export function checkEcho(result: any, text: string, tool: string): void {
  const got = result?.content?.[0]?.text;
  if (result?.isError || got !== text || result?.structuredContent?.text !== text) {
    throw new VerifyError(`${tool} did not echo ${JSON.stringify(text)}: ${JSON.stringify(result).slice(0, 300)}`);
  }
}

/** One verified echo call. */
export async function echo(client: RpcClient, tool: string, text: string): Promise<void> {
  checkEcho(await client.call('tools/call', { name: tool, arguments: { text } }), text, tool);
}

/** Warm-up: `n` verified calls, untimed. Throws VerifyError on the first wrong answer. */
export async function warmUp(client: RpcClient, tool: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await echo(client, tool, `warm-${i}-é✓`);
}

/** `n` sequential verified echo calls; returns the latency of each in ms. `pad` lengthens each text. */
export async function timedCalls(
  client: RpcClient,
  tool: string,
  n: number,
  deadline: Deadline,
  pad = '',
): Promise<Float64Array> {
  const lat = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const text = `call-${i}${pad}`;
    const t0 = performance.now();
    const r = await client.call('tools/call', { name: tool, arguments: { text } });
    lat[i] = performance.now() - t0;
    checkEcho(r, text, tool);
    if ((i & 63) === 0) deadline.check();
  }
  return lat;
}

/** Every tool name, following nextCursor. */
export async function listToolNames(client: RpcClient): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const r = await client.call('tools/list', cursor ? { cursor } : {});
    for (const t of r.tools) names.push(t.name);
    cursor = r.nextCursor;
  } while (cursor);
  return names;
}

/** A hard time limit for one scenario: loops call check(), and run() races the body against it. */
export class Deadline {
  readonly at: number;
  constructor(
    readonly label: string,
    readonly ms: number,
  ) {
    this.at = performance.now() + ms;
  }
  expired(): boolean {
    return performance.now() > this.at;
  }
  check(): void {
    if (this.expired()) throw new Error(`${this.label}: hard deadline of ${this.ms} ms exceeded`);
  }
  /** Runs `body`, rejecting when the deadline passes first. */
  async run<T>(body: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.label}: hard deadline of ${this.ms} ms exceeded`)),
        Math.max(0, this.at - performance.now()),
      );
    });
    try {
      return await Promise.race([body(), limit]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Latency summary of one run. */
export function summarize(lat: ArrayLike<number>) {
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), n: lat.length };
}
