/**
 * Scenarios 1 and 2: sequential echo tools/call latency (direct vs baseline vs vmcp) over an HTTP
 * backend and over a stdio backend, and the gateway's CPU time per proxied call over the same
 * fixed-count runs (/proc/<pid>/stat utime+stime before and after). Targets are interleaved
 * repetition by repetition, so drift in machine load hits all of them alike.
 */
import { cpuMs, stop, type Spawned } from '../lib/procs.ts';
import { type Deadline, median, summarize, timedCalls, warmUp } from '../lib/measure.ts';
import type { BenchOptions } from '../lib/options.ts';
import {
  compileVmcp,
  openTarget,
  scratch,
  startEchoHttp,
  type BackendSpec,
  type Opened,
  type TargetKind,
} from '../lib/targets.ts';

export interface LatencyTarget {
  p50: number;
  p99: number;
  /** Gateway CPU ms per proxied call (gateways only). */
  cpuMsPerCall?: number;
  addedP50?: number;
  addedP99?: number;
  runs: Array<{ p50: number; p99: number; cpuMsPerCall?: number }>;
}
export type TargetResult<T> = T | { error: string };
export type LatencyResult = Partial<Record<TargetKind, TargetResult<LatencyTarget>>>;

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Opens every requested target; a target that fails to open is recorded, not fatal. */
export async function openAll(
  opts: BenchOptions,
  kinds: TargetKind[],
  backends: BackendSpec[],
  dir: string,
  bundle: () => Promise<string>,
) {
  const opened: Opened[] = [];
  const errors: Partial<Record<TargetKind, { error: string }>> = {};
  for (const kind of kinds.filter((k) => opts.targets.includes(k))) {
    try {
      opened.push(await openTarget(kind, backends, dir, kind === 'vmcp' ? await bundle() : undefined));
    } catch (e) {
      errors[kind] = { error: errorText(e) };
    }
  }
  return { opened, errors };
}

export async function closeAll(opened: Opened[]): Promise<void> {
  await Promise.allSettled(opened.map((o) => o.close()));
}

/** Runs scenario 1+2 over one backend transport. */
export async function latency(
  opts: BenchOptions,
  transport: 'http' | 'stdio',
  deadline: Deadline,
): Promise<LatencyResult> {
  const tmp = scratch(`latency-${transport}`);
  let backendProc: Spawned | undefined;
  let opened: Opened[] = [];
  try {
    let spec: BackendSpec = { name: 'be' };
    if (transport === 'http') {
      const be = await startEchoHttp();
      backendProc = be.proc;
      spec = { name: 'be', url: be.url };
    }
    const all = await openAll(
      opts,
      ['direct', 'baseline', 'vmcp'],
      [spec],
      tmp.dir,
      async () => (await compileVmcp([spec], tmp.dir)).bundle,
    );
    opened = all.opened;
    const result: LatencyResult = { ...all.errors };
    const live: Opened[] = [];
    for (const o of opened) {
      try {
        await warmUp(o.client, o.tool('be', 'echo'), opts.warmup);
        live.push(o);
      } catch (e) {
        result[o.kind] = { error: `verification failed: ${errorText(e)}` };
      }
    }
    const runs = new Map<TargetKind, LatencyTarget['runs']>(live.map((o) => [o.kind, []]));
    for (let rep = 0; rep < opts.reps; rep++) {
      for (const o of live) {
        if (result[o.kind]) continue;
        try {
          const pid = o.gw?.proc.pid;
          const cpu0 = pid ? cpuMs(pid) : 0;
          const lat = await timedCalls(o.client, o.tool('be', 'echo'), opts.calls, deadline);
          const cpu1 = pid ? cpuMs(pid) : 0;
          const s = summarize(lat);
          runs
            .get(o.kind)!
            .push({ p50: s.p50, p99: s.p99, ...(pid ? { cpuMsPerCall: (cpu1 - cpu0) / opts.calls } : {}) });
        } catch (e) {
          result[o.kind] = { error: errorText(e) };
        }
      }
      deadline.check();
    }
    for (const [kind, rs] of runs) {
      if (result[kind]) continue;
      const t: LatencyTarget = { p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), runs: rs };
      if (kind !== 'direct') t.cpuMsPerCall = median(rs.map((r) => r.cpuMsPerCall!));
      result[kind] = t;
    }
    const direct = result.direct as LatencyTarget | undefined;
    if (direct && !('error' in direct)) {
      for (const kind of ['baseline', 'vmcp'] as const) {
        const g = result[kind];
        if (g && !('error' in g)) {
          g.addedP50 = g.p50 - direct.p50;
          g.addedP99 = g.p99 - direct.p99;
        }
      }
    }
    return result;
  } finally {
    await closeAll(opened);
    if (backendProc) await stop(backendProc);
    tmp.remove();
  }
}
