/**
 * Smoke test of the benchmark harness (not a benchmark): every scenario runs with tiny counts
 * against the direct backend, the baseline proxy and a compiled vmcp bundle, and must produce
 * verified, finite, positive numbers. A vmcp failure fails the test with the runtime's error; it is
 * never skipped. No process may outlive a scenario.
 * Not part of `npm test` (it takes ~90 s): run it with `npm run test:bench`; .ci/run does.
 */
import { describe, expect, it } from 'vitest';
import { runBench, targetErrors, type BenchResults } from '../../bench/harness.ts';
import { optionsFromEnv } from '../../bench/lib/options.ts';
import { liveCount } from '../../bench/lib/procs.ts';
import { renderTable } from '../../bench/lib/table.ts';

const TIMEOUT = 240_000;

async function run(only: string): Promise<BenchResults> {
  const opts = optionsFromEnv(
    { BENCH_SCALE: '0.01', BENCH_REPS: '1' },
    { clients: 4, coldBackends: [1, 2], toolCounts: [10, 100], only: [only], deadlineMs: 200_000 },
  );
  const results = await runBench(opts);
  expect(liveCount(), 'processes left running after the scenario').toBe(0);
  const errors = targetErrors(results);
  const vmcp = errors.filter((e) => /vmcp/.test(e));
  if (vmcp.length)
    throw new Error(
      `vmcp runtime not functional (bundle from \`vmcp compile\`, runtime/index.ts startGateway):\n${vmcp.join('\n')}`,
    );
  expect(errors, 'harness errors').toEqual([]);
  // The table renders without throwing and names the scenario.
  expect(renderTable(results)).toMatch(/\| metric \|/);
  return results;
}

/** A measured figure: a finite number above zero. */
function sane(x: unknown, what: string): void {
  expect(typeof x === 'number' && Number.isFinite(x) && x > 0, `${what} = ${x}`).toBe(true);
}
/** A counter that may legitimately read 0 at tiny counts (CPU ticks are 10 ms). */
function finiteNonNegative(x: unknown, what: string): void {
  expect(typeof x === 'number' && Number.isFinite(x) && x >= 0, `${what} = ${x}`).toBe(true);
}
const ok = <T>(r: T | { error: string } | undefined, what: string): T => {
  expect(r, `${what} missing`).toBeDefined();
  expect(r && typeof r === 'object' && 'error' in r ? (r as { error: string }).error : undefined, what).toBeUndefined();
  return r as T;
};

describe('bench harness smoke (tiny counts)', () => {
  it('1+2 latency and CPU per call, HTTP and stdio backends', { timeout: TIMEOUT }, async () => {
    const r = await run('latency');
    for (const [label, lat] of [
      ['http', r.latencyHttp],
      ['stdio', r.latencyStdio],
    ] as const) {
      for (const kind of ['direct', 'baseline', 'vmcp'] as const) {
        const t = ok(lat?.[kind], `${label} ${kind}`);
        sane(t.p50, `${label} ${kind} p50`);
        sane(t.p99, `${label} ${kind} p99`);
        expect(t.p99).toBeGreaterThanOrEqual(t.p50);
        if (kind !== 'direct') {
          finiteNonNegative(t.cpuMsPerCall, `${label} ${kind} cpu/call`);
          expect(Number.isFinite(t.addedP50), `${label} ${kind} added p50`).toBe(true);
        }
      }
    }
  });

  it('3 cold session with 1 and 2 slow stdio backends', { timeout: TIMEOUT }, async () => {
    const r = await run('cold');
    for (const n of ['1', '2']) {
      for (const kind of ['baseline', 'vmcp'] as const) {
        const t = ok(r.cold?.[n]?.[kind], `cold ${n} ${kind}`);
        sane(t.startMs, `cold ${n} ${kind} start`);
        sane(t.readyAfterListenMs, `cold ${n} ${kind} ready after listen`);
        expect(t.spawnToReadyMs).toBeGreaterThan(t.readyAfterListenMs);
      }
    }
  });

  it('4 catalog scale with 10 and 100 tools', { timeout: TIMEOUT }, async () => {
    const r = await run('catalog');
    for (const n of ['10', '100']) {
      for (const kind of ['direct', 'baseline', 'vmcp'] as const) {
        const t = ok(r.catalog?.byTools[n]?.[kind], `catalog ${n} ${kind}`);
        sane(t.listMs, `catalog ${n} ${kind} list`);
        sane(t.callP50, `catalog ${n} ${kind} call p50`);
      }
    }
    for (const kind of ['direct', 'baseline', 'vmcp'] as const) sane(r.catalog?.ratio[kind]?.callP50, `${kind} ratio`);
  });

  it('5 throughput with 4 concurrent sessions', { timeout: TIMEOUT }, async () => {
    const r = await run('throughput');
    for (const kind of ['baseline', 'vmcp'] as const) {
      const t = ok(r.throughput?.targets[kind], `throughput ${kind}`);
      sane(t.callsPerSec, `${kind} calls/s`);
      sane(t.p99, `${kind} p99`);
      finiteNonNegative(t.cpuMsPerCall, `${kind} cpu/call`);
    }
    sane(r.throughput?.speedup, 'speedup');
  });

  it('6 build: compile, bundle size, start-up, idle RSS', { timeout: TIMEOUT }, async () => {
    const r = await run('build');
    const v = ok(r.build?.targets.vmcp, 'build vmcp');
    sane(v.compileMs, 'compile ms');
    sane(v.bundleBytes, 'bundle bytes');
    sane(v.startMs, 'vmcp start');
    sane(v.idleRssMb, 'vmcp rss');
    const b = ok(r.build?.targets.baseline, 'build baseline');
    sane(b.startMs, 'baseline start');
    sane(b.idleRssMb, 'baseline rss');
  });

  it('7 peers: supergateway and mcp-proxy next to the baseline and vmcp', { timeout: TIMEOUT }, async () => {
    const r = await run('peers');
    for (const kind of ['baseline', 'supergateway', 'mcp-proxy', 'vmcp'] as const) {
      const t = ok(r.peers?.[kind], `peers ${kind}`);
      sane(t.p50, `${kind} p50`);
      finiteNonNegative(t.cpuMsPerCall, `${kind} cpu`);
      sane(t.rssMb, `${kind} rss`);
    }
    expect(r.peers?.supergateway && 'version' in r.peers.supergateway ? r.peers.supergateway.version : '').toBe(
      '4.0.0',
    );
    expect(renderTable(r)).toContain('| mcp-proxy | 6.7.19 |');
  });
});
