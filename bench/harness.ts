/**
 * Runs the scenarios with a hard deadline each, kills every process after each scenario (also on
 * failure), and collects one results object. Used by bench/run.ts and by the smoke test.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { Deadline } from './lib/measure.ts';
import type { BenchOptions } from './lib/options.ts';
import { liveCount, REPO, stopAll } from './lib/procs.ts';
import { build, type BuildResult } from './scenarios/build.ts';
import { catalog, type CatalogResult } from './scenarios/catalog.ts';
import { cold, type ColdResult } from './scenarios/cold.ts';
import { errorText, latency, type LatencyResult } from './scenarios/latency.ts';
import { throughput, type ThroughputResult } from './scenarios/throughput.ts';
import { peers, type PeersResult } from './scenarios/peers.ts';

export interface BenchResults {
  meta: {
    date: string;
    node: string;
    cores: number;
    cpuModel: string;
    loadavgAtStart: number[];
    loadavgAtEnd?: number[];
    commit: string;
    options: BenchOptions;
    elapsedS?: number;
  };
  latencyHttp?: LatencyResult;
  latencyStdio?: LatencyResult;
  cold?: ColdResult;
  catalog?: CatalogResult;
  throughput?: ThroughputResult;
  build?: BuildResult;
  /** Scenario 7: supergateway and mcp-proxy next to the baseline and vmcp, one stdio backend. */
  peers?: PeersResult;
  /** Scenario-level failures (a whole scenario aborted). */
  errors: Record<string, string>;
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO }).toString().trim();
  } catch {
    return 'unknown';
  }
}

type Log = (line: string) => void;

/** Runs `body` under a hard deadline; always stops every process it started. */
async function scenario<T>(
  name: string,
  opts: BenchOptions,
  log: Log,
  results: BenchResults,
  body: (d: Deadline) => Promise<T>,
): Promise<T | undefined> {
  const d = new Deadline(name, opts.deadlineMs);
  const t0 = performance.now();
  log(`▶ ${name}`);
  try {
    const r = await d.run(() => body(d));
    log(`  ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return r;
  } catch (e) {
    results.errors[name] = errorText(e);
    log(`  ${name} FAILED: ${errorText(e)}`);
    return undefined;
  } finally {
    await stopAll();
    if (liveCount()) log(`  warning: ${liveCount()} processes still tracked after ${name}`);
  }
}

export async function runBench(opts: BenchOptions, log: Log = () => {}): Promise<BenchResults> {
  const started = performance.now();
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadavgAtStart: loadavg(),
      commit: commit(),
      options: opts,
    },
    errors: {},
  };
  const on = (id: string) => opts.only.includes(id);
  if (on('latency')) {
    results.latencyHttp = await scenario('latency-http', opts, log, results, (d) => latency(opts, 'http', d));
    results.latencyStdio = await scenario('latency-stdio', opts, log, results, (d) => latency(opts, 'stdio', d));
  }
  if (on('cold')) results.cold = await scenario('cold', opts, log, results, (d) => cold(opts, d));
  if (on('catalog')) results.catalog = await scenario('catalog', opts, log, results, (d) => catalog(opts, d));
  if (on('throughput'))
    results.throughput = await scenario('throughput', opts, log, results, (d) => throughput(opts, d));
  if (on('build')) results.build = await scenario('build', opts, log, results, (d) => build(opts, d));
  if (on('peers')) results.peers = await scenario('peers', opts, log, results, (d) => peers(opts, d));
  results.meta.loadavgAtEnd = loadavg();
  results.meta.elapsedS = Number(((performance.now() - started) / 1000).toFixed(1));
  return results;
}

/** Every per-target error recorded anywhere in the results, as "path: message". */
export function targetErrors(results: BenchResults): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (!v || typeof v !== 'object') return;
    if ('error' in v && typeof (v as { error: unknown }).error === 'string') {
      out.push(`${path}: ${(v as { error: string }).error}`);
      return;
    }
    for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
  };
  const { meta: _meta, errors, ...rest } = results;
  walk(rest, '');
  for (const [k, e] of Object.entries(errors)) out.push(`${k}: ${e}`);
  return out;
}
