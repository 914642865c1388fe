/**
 * Scenario 6: build and footprint for a quickstart-like config (two stdio backends named like the
 * quickstart's, served by the echo fixture instead of npx so that the registry is out of the loop):
 * compile time (fresh directory each time, live introspection), bundle size, spawn → listening,
 * and idle RSS one second after listening. The baseline's start-up and RSS are measured alike.
 * The 100 × 50 compile figure comes from bench/compile-scale.json when it exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../lib/mcp-client.ts';
import { type Deadline, echo, median } from '../lib/measure.ts';
import type { BenchOptions } from '../lib/options.ts';
import { REPO, rssMb, sleep, stop } from '../lib/procs.ts';
import {
  compileVmcp,
  scratch,
  startGateway,
  type BackendSpec,
  type Gateway,
  type GatewayKind,
} from '../lib/targets.ts';
import { errorText, type TargetResult } from './latency.ts';

export interface BuildTarget {
  compileMs?: number;
  bundleBytes?: number;
  startMs: number;
  idleRssMb: number;
}
export interface BuildResult {
  targets: Partial<Record<GatewayKind, TargetResult<BuildTarget>>>;
  /** bench/compile-scale.json as written by bench/compile-scale.ts, if present. */
  compileScale?: unknown;
}

const IDLE_SETTLE_MS = 1000;
const QUICKSTART: BackendSpec[] = [{ name: 'memory' }, { name: 'everything' }];

export async function build(opts: BenchOptions, deadline: Deadline): Promise<BuildResult> {
  const result: BuildResult = { targets: {} };
  const file = join(REPO, 'bench/compile-scale.json');
  if (existsSync(file)) {
    try {
      result.compileScale = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      result.compileScale = { error: `unreadable: ${errorText(e)}` };
    }
  }
  const kinds = (['baseline', 'vmcp'] as const).filter((k) => opts.targets.includes(k));
  const runs = new Map<GatewayKind, BuildTarget[]>();
  for (let rep = 0; rep < opts.reps; rep++) {
    for (const kind of kinds) {
      if (result.targets[kind]) continue;
      const tmp = scratch(`build-${kind}`);
      let gw: Gateway | undefined;
      try {
        const compiled = kind === 'vmcp' ? await compileVmcp(QUICKSTART, tmp.dir, 'quickstart') : undefined;
        gw = await startGateway(kind, QUICKSTART, tmp.dir, compiled?.bundle);
        await sleep(IDLE_SETTLE_MS);
        const idleRssMb = rssMb(gw.proc.pid);
        const client = await HttpClient.connect(gw.url);
        try {
          await echo(client, 'memory_echo', 'build-check');
          await echo(client, 'everything_echo', 'build-check');
        } finally {
          await client.close();
        }
        const r: BuildTarget = { startMs: gw.startMs, idleRssMb };
        if (compiled) Object.assign(r, { compileMs: compiled.compileMs, bundleBytes: compiled.bundleBytes });
        runs.set(kind, [...(runs.get(kind) ?? []), r]);
      } catch (e) {
        result.targets[kind] = { error: errorText(e) };
      } finally {
        if (gw) await stop(gw.proc);
        tmp.remove();
      }
      deadline.check();
    }
  }
  for (const [kind, rs] of runs) {
    if (result.targets[kind]) continue;
    const t: BuildTarget = { startMs: median(rs.map((r) => r.startMs)), idleRssMb: median(rs.map((r) => r.idleRssMb)) };
    if (kind === 'vmcp')
      Object.assign(t, {
        compileMs: median(rs.map((r) => r.compileMs!)),
        bundleBytes: median(rs.map((r) => r.bundleBytes!)),
      });
    result.targets[kind] = t;
  }
  return result;
}
