/**
 * Scenario 4: catalog scale. One stdio echo backend exposing T tools (ECHO_TOOL_COUNT = T - 4);
 * tools/list latency (whole list, following cursors) and echo tools/call p50/p99 for each T, per
 * target. The ratio of the largest T to the smallest shows whether routing stays flat.
 */
import { type Deadline, listToolNames, median, summarize, timedCalls, VerifyError, warmUp } from '../lib/measure.ts';
import type { BenchOptions } from '../lib/options.ts';
import { compileVmcp, scratch, type TargetKind } from '../lib/targets.ts';
import { ECHO_BASE_TOOLS } from './cold.ts';
import { closeAll, errorText, openAll, type TargetResult } from './latency.ts';

export interface CatalogTarget {
  listMs: number;
  callP50: number;
  callP99: number;
}
export interface CatalogResult {
  byTools: Record<string, Partial<Record<TargetKind, TargetResult<CatalogTarget>>>>;
  /** largest-T / smallest-T ratios per target. */
  ratio: Partial<Record<TargetKind, { callP50: number; listMs: number }>>;
}

export async function catalog(opts: BenchOptions, deadline: Deadline): Promise<CatalogResult> {
  const byTools: CatalogResult['byTools'] = {};
  for (const total of opts.toolCounts) {
    if (total < ECHO_BASE_TOOLS)
      throw new Error(`tool count ${total} is below the fixture's ${ECHO_BASE_TOOLS} base tools`);
    const tmp = scratch(`catalog-${total}`);
    const spec = { name: 'be', env: { ECHO_TOOL_COUNT: String(total - ECHO_BASE_TOOLS) } };
    const { opened, errors } = await openAll(
      opts,
      ['direct', 'baseline', 'vmcp'],
      [spec],
      tmp.dir,
      async () => (await compileVmcp([spec], tmp.dir)).bundle,
    );
    const row: Partial<Record<TargetKind, TargetResult<CatalogTarget>>> = { ...errors };
    try {
      const runs = new Map<TargetKind, CatalogTarget[]>();
      for (const o of opened) {
        try {
          const names = await listToolNames(o.client);
          if (names.length !== total || !names.includes(o.tool('be', 'echo')))
            throw new VerifyError(`tools/list returned ${names.length} tools, want ${total}`);
          await warmUp(o.client, o.tool('be', 'echo'), Math.min(opts.warmup, 50));
          runs.set(o.kind, []);
        } catch (e) {
          row[o.kind] = { error: `verification failed: ${errorText(e)}` };
        }
      }
      for (let rep = 0; rep < opts.reps; rep++) {
        for (const o of opened) {
          if (row[o.kind]) continue;
          try {
            const lists: number[] = [];
            for (let i = 0; i < opts.listCalls; i++) {
              const t0 = performance.now();
              const n = (await listToolNames(o.client)).length;
              lists.push(performance.now() - t0);
              if (n !== total) throw new VerifyError(`tools/list returned ${n} tools, want ${total}`);
              deadline.check();
            }
            const s = summarize(await timedCalls(o.client, o.tool('be', 'echo'), opts.catalogCalls, deadline));
            runs.get(o.kind)!.push({ listMs: median(lists), callP50: s.p50, callP99: s.p99 });
          } catch (e) {
            row[o.kind] = { error: errorText(e) };
          }
        }
      }
      for (const [kind, rs] of runs) {
        if (row[kind]) continue;
        row[kind] = {
          listMs: median(rs.map((r) => r.listMs)),
          callP50: median(rs.map((r) => r.callP50)),
          callP99: median(rs.map((r) => r.callP99)),
        };
      }
    } finally {
      await closeAll(opened);
      tmp.remove();
    }
    byTools[String(total)] = row;
  }
  const ratio: CatalogResult['ratio'] = {};
  const lo = byTools[String(Math.min(...opts.toolCounts))];
  const hi = byTools[String(Math.max(...opts.toolCounts))];
  for (const kind of opts.targets) {
    const a = lo?.[kind];
    const b = hi?.[kind];
    if (a && b && !('error' in a) && !('error' in b))
      ratio[kind] = { callP50: b.callP50 / a.callP50, listMs: b.listMs / a.listMs };
  }
  return { byTools, ratio };
}
