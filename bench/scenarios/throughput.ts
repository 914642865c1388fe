/**
 * Scenario 5: throughput. C concurrent clients, each with its own session and its own keep-alive
 * connection, share a fixed total of echo calls through a gateway with one stdio backend. Reports
 * calls/s (total / wall time) and the p99 of every call's latency. The load generator runs on the
 * same cores as the gateway and the backend.
 */
import { HttpClient } from '../lib/mcp-client.ts';
import { checkEcho, type Deadline, median, percentile, warmUp } from '../lib/measure.ts';
import type { BenchOptions } from '../lib/options.ts';
import { cpuMs, stop } from '../lib/procs.ts';
import { compileVmcp, scratch, startGateway, type Gateway, type GatewayKind } from '../lib/targets.ts';
import { errorText, type TargetResult } from './latency.ts';

export interface ThroughputTarget {
  callsPerSec: number;
  p99: number;
  p50: number;
  /** Gateway CPU ms per call under load. */
  cpuMsPerCall: number;
  runs: Array<{ callsPerSec: number; p50: number; p99: number; cpuMsPerCall: number }>;
}
export interface ThroughputResult {
  clients: number;
  callsPerRep: number;
  targets: Partial<Record<GatewayKind, TargetResult<ThroughputTarget>>>;
  /** vmcp calls/s ÷ baseline calls/s. */
  speedup?: number;
}

export async function throughput(opts: BenchOptions, deadline: Deadline): Promise<ThroughputResult> {
  const tmp = scratch('throughput');
  const backends = [{ name: 'be' }];
  const kinds = (['baseline', 'vmcp'] as const).filter((k) => opts.targets.includes(k));
  const perClient = Math.max(1, Math.ceil(opts.throughputCalls / opts.clients));
  const total = perClient * opts.clients;
  const result: ThroughputResult = { clients: opts.clients, callsPerRep: total, targets: {} };
  const open: Array<{ kind: GatewayKind; gw: Gateway; clients: HttpClient[] }> = [];
  try {
    for (const kind of kinds) {
      try {
        const bundle = kind === 'vmcp' ? (await compileVmcp(backends, tmp.dir)).bundle : undefined;
        const gw = await startGateway(kind, backends, tmp.dir, bundle);
        const entry = { kind, gw, clients: [] as HttpClient[] };
        open.push(entry);
        for (let i = 0; i < opts.clients; i++) entry.clients.push(await HttpClient.connect(gw.url));
        await Promise.all(entry.clients.map((c) => warmUp(c, 'be_echo', 3)));
      } catch (e) {
        result.targets[kind] = { error: errorText(e) };
      }
    }
    const runs = new Map<GatewayKind, ThroughputTarget['runs']>();
    for (let rep = 0; rep < opts.reps; rep++) {
      for (const { kind, gw, clients } of open) {
        if (result.targets[kind]) continue;
        try {
          const lat = new Float64Array(total);
          const cpu0 = cpuMs(gw.proc.pid);
          const t0 = performance.now();
          await Promise.all(
            clients.map(async (c, ci) => {
              for (let i = 0; i < perClient; i++) {
                const text = `c${ci}-${i}`;
                const s = performance.now();
                const r = await c.call('tools/call', { name: 'be_echo', arguments: { text } });
                lat[ci * perClient + i] = performance.now() - s;
                checkEcho(r, text, 'be_echo');
                if (deadline.expired()) deadline.check();
              }
            }),
          );
          const wall = performance.now() - t0;
          const cpu = cpuMs(gw.proc.pid) - cpu0;
          const rs = runs.get(kind) ?? [];
          rs.push({
            callsPerSec: (total * 1000) / wall,
            p50: percentile(lat, 50),
            p99: percentile(lat, 99),
            cpuMsPerCall: cpu / total,
          });
          runs.set(kind, rs);
        } catch (e) {
          result.targets[kind] = { error: errorText(e) };
        }
      }
    }
    for (const [kind, rs] of runs) {
      if (result.targets[kind]) continue;
      result.targets[kind] = {
        callsPerSec: median(rs.map((r) => r.callsPerSec)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        cpuMsPerCall: median(rs.map((r) => r.cpuMsPerCall)),
        runs: rs,
      };
    }
    const v = result.targets.vmcp;
    const b = result.targets.baseline;
    if (v && b && !('error' in v) && !('error' in b)) result.speedup = v.callsPerSec / b.callsPerSec;
    return result;
  } finally {
    for (const { gw, clients } of open) {
      await Promise.allSettled(clients.map((c) => c.close()));
      await stop(gw.proc);
    }
    tmp.remove();
  }
}
