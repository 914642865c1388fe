/**
 * Scenario 7: the peers a user would pick instead, side by side over one stdio echo backend:
 * supergateway (stdio → Streamable HTTP, `--stateful`) and mcp-proxy (punkpeye), both pinned in
 * devDependencies, next to the baseline SDK proxy and vmcp. Each target serves Streamable HTTP on
 * 127.0.0.1; the same thin client makes sequential tools/call requests. Measured per target:
 * p50, p99, the gateway process's CPU per call (the backend child is not counted), and its RSS.
 * Targets run in a rotating order every repetition; ratios are against vmcp in the same run.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HttpClient } from '../lib/mcp-client.ts';
import { type Deadline, median, round, summarize, timedCalls, warmUp } from '../lib/measure.ts';
import type { BenchOptions } from '../lib/options.ts';
import { cpuMs, ECHO, REPO, rssMb, sleep, spawnNode, stop, type Spawned } from '../lib/procs.ts';
import { compileVmcp, scratch, startBaseline, startVmcp } from '../lib/targets.ts';
import { errorText, type TargetResult } from './latency.ts';

/** The peers, as their package.json pins them. */
export const PEERS = {
  supergateway: join(REPO, 'node_modules/supergateway/dist/index.js'),
  'mcp-proxy': join(REPO, 'node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs'),
} as const;

export type PeerKind = 'baseline' | 'supergateway' | 'mcp-proxy' | 'vmcp';

export interface PeerTarget {
  version?: string;
  p50: number;
  p99: number;
  cpuMsPerCall: number;
  rssMb: number;
  /** This target's CPU per call ÷ vmcp's (same run). */
  cpuVsVmcp?: number;
  /** This target's p50 ÷ vmcp's (same run). */
  p50VsVmcp?: number;
  runs: Array<{ p50: number; p99: number; cpu: number }>;
}
export type PeersResult = Partial<Record<PeerKind, TargetResult<PeerTarget>>>;

interface Running {
  kind: PeerKind;
  proc: Spawned;
  client: HttpClient;
  tool: string;
  version?: string;
  runs: PeerTarget['runs'];
  rss: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Connects (initialize + initialized), retrying until the target accepts or `ms` passes. */
async function connectWhenUp(url: string, proc: Spawned, ms: number): Promise<HttpClient> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      return await HttpClient.connect(url, 10_000);
    } catch (e) {
      if (proc.child.exitCode !== null)
        throw new Error(`exited (${proc.child.exitCode}): ${proc.stderr().slice(-1500)}`);
      if (performance.now() > deadline) throw new Error(`not serving after ${ms} ms: ${errorText(e)}`);
      await sleep(100);
    }
  }
}

async function startPeer(kind: 'supergateway' | 'mcp-proxy'): Promise<{ proc: Spawned; url: string }> {
  const port = await freePort();
  const args =
    kind === 'supergateway'
      ? [
          PEERS.supergateway,
          '--stdio',
          `${process.execPath} ${ECHO}`,
          '--outputTransport',
          'streamableHttp',
          '--stateful',
          '--port',
          String(port),
          '--logLevel',
          'none',
        ]
      : [PEERS['mcp-proxy'], '--host', '127.0.0.1', '--port', String(port), '--', process.execPath, ECHO];
  return { proc: spawnNode(args), url: `http://127.0.0.1:${port}/mcp` };
}

function versionOf(pkg: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return undefined;
  }
}

export async function peers(opts: BenchOptions, deadline: Deadline): Promise<PeersResult> {
  const out: PeersResult = {};
  const tmp = scratch('peers');
  const running: Running[] = [];
  try {
    const spec = { name: 'be' };
    const kinds: PeerKind[] = ['baseline', 'supergateway', 'mcp-proxy', 'vmcp'];
    for (const kind of kinds) {
      try {
        let proc: Spawned;
        let url: string;
        if (kind === 'vmcp') {
          const gw = await startVmcp((await compileVmcp([spec], tmp.dir)).bundle);
          ({ proc, url } = gw);
        } else if (kind === 'baseline') {
          const gw = await startBaseline([spec], tmp.dir);
          ({ proc, url } = gw);
        } else ({ proc, url } = await startPeer(kind));
        const client = await connectWhenUp(url, proc, 30_000);
        const tool = kind === 'vmcp' || kind === 'baseline' ? 'be_echo' : 'echo';
        await warmUp(client, tool, opts.warmup);
        running.push({
          kind,
          proc,
          client,
          tool,
          runs: [],
          rss: rssMb(proc.pid), // after the warm-up calls: what one client's session holds
          ...(kind in PEERS ? { version: versionOf(kind) } : {}),
        });
      } catch (e) {
        out[kind] = { error: errorText(e) };
      }
      deadline.check();
    }
    for (let rep = 0; rep < opts.reps; rep++) {
      for (let k = 0; k < running.length; k++) {
        const t = running[(rep + k) % running.length];
        const cpu0 = cpuMs(t.proc.pid);
        const s = summarize(await timedCalls(t.client, t.tool, opts.calls, deadline));
        t.runs.push({ p50: s.p50, p99: s.p99, cpu: (cpuMs(t.proc.pid) - cpu0) / opts.calls });
      }
    }
    const m = (t: Running, k: 'p50' | 'p99' | 'cpu') => median(t.runs.map((r) => r[k]));
    const vmcp = running.find((t) => t.kind === 'vmcp');
    for (const t of running) {
      out[t.kind] = {
        ...(t.version ? { version: t.version } : {}),
        p50: round(m(t, 'p50')),
        p99: round(m(t, 'p99')),
        cpuMsPerCall: round(m(t, 'cpu')),
        rssMb: round(t.rss, 1),
        ...(vmcp && t !== vmcp
          ? { cpuVsVmcp: round(m(t, 'cpu') / m(vmcp, 'cpu'), 2), p50VsVmcp: round(m(t, 'p50') / m(vmcp, 'p50'), 2) }
          : {}),
        runs: t.runs.map((r) => ({ p50: round(r.p50), p99: round(r.p99), cpu: round(r.cpu) })),
      };
    }
    return out;
  } finally {
    for (const t of running) {
      await t.client.close().catch(() => {});
      await stop(t.proc);
    }
    tmp.remove();
  }
}
