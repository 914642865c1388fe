/**
 * Profiles the vmcp hot path: compiles a one-backend (stdio echo) gateway, runs the bundle under
 * `node --cpu-prof`, drives PROFILE_CALLS sequential verified echo calls (plus PROFILE_CLIENTS
 * concurrent sessions when set), stops the gateway (the profile is written on exit), and prints
 * the top self-time functions. The .cpuprofile stays in a temp dir (PROFILE_DIR to keep it).
 * The bundle is minified, so each bundle function is shown with the start of its source text.
 * PROFILE_INTERVAL_US sets the sampling interval (default 250 µs; node's own default is 1000).
 * PROFILE_CLI profiles another checkout's build (its bin/vmcp.mjs), e.g. the commit before a change.
 *   npx tsx bench/profile.ts            # hot path
 *   PROFILE_HTTP=1 npx tsx bench/profile.ts    # hot path over a Streamable HTTP backend
 *   PROFILE_COLD=10 npx tsx bench/profile.ts   # cold start with 10 slow backends instead
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from './lib/mcp-client.ts';
import { Deadline, listToolNames, timedCalls, warmUp } from './lib/measure.ts';
import { VMCP_CLI, stop, stopAll } from './lib/procs.ts';
import { compileVmcp, scratch, startEchoHttp, startVmcp, type BackendSpec } from './lib/targets.ts';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per coarse category (bundle JS, node:http, other node internals, syscalls, GC, idle). */
export function byCategory(profile: Profile): Record<string, number> {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const out: Record<string, number> = {};
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const name = f.functionName;
    const cat =
      name === '(idle)'
        ? 'idle'
        : name === '(garbage collector)'
          ? 'GC'
          : f.url.endsWith('.vmcp.mjs')
            ? 'vmcp bundle JS'
            : /_http|^node:http|^http/.test(f.url.replace(/^node:/, ''))
              ? 'node:http JS'
              : !f.url && name !== '(program)' && name !== '(root)'
                ? `native: ${name}`
                : 'other node JS / (program)';
    out[cat] = (out[cat] ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000;
  });
  for (const k of Object.keys(out)) out[k] = Number(out[k].toFixed(1));
  return out;
}

/** Busy self time per function (ms, % of non-idle time), biggest first; `source` (the bundle text) adds an excerpt per bundle function. */
export function topSelf(profile: Profile, n = 20, source?: string): Array<{ fn: string; ms: number; pct: number }> {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const f = byId.get(id)!.callFrame;
    const file = f.url ? f.url.replace(/^.*\//, '') : '';
    let key = `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}:${f.columnNumber + 1}` : ''}`;
    if (source && f.url.endsWith('.vmcp.mjs')) key += ` «${excerpt(source, f.lineNumber, f.columnNumber)}»`;
    if (f.functionName === '(idle)') return;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, ms]) => ({ fn, ms: Number(ms.toFixed(1)), pct: Number(((100 * ms) / total).toFixed(1)) }));
}

let split: { source: string; lines: string[] } | undefined;
/** The first 60 characters of the bundle at a 0-based line and column, on one line. */
function excerpt(source: string, line: number, column: number): string {
  if (split?.source !== source) split = { source, lines: source.split('\n') };
  return (split.lines[line] ?? '')
    .slice(column, column + 60)
    .replace(/\s+/g, ' ')
    .replace(/`/g, "'")
    .replace(/\|/g, '¦');
}

async function main(): Promise<void> {
  const calls = Number(process.env.PROFILE_CALLS ?? 5000);
  const cold = Number(process.env.PROFILE_COLD ?? 0);
  const tmp = scratch('profile');
  const profDir = process.env.PROFILE_DIR ?? join(tmp.dir, 'prof');
  try {
    const backends: BackendSpec[] = cold
      ? Array.from({ length: cold }, (_, i) => ({ name: `b${i}`, env: { ECHO_INIT_DELAY_MS: '200' } }))
      : process.env.PROFILE_HTTP
        ? [{ name: 'be', url: (await startEchoHttp()).url }]
        : [{ name: 'be' }];
    const { bundle } = await compileVmcp(backends, tmp.dir, 'bench', 180_000, process.env.PROFILE_CLI || VMCP_CLI);
    const interval = process.env.PROFILE_INTERVAL_US ?? '250';
    const gw = await startVmcp(bundle, ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', interval]);
    const client = await HttpClient.connect(gw.url);
    if (cold) {
      await listToolNames(client);
      console.log(`cold: listening → init+tools/list ${(performance.now() - gw.listenedAt).toFixed(1)} ms`);
      await new Promise((r) => setTimeout(r, 1500));
    } else {
      await warmUp(client, 'be_echo', 200);
      const t0 = performance.now();
      await timedCalls(client, 'be_echo', calls, new Deadline('profile', 300_000));
      console.log(`${calls} calls in ${(performance.now() - t0).toFixed(0)} ms`);
    }
    await client.close();
    await stop(gw.proc, 10_000);
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile in ${profDir}`);
    const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as Profile;
    const cats = Object.entries(byCategory(profile)).sort((a, b) => b[1] - a[1]);
    const busy = cats.filter(([k]) => k !== 'idle').reduce((sum, [, v]) => sum + v, 0);
    console.log(
      `busy ${busy.toFixed(0)} ms${cold ? '' : ` (${(busy / (calls + 200)).toFixed(3)} ms per call, warm-up included, start-up too)`}`,
    );
    console.log(`self time by category (ms): ${cats.map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const rows = topSelf(profile, Number(process.env.PROFILE_TOP ?? 20), readFileSync(bundle, 'utf8'));
    console.log('| self ms | % of busy | function (bundle location «source excerpt») |\n|---:|---:|---|');
    for (const r of rows) console.log(`| ${r.ms} | ${r.pct} | \`${r.fn}\` |`);
  } finally {
    await stopAll();
    if (!process.env.PROFILE_DIR) tmp.remove();
  }
}

await main();
