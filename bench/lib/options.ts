/** Benchmark counts, all bounded and scalable from the environment. */
import type { TargetKind } from './targets.ts';

export interface BenchOptions {
  /** Multiplier for every count (BENCH_SCALE; 0.01 for a smoke run). */
  scale: number;
  /** Repetitions per measurement; the median is reported (BENCH_REPS). */
  reps: number;
  /** Sequential timed calls per repetition in the latency scenarios. */
  calls: number;
  /** Untimed, verified calls before timing. */
  warmup: number;
  /** Concurrent clients (each with its own session) for throughput (BENCH_CLIENTS). */
  clients: number;
  /** Total calls per throughput repetition. */
  throughputCalls: number;
  /** Stdio backends (each delaying initialize 200 ms) for the cold-session scenario (BENCH_COLD_BACKENDS). */
  coldBackends: number[];
  /** initialize delay of the cold-session backends (ms). */
  coldInitDelayMs: number;
  /** Exposed tool counts for the catalog scenario (BENCH_TOOLS). */
  toolCounts: number[];
  /** tools/list calls per repetition in the catalog scenario. */
  listCalls: number;
  /** tools/call calls per repetition in the catalog scenario. */
  catalogCalls: number;
  /** Which targets to measure (BENCH_TARGETS=direct,baseline,vmcp). */
  targets: TargetKind[];
  /** Scenario ids to run (BENCH_ONLY=latency,cold,catalog,throughput,build). */
  only: string[];
  /** Hard deadline per scenario in ms (BENCH_DEADLINE_S). */
  deadlineMs: number;
}

export const SCENARIOS = ['latency', 'cold', 'catalog', 'throughput', 'build', 'peers'] as const;

const list = (v: string | undefined) =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
const nums = (v: string | undefined) => list(v)?.map(Number);

/** Options from the environment (BENCH_*), with the counts at scale 1. */
export function optionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<BenchOptions> = {},
): BenchOptions {
  const scale = Number(env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error(`BENCH_SCALE must be > 0, got ${env.BENCH_SCALE}`);
  const n = (full: number, min: number) => Math.max(min, Math.round(full * scale));
  return {
    scale,
    reps: Number(env.BENCH_REPS ?? 3),
    calls: n(2000, 20),
    warmup: n(300, 5),
    clients: Number(env.BENCH_CLIENTS ?? 32),
    throughputCalls: n(6400, 64),
    coldBackends: nums(env.BENCH_COLD_BACKENDS) ?? [1, 10, 30],
    coldInitDelayMs: Number(env.BENCH_COLD_DELAY_MS ?? 200),
    toolCounts: nums(env.BENCH_TOOLS) ?? [10, 1000, 10000],
    listCalls: n(20, 3),
    catalogCalls: n(500, 20),
    targets: (list(env.BENCH_TARGETS) ?? ['direct', 'baseline', 'vmcp']) as TargetKind[],
    only: list(env.BENCH_ONLY) ?? [...SCENARIOS],
    deadlineMs: Number(env.BENCH_DEADLINE_S ?? 600) * 1000,
    ...overrides,
  };
}
