/**
 * Scenario 3: cold session. A fresh gateway process with N stdio backends that each delay their
 * initialize answer; we time spawn → listening, and listening → (initialize + tools/list done).
 * The baseline connects its backends before it listens, so its wait shows up in spawn → listening;
 * both phases are reported, and spawn → ready is the honest end-to-end figure.
 * Verification (untimed, after the measurement): the list holds every backend's tools, and an echo
 * through the last backend answers correctly.
 */
import { HttpClient } from '../lib/mcp-client.ts';
import { type Deadline, echo, listToolNames, median, VerifyError } from '../lib/measure.ts';
import type { BenchOptions } from '../lib/options.ts';
import { stop } from '../lib/procs.ts';
import { compileVmcp, scratch, startGateway, type BackendSpec, type GatewayKind } from '../lib/targets.ts';
import { errorText, type TargetResult } from './latency.ts';

/** Tools the echo fixture lists without ECHO_TOOL_COUNT. */
export const ECHO_BASE_TOOLS = 4;

export interface ColdTarget {
  /** spawn → listening line (ms). */
  startMs: number;
  /** listening → initialize + tools/list answered (ms): the target metric. */
  readyAfterListenMs: number;
  /** spawn → ready (ms). */
  spawnToReadyMs: number;
  runs: Array<{ startMs: number; readyAfterListenMs: number; spawnToReadyMs: number }>;
}
export type ColdResult = Record<string, Partial<Record<GatewayKind, TargetResult<ColdTarget>>>>;

export async function cold(opts: BenchOptions, deadline: Deadline): Promise<ColdResult> {
  const out: ColdResult = {};
  const kinds = (['baseline', 'vmcp'] as const).filter((k) => opts.targets.includes(k));
  for (const n of opts.coldBackends) {
    const tmp = scratch(`cold-${n}`);
    try {
      const backends: BackendSpec[] = Array.from({ length: n }, (_, i) => ({
        name: `b${i}`,
        env: { ECHO_INIT_DELAY_MS: String(opts.coldInitDelayMs) },
      }));
      const row: Partial<Record<GatewayKind, TargetResult<ColdTarget>>> = {};
      let bundle: string | undefined;
      if (kinds.includes('vmcp')) {
        try {
          bundle = (await compileVmcp(backends, tmp.dir)).bundle;
        } catch (e) {
          row.vmcp = { error: errorText(e) };
        }
      }
      const runs = new Map<GatewayKind, ColdTarget['runs']>();
      for (let rep = 0; rep < opts.reps; rep++) {
        for (const kind of kinds) {
          if (row[kind]) continue;
          try {
            const r = await coldOnce(kind, backends, tmp.dir, bundle);
            runs.set(kind, [...(runs.get(kind) ?? []), r]);
          } catch (e) {
            row[kind] = { error: errorText(e) };
          }
          deadline.check();
        }
      }
      for (const [kind, rs] of runs) {
        if (row[kind]) continue;
        row[kind] = {
          startMs: median(rs.map((r) => r.startMs)),
          readyAfterListenMs: median(rs.map((r) => r.readyAfterListenMs)),
          spawnToReadyMs: median(rs.map((r) => r.spawnToReadyMs)),
          runs: rs,
        };
      }
      out[String(n)] = row;
    } finally {
      tmp.remove();
    }
  }
  return out;
}

async function coldOnce(kind: GatewayKind, backends: BackendSpec[], dir: string, bundle?: string) {
  const gw = await startGateway(kind, backends, dir, bundle);
  let client: HttpClient | undefined;
  try {
    client = await HttpClient.connect(gw.url);
    const names = await listToolNames(client);
    const ready = performance.now();
    const want = backends.length * ECHO_BASE_TOOLS;
    const last = `${backends[backends.length - 1].name}_echo`;
    if (names.length !== want || !names.includes(last)) {
      throw new VerifyError(`tools/list returned ${names.length} tools (want ${want}, including ${last})`);
    }
    await echo(client, last, 'cold-check');
    return {
      startMs: gw.startMs,
      readyAfterListenMs: ready - gw.listenedAt,
      spawnToReadyMs: ready - gw.proc.startedAt,
    };
  } finally {
    await client?.close();
    await stop(gw.proc);
  }
}
