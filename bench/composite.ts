/**
 * Composite-tool benchmark: what a workflow costs the gateway beyond the calls it makes.
 * 1. In process: the workflow engine runs a 3-step sequential plan (compiled by the real compiler)
 *    over a host whose tool calls answer at once, against the same three calls made directly on
 *    that host. The difference per step is the engine's own cost (templates, context, scheduling).
 * 2. Through a bundle: `vmcp compile` of one echo fixture (stdio) with the same composite; a client
 *    calls the composite, and, as the baseline in the same run, makes the same three calls itself.
 *    Reports p50 latency of both, their ratio, and the gateway's CPU per step for both.
 *   npx tsx bench/composite.ts
 *   COMPOSITE_CALLS=200 npx tsx bench/composite.ts     # a quicker run
 * Goal (issue 14): at most 0.3 ms added per step.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { runWorkflow, type WorkflowHost } from '../runtime/composite/engine.ts';
import type { CompositePlan } from '../runtime/composite/plan.ts';
import type { CompiledGateway } from '../runtime/compiled-gateway.ts';
import type { CallContext } from '../runtime/call-context.ts';
import { HttpClient } from './lib/mcp-client.ts';
import { percentile, round } from './lib/measure.ts';
import { ECHO, VMCP_CLI, cpuMs, spawnNode, stop, stopAll } from './lib/procs.ts';
import { scratch, startVmcp } from './lib/targets.ts';

const CALLS = Math.max(20, Number(process.env.COMPOSITE_CALLS ?? 1000));
const INPROC = Math.max(1000, Number(process.env.COMPOSITE_INPROC ?? 20_000));
const GOAL_MS_PER_STEP = 0.3;
const STEPS = 3;

const CONFIG = {
  name: 'bench-composite',
  backends: [{ name: 'e', transport: 'stdio', command: process.execPath, args: [ECHO] }],
  aggregation: { conflictResolution: 'prefix', conflictResolutionConfig: { prefixFormat: '{workload}_' } },
  compositeTools: [
    {
      name: 'three_echoes',
      description: 'Three echoes in a row, each passing its text on',
      parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      steps: [
        { id: 's1', tool: 'e_echo', arguments: { text: '{{.params.text}}' } },
        { id: 's2', tool: 'e_echo', arguments: { text: '{{.steps.s1.output.text}}' }, dependsOn: ['s1'] },
        { id: 's3', tool: 'e_echo', arguments: { text: '{{.steps.s2.output.text}}' }, dependsOn: ['s2'] },
      ],
    },
  ],
};

/** Compiles the config with the CLI in `dir`; returns the bundle path. */
async function compileBundle(dir: string): Promise<string> {
  writeFileSync(join(dir, 'vmcp.yaml'), JSON.stringify(CONFIG, null, 2));
  const proc = spawnNode([VMCP_CLI, 'compile', '-c', 'vmcp.yaml', '-o', 'dist'], { cwd: dir });
  const code = await new Promise<number | null>((r) => proc.child.on('exit', r));
  if (code !== 0) throw new Error(`vmcp compile failed (${code}): ${proc.stderr().slice(-2000)}`);
  return join(dir, 'dist', `${CONFIG.name}.vmcp.mjs`);
}

/** The plan the compiler emitted, read back from the bundle itself (`--dump-gateway`). */
function planOf(bundle: string): CompositePlan {
  const out = execFileSync(process.execPath, [bundle, '--dump-gateway'], { encoding: 'utf8' });
  const plan = (JSON.parse(out) as CompiledGateway).composites?.[0];
  if (!plan) throw new Error('the bundle has no composite plan');
  return plan;
}

/** µs per step of the engine itself, and of the same calls made directly, over an instant host. */
async function inProcess(plan: CompositePlan) {
  const result = (text: unknown) => ({ content: [{ type: 'text', text }], structuredContent: { text } });
  const host: WorkflowHost = {
    callTool: async (_t, args) => result(args.text),
    timers: {
      after: (ms, fn) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      },
    },
    now: Date.now,
    newId: () => 'id',
    log: {
      debug() {},
      info() {},
      warn() {},
      error() {},
      child() {
        return this;
      },
    } as any,
  };
  const ctx: CallContext = { notify() {} };
  const direct = async () => {
    let t: unknown = 'hello';
    for (let i = 0; i < STEPS; i++)
      t = ((await host.callTool({} as any, { text: t }, ctx)) as any).structuredContent.text;
    return t;
  };
  const viaEngine = () => runWorkflow(plan, { text: 'hello' }, ctx, host);
  const check = (await viaEngine()) as any;
  if (check.isError || JSON.stringify(check).indexOf('hello') < 0)
    throw new Error(`engine result: ${JSON.stringify(check)}`);
  const time = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 500; i++) await fn();
    const t0 = performance.now();
    for (let i = 0; i < INPROC; i++) await fn();
    return ((performance.now() - t0) / INPROC) * 1000;
  };
  const directUs = await time(direct);
  const engineUs = await time(viaEngine);
  return {
    directUsPerCall: round(directUs, 2),
    engineUsPerCall: round(engineUs, 2),
    addedMsPerStep: round((engineUs - directUs) / STEPS / 1000, 4),
  };
}

async function throughBundle(bundle: string) {
  const gw = await startVmcp(bundle);
  try {
    const c = await HttpClient.connect(gw.url);
    const direct = async () => {
      let t = 'hello';
      for (let i = 0; i < STEPS; i++)
        t = (await c.call('tools/call', { name: 'e_echo', arguments: { text: t } })).structuredContent.text;
      if (t !== 'hello') throw new Error(`direct chain returned ${t}`);
    };
    const composite = async () => {
      const r = await c.call('tools/call', { name: 'three_echoes', arguments: { text: 'hello' } });
      if (r.isError || r.structuredContent?.text !== 'hello')
        throw new Error(`composite returned ${JSON.stringify(r)}`);
    };
    const measure = async (fn: () => Promise<void>) => {
      for (let i = 0; i < 50; i++) await fn();
      const lat: number[] = [];
      const cpu0 = cpuMs(gw.proc.pid);
      for (let i = 0; i < CALLS; i++) {
        const t0 = performance.now();
        await fn();
        lat.push(performance.now() - t0);
      }
      return { p50: percentile(lat, 50), cpuMsPerStep: (cpuMs(gw.proc.pid) - cpu0) / CALLS / STEPS };
    };
    // Alternate so drift on a noisy machine hits both sides alike.
    const a1 = await measure(direct);
    const b1 = await measure(composite);
    const a2 = await measure(direct);
    const b2 = await measure(composite);
    await c.close();
    const d = { p50: (a1.p50 + a2.p50) / 2, cpu: (a1.cpuMsPerStep + a2.cpuMsPerStep) / 2 };
    const k = { p50: (b1.p50 + b2.p50) / 2, cpu: (b1.cpuMsPerStep + b2.cpuMsPerStep) / 2 };
    return {
      directP50Ms: round(d.p50),
      compositeP50Ms: round(k.p50),
      latencyRatio: round(k.p50 / d.p50),
      directCpuMsPerStep: round(d.cpu, 4),
      compositeCpuMsPerStep: round(k.cpu, 4),
      cpuRatio: round(k.cpu / d.cpu),
    };
  } finally {
    await stop(gw.proc);
  }
}

const dir = scratch('vmcp-bench-composite');
try {
  const bundle = await compileBundle(dir.dir);
  const plan = planOf(bundle);
  const inproc = await inProcess(plan);
  const e2e = await throughBundle(bundle);
  const ok = inproc.addedMsPerStep <= GOAL_MS_PER_STEP;
  console.log(JSON.stringify({ calls: CALLS, inProcess: inproc, throughBundle: e2e }, null, 2));
  console.log(
    `engine: ${inproc.addedMsPerStep} ms added per step (goal ≤ ${GOAL_MS_PER_STEP}: ${ok ? 'met' : 'MISSED'}); ` +
      `through the bundle the composite takes ${e2e.latencyRatio}× the p50 of the three direct calls and ${e2e.cpuRatio}× the gateway CPU per step`,
  );
} finally {
  await stopAll();
  dir.remove();
}
