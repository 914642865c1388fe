/**
 * A/B of two vmcp builds in one run: the runtime of another checkout (AB_BEFORE, a directory with
 * bin/vmcp.mjs, e.g. `git archive <commit> | tar -x -C /tmp/before` plus a node_modules symlink)
 * against this one, over the same backend, with the direct backend as the reference. Scenarios 1
 * and 2 only (sequential echo calls: p50, p99, added latency, gateway CPU per call). Targets run
 * in a rotating order every repetition, so drift in machine load hits all three alike.
 *   AB_BEFORE=/tmp/before npx tsx bench/ab.ts
 * AB_REPS (5), AB_CALLS (2000), AB_WARMUP (300), AB_TRANSPORTS (http,stdio; also https), AB_OUT (JSON file),
 * AB_PAD_BYTES (0: each echoed text is that much longer; the answer carries it twice).
 * `https`: the HTTP echo fixture behind a TLS terminator (its own process) with a throwaway CA made
 * with openssl and trusted through NODE_EXTRA_CA_CERTS; "direct" is the fixture over plain HTTP.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient, type RpcClient } from './lib/mcp-client.ts';
import { Deadline, median, round, summarize, timedCalls, warmUp } from './lib/measure.ts';
import { makePki } from '../test/support/pki.ts';
import { cpuMs, spawnNode, stop, stopAll, waitForListening, type Spawned } from './lib/procs.ts';
import {
  compileVmcp,
  connectDirect,
  scratch,
  startEchoHttp,
  startVmcp,
  type BackendSpec,
  type Gateway,
} from './lib/targets.ts';

interface Target {
  name: 'direct' | 'before' | 'after';
  client: RpcClient;
  gw?: Gateway;
  tool: string;
  runs: Array<{ p50: number; p99: number; cpu?: number }>;
}

const before = process.env.AB_BEFORE;
if (!before) throw new Error('AB_BEFORE must name a checkout directory of the "before" build');
const reps = Number(process.env.AB_REPS ?? 5);
const calls = Number(process.env.AB_CALLS ?? 2000);
const warm = Number(process.env.AB_WARMUP ?? 300);
const pad = 'x'.repeat(Number(process.env.AB_PAD_BYTES ?? 0));
const transports = (process.env.AB_TRANSPORTS ?? 'http,stdio').split(',') as Transport[];
type Transport = 'http' | 'https' | 'stdio';

/** A TLS terminator in front of `target` (host:port), in its own process; resolves its https URL. */
async function tlsFront(target: URL, dir: string): Promise<{ proc: Spawned; url: string }> {
  const pki = makePki(dir);
  // Every process started from here on trusts the CA (compile's introspection and the gateways).
  process.env.NODE_EXTRA_CA_CERTS = pki.caPath;
  const script = `const tls=require('node:tls'),net=require('node:net'),fs=require('node:fs');
const s=tls.createServer({key:fs.readFileSync('server.key'),cert:fs.readFileSync('server.pem')},(c)=>{const u=net.connect(${target.port},'127.0.0.1');u.setNoDelay(true);c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());});
s.listen(0,'127.0.0.1',()=>process.stderr.write('listening '+s.address().port+'\\n'));`;
  const proc = spawnNode(['-e', script], { cwd: dir });
  const { port } = await waitForListening(proc, 10_000);
  return { proc, url: `https://127.0.0.1:${port}/mcp` };
}

async function run(transport: Transport): Promise<Record<string, unknown>> {
  const tmp = scratch(`ab-${transport}`);
  let backend: Spawned | undefined;
  let frontProc: Spawned | undefined;
  const targets: Target[] = [];
  try {
    let spec: BackendSpec = { name: 'be' };
    let directSpec: BackendSpec = spec;
    if (transport !== 'stdio') {
      const be = await startEchoHttp();
      backend = be.proc;
      spec = directSpec = { name: 'be', url: be.url };
      if (transport === 'https') {
        const front = await tlsFront(new URL(be.url), tmp.dir);
        frontProc = front.proc;
        spec = { name: 'be', url: front.url };
      }
    }
    const dirs = { before: join(tmp.dir, 'before'), after: join(tmp.dir, 'after') };
    for (const d of Object.values(dirs)) mkdirSync(d);
    const bundles = {
      before: (await compileVmcp([spec], dirs.before, 'bench', 180_000, join(before!, 'bin/vmcp.mjs'))).bundle,
      after: (await compileVmcp([spec], dirs.after)).bundle,
    };
    targets.push({ name: 'direct', client: await connectDirect(directSpec), tool: 'echo', runs: [] });
    for (const name of ['before', 'after'] as const) {
      const gw = await startVmcp(bundles[name]);
      targets.push({ name, gw, client: await HttpClient.connect(gw.url), tool: 'be_echo', runs: [] });
    }
    for (const t of targets) await warmUp(t.client, t.tool, warm);
    const deadline = new Deadline(`ab-${transport}`, 600_000);
    for (let rep = 0; rep < reps; rep++) {
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(rep + k) % targets.length];
        const pid = t.gw?.proc.pid;
        const cpu0 = pid ? cpuMs(pid) : 0;
        const s = summarize(await timedCalls(t.client, t.tool, calls, deadline, pad));
        t.runs.push({ p50: s.p50, p99: s.p99, ...(pid ? { cpu: (cpuMs(pid) - cpu0) / calls } : {}) });
      }
    }
    const out: Record<string, unknown> = {};
    const direct = targets[0];
    const m = (t: Target, k: 'p50' | 'p99' | 'cpu') => median(t.runs.map((r) => r[k]!));
    for (const t of targets) {
      out[t.name] = {
        p50: round(m(t, 'p50')),
        p99: round(m(t, 'p99')),
        ...(t.gw
          ? {
              cpuMsPerCall: round(m(t, 'cpu')),
              // Paired per repetition, then the median: the same load hit both.
              addedP50: round(median(t.runs.map((r, i) => r.p50 - direct.runs[i].p50))),
              addedP99: round(median(t.runs.map((r, i) => r.p99 - direct.runs[i].p99))),
            }
          : {}),
        runs: t.runs.map((r) => ({
          p50: round(r.p50),
          p99: round(r.p99),
          ...(r.cpu !== undefined ? { cpu: round(r.cpu) } : {}),
        })),
      };
    }
    return out;
  } finally {
    for (const t of targets) {
      await t.client.close().catch(() => {});
      if (t.gw) await stop(t.gw.proc);
    }
    if (frontProc) await stop(frontProc);
    if (backend) await stop(backend);
    tmp.remove();
  }
}

const results: Record<string, unknown> = { node: process.version, reps, calls, before };
for (const tr of transports) {
  process.stderr.write(`▶ ab ${tr}\n`);
  results[tr] = await run(tr);
}
await stopAll();
const row = (tr: string, k: string) => {
  const r = results[tr] as Record<string, any>;
  const f = (x: any) => (x === undefined ? '–' : String(x));
  return `| ${tr} ${k} | ${f(r.direct[k])} | ${f(r.before[k])} | ${f(r.after[k])} | ${r.before[k] ? round(r.after[k] / r.before[k], 2) : '–'} |`;
};
const lines = ['| metric (medians) | direct | before | after | after ÷ before |', '|---|---:|---:|---:|---:|'];
for (const tr of transports)
  for (const k of ['p50', 'p99', 'addedP50', 'addedP99', 'cpuMsPerCall']) lines.push(row(tr, k));
process.stdout.write(`${lines.join('\n')}\n`);
if (process.env.AB_OUT) writeFileSync(process.env.AB_OUT, JSON.stringify(results, null, 2) + '\n');
