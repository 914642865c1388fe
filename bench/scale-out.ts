/**
 * Scale-out (issue 17): calls/s and p99 through a real HAProxy (round robin) in front of 1 and of 3
 * vmcp replicas of one bundle sharing VMCP_SESSION_KEY, with the direct single replica (no balancer)
 * as the baseline of the same run. C concurrent 2025-era sessions share a fixed number of echo calls
 * over one stdio backend per replica. Load generator, balancer and replicas share the machine's
 * cores, so on a 2-core machine 3 replicas cannot beat 1: the run shows what the balancer and the
 * session restores cost, not cluster scaling.
 *   npx tsx bench/scale-out.ts
 *   SCALE_CALLS=2000 npx tsx bench/scale-out.ts    # a quicker run
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HttpClient } from './lib/mcp-client.ts';
import { checkEcho, percentile, round } from './lib/measure.ts';
import { ECHO, VMCP_CLI, spawnNode, stop, stopAll } from './lib/procs.ts';
import { scratch, startVmcp, type Gateway } from './lib/targets.ts';

const CALLS = Math.max(200, Number(process.env.SCALE_CALLS ?? 8000));
const CLIENTS = Math.max(1, Number(process.env.SCALE_CLIENTS ?? 16));
const REPS = Math.max(1, Number(process.env.SCALE_REPS ?? 3));
const DEADLINE_MS = Number(process.env.SCALE_DEADLINE_S ?? 300) * 1000;
const KEY = 'bench-scale-out-session-key-0123456789abcdef';

function haproxyPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim();
  } catch {
    console.error('haproxy is not installed (Debian package haproxy: apt-get install haproxy); nothing measured');
    process.exit(1);
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startBalancer(
  bin: string,
  dir: string,
  replicas: Gateway[],
): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const cfg = join(dir, `haproxy-${replicas.length}.cfg`);
  const servers = replicas.map((g, i) => `  server r${i} ${new URL(g.url).host} check inter 1s`).join('\n');
  writeFileSync(
    cfg,
    `global\n  maxconn 1024\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  retries 3\n  retry-on conn-failure\nfrontend f\n  bind 127.0.0.1:${port}\n  default_backend b\nbackend b\n  balance roundrobin\n  option httpchk GET /readyz\n${servers}\n`,
  );
  const proc = spawn(bin, ['-f', cfg, '-db'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/mcp`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(url.replace(/\/mcp$/, '/health')).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, proc };
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error('HAProxy did not start');
}

async function load(url: string): Promise<{ callsPerSec: number; p50: number; p99: number }> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => HttpClient.connect(url)));
  const per = Math.ceil(CALLS / CLIENTS);
  for (const c of clients)
    for (let i = 0; i < 20; i++)
      checkEcho(await c.call('tools/call', { name: 'e_echo', arguments: { text: 'w' } }), 'w', 'e_echo');
  const lat = new Float64Array(per * CLIENTS);
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, ci) => {
      for (let i = 0; i < per; i++) {
        if (performance.now() - started > DEADLINE_MS) throw new Error('deadline passed');
        const text = `c${ci}-${i}`;
        const s = performance.now();
        checkEcho(await c.call('tools/call', { name: 'e_echo', arguments: { text } }), text, 'e_echo');
        lat[ci * per + i] = performance.now() - s;
      }
    }),
  );
  const wall = performance.now() - t0;
  await Promise.all(clients.map((c) => c.close()));
  return { callsPerSec: (per * CLIENTS * 1000) / wall, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

const started = performance.now();
const bin = haproxyPath();
const dir = scratch('scale-out');
const open: Array<{ proc: ChildProcess }> = [];
try {
  mkdirSync(dir.dir, { recursive: true });
  writeFileSync(
    join(dir.dir, 'vmcp.yaml'),
    JSON.stringify({
      name: 'scale',
      backends: [{ name: 'e', transport: 'stdio', command: process.execPath, args: [ECHO] }],
    }),
  );
  const compile = spawnNode([VMCP_CLI, 'compile', '-c', 'vmcp.yaml', '-o', 'dist'], { cwd: dir.dir });
  if ((await new Promise((r) => compile.child.on('exit', r))) !== 0) throw new Error(compile.stderr());
  const bundle = join(dir.dir, 'dist', 'scale.vmcp.mjs');
  process.env.VMCP_SESSION_KEY = KEY; // spawnNode passes process.env on to the replicas
  const replicas = await Promise.all([0, 1, 2].map(() => startVmcp(bundle)));
  const one = await startBalancer(bin, dir.dir, replicas.slice(0, 1));
  const three = await startBalancer(bin, dir.dir, replicas);
  open.push(one, three);
  const targets = { direct: replicas[0].url, haproxy1: one.url, haproxy3: three.url };
  const runs: Record<string, Array<Awaited<ReturnType<typeof load>>>> = { direct: [], haproxy1: [], haproxy3: [] };
  for (let rep = 0; rep < REPS; rep++) for (const [k, url] of Object.entries(targets)) runs[k].push(await load(url));
  const med = (xs: number[]) => percentile(xs, 50);
  const summary = Object.fromEntries(
    Object.entries(runs).map(([k, rs]) => [
      k,
      {
        callsPerSec: round(med(rs.map((r) => r.callsPerSec)), 0),
        p50: round(med(rs.map((r) => r.p50))),
        p99: round(med(rs.map((r) => r.p99))),
      },
    ]),
  );
  console.log(JSON.stringify({ calls: CALLS, clients: CLIENTS, reps: REPS, ...summary }, null, 2));
  const d = summary.direct.callsPerSec;
  console.log(
    `calls/s: direct ${d}, HAProxy → 1 replica ${summary.haproxy1.callsPerSec} (${round(summary.haproxy1.callsPerSec / d)}×), ` +
      `HAProxy → 3 replicas ${summary.haproxy3.callsPerSec} (${round(summary.haproxy3.callsPerSec / d)}×); ` +
      `p99 ms: ${summary.direct.p99} / ${summary.haproxy1.p99} / ${summary.haproxy3.p99}`,
  );
  await Promise.all(replicas.map((g) => stop(g.proc)));
} finally {
  for (const o of open) o.proc.kill('SIGKILL');
  await stopAll();
  dir.remove();
}
