/**
 * Profiles the vmcp hot path: compiles a one-backend (stdio echo) gateway, runs the bundle under
 * `node --cpu-prof`, drives PROFILE_CALLS sequential verified echo calls (plus PROFILE_CLIENTS
 * concurrent sessions when set), stops the gateway (the profile is written on exit), and prints
 * the top self-time functions. The .cpuprofile stays in a temp dir (PROFILE_DIR to keep it).
 *   npx tsx bench/profile.ts            # hot path
 *   PROFILE_HTTP=1 npx tsx bench/profile.ts    # hot path over a Streamable HTTP backend
 *   PROFILE_COLD=10 npx tsx bench/profile.ts   # cold start with 10 slow backends instead
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from './lib/mcp-client.ts';
import { Deadline, listToolNames, timedCalls, warmUp } from './lib/measure.ts';
import { stop, stopAll } from './lib/procs.ts';
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
    const cat = name === '(idle)' ? 'idle'
      : name === '(garbage collector)' ? 'GC'
      : f.url.endsWith('.vmcp.mjs') ? 'vmcp bundle JS'
      : /_http|^node:http|^http/.test(f.url.replace(/^node:/, '')) ? 'node:http JS'
      : !f.url && name !== '(program)' && name !== '(root)' ? `native: ${name}`
      : 'other node JS / (program)';
    out[cat] = (out[cat] ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000;
  });
  for (const k of Object.keys(out)) out[k] = Number(out[k].toFixed(1));
  return out;
}

/** Self time per function (ms and %), biggest first. */
export function topSelf(profile: Profile, n = 20): Array<{ fn: string; ms: number; pct: number }> {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const f = byId.get(id)!.callFrame;
    const file = f.url ? f.url.replace(/^.*\//, '') : '';
    const key = `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}:${f.columnNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, ms]) => ({ fn, ms: Number(ms.toFixed(1)), pct: Number(((100 * ms) / total).toFixed(1)) }));
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
    const { bundle } = await compileVmcp(backends, tmp.dir);
    const gw = await startVmcp(bundle, ['--cpu-prof', '--cpu-prof-dir', profDir]);
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
    console.log(`self time by category (ms): ${cats.map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const rows = topSelf(profile);
    console.log('| self ms | % | function (bundle location) |\n|---:|---:|---|');
    for (const r of rows) console.log(`| ${r.ms} | ${r.pct} | \`${r.fn}\` |`);
  } finally {
    await stopAll();
    if (!process.env.PROFILE_DIR) tmp.remove();
  }
}

await main();
