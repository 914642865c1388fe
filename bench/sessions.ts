/**
 * Signed session ids (issue 17): the gateway's CPU per proxied call with VMCP_SESSION_KEY set against
 * the same bundle with in-memory sessions, measured alternately in one run over one stdio echo
 * backend and one 2025-era keep-alive session per run; plus, in process, what restoring a session on
 * a replica that never saw it costs (SessionKeys.open, once per session per replica).
 *   npx tsx bench/sessions.ts
 *   SESSIONS_CALLS=1000 npx tsx bench/sessions.ts     # a quicker run
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionKeys } from '../runtime/session-keys.ts';
import { HttpClient } from './lib/mcp-client.ts';
import { percentile, round } from './lib/measure.ts';
import { ECHO, VMCP_CLI, cpuMs, spawnNode, stop, stopAll } from './lib/procs.ts';
import { scratch, startVmcp } from './lib/targets.ts';

const CALLS = Math.max(100, Number(process.env.SESSIONS_CALLS ?? 4000));
const WARMUP = Math.max(0, Number(process.env.SESSIONS_WARMUP ?? 3000));
const REPS = Math.max(1, Number(process.env.SESSIONS_REPS ?? 3));
const GOAL = 1.05;
const KEY = 'bench-session-key-0123456789abcdef0123456789';

async function compile(root: string): Promise<string> {
  mkdirSync(root, { recursive: true });
  const cfg = {
    name: 'sessions',
    backends: [{ name: 'e', transport: 'stdio', command: process.execPath, args: [ECHO] }],
  };
  writeFileSync(join(root, 'vmcp.yaml'), JSON.stringify(cfg));
  const proc = spawnNode([VMCP_CLI, 'compile', '-c', 'vmcp.yaml', '-o', 'dist'], { cwd: root });
  const code = await new Promise<number | null>((r) => proc.child.on('exit', r));
  if (code !== 0) throw new Error(`vmcp compile failed (${code}): ${proc.stderr().slice(-2000)}`);
  return join(root, 'dist', 'sessions.vmcp.mjs');
}

async function measure(bundle: string, signed: boolean) {
  // spawnNode passes process.env on: the key is set only while the signed gateway starts.
  if (signed) process.env.VMCP_SESSION_KEY = KEY;
  const gw = await startVmcp(bundle);
  delete process.env.VMCP_SESSION_KEY;
  try {
    const c = await HttpClient.connect(gw.url);
    const call = async () => {
      const r = await c.call('tools/call', { name: 'e_echo', arguments: { text: 'hello' } });
      if (r.isError) throw new Error(`echo failed: ${JSON.stringify(r)}`);
    };
    for (let i = 0; i < WARMUP; i++) await call();
    const lat: number[] = [];
    const cpu0 = cpuMs(gw.proc.pid);
    for (let i = 0; i < CALLS; i++) {
      const t0 = performance.now();
      await call();
      lat.push(performance.now() - t0);
    }
    const cpu = (cpuMs(gw.proc.pid) - cpu0) / CALLS;
    await c.close();
    return { p50: percentile(lat, 50), cpu };
  } finally {
    await stop(gw.proc);
  }
}

/** µs per SessionKeys.open of a valid id (what a replica pays once to restore a session). */
function restoreMicros(): { issueUs: number; openUs: number; idBytes: number } {
  const keys = new SessionKeys([Buffer.alloc(32, 1)], 'sessions', 86_400_000);
  const state = {
    pk: 'https://idp.example.com user-1',
    caps: { elicitation: { form: {} }, roots: {} },
    pv: '2025-11-25',
  };
  const ids = Array.from({ length: 2000 }, () => keys.issue(state).id);
  for (const id of ids) keys.open(id);
  const n = 20_000;
  let t0 = performance.now();
  for (let i = 0; i < n; i++) keys.issue(state);
  const issueUs = ((performance.now() - t0) * 1000) / n;
  t0 = performance.now();
  for (let i = 0; i < n; i++) if (!keys.open(ids[i % ids.length])) throw new Error('id did not open');
  const openUs = ((performance.now() - t0) * 1000) / n;
  return { issueUs: round(issueUs, 2), openUs: round(openUs, 2), idBytes: ids[0].length };
}

const dir = scratch('sessions');
try {
  const bundle = await compile(dir.dir);
  const runs = { memory: [] as Array<{ p50: number; cpu: number }>, signed: [] as Array<{ p50: number; cpu: number }> };
  for (let rep = 0; rep < REPS; rep++) {
    // Alternate which side goes first, so drift hits both alike.
    const order: Array<'memory' | 'signed'> = rep % 2 ? ['signed', 'memory'] : ['memory', 'signed'];
    for (const k of order) runs[k].push(await measure(bundle, k === 'signed'));
  }
  const avg = (k: keyof typeof runs, f: 'p50' | 'cpu') => runs[k].reduce((s, r) => s + r[f], 0) / runs[k].length;
  const result = {
    calls: CALLS,
    warmup: WARMUP,
    reps: REPS,
    cpuMsPerCall: { memory: round(avg('memory', 'cpu'), 4), signed: round(avg('signed', 'cpu'), 4) },
    cpuRatio: round(avg('signed', 'cpu') / avg('memory', 'cpu')),
    p50Ms: { memory: round(avg('memory', 'p50')), signed: round(avg('signed', 'p50')) },
    restore: restoreMicros(),
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `signed sessions: ${result.cpuRatio}× the CPU per call of in-memory sessions (goal ≤ ${GOAL}: ${result.cpuRatio <= GOAL ? 'met' : 'MISSED'}); ` +
      `restoring a session on another replica costs ${result.restore.openUs} µs once; issuing an id ${result.restore.issueUs} µs; an id is ${result.restore.idBytes} bytes`,
  );
} finally {
  await stopAll();
  dir.remove();
}
