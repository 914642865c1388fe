/** Renders the one results table (Markdown) from the results object. */
import type { BenchResults } from '../harness.ts';

type Cell = number | string | undefined;
interface Row {
  metric: string;
  direct?: Cell;
  baseline?: Cell;
  vmcp?: Cell;
  target?: string;
  /** vmcp's figure checked against the target. */
  ok?: boolean;
}

const ERR = 'ERR';
const num = (x: unknown, digits = 2): Cell =>
  typeof x === 'number' && Number.isFinite(x) ? Number(x.toFixed(digits)) : undefined;
/** A field of a per-target result, or ERR when that target failed. */
function pick(r: unknown, field: string, digits = 2): Cell {
  if (!r || typeof r !== 'object') return undefined;
  if ('error' in r) return ERR;
  return num((r as Record<string, unknown>)[field], digits);
}
const check = (v: Cell, ok: (x: number) => boolean) => (typeof v === 'number' ? ok(v) : undefined);

export function rows(r: BenchResults): Row[] {
  const out: Row[] = [];
  for (const [label, lat] of [
    ['HTTP', r.latencyHttp],
    ['stdio', r.latencyStdio],
  ] as const) {
    if (!lat) continue;
    out.push({
      metric: `1 call p50 ms, ${label} backend`,
      direct: pick(lat.direct, 'p50', 3),
      baseline: pick(lat.baseline, 'p50', 3),
      vmcp: pick(lat.vmcp, 'p50', 3),
    });
    out.push({
      metric: `1 call p99 ms, ${label} backend`,
      direct: pick(lat.direct, 'p99', 3),
      baseline: pick(lat.baseline, 'p99', 3),
      vmcp: pick(lat.vmcp, 'p99', 3),
    });
    const added = pick(lat.vmcp, 'addedP50', 3);
    out.push({
      metric: `1 added p50 ms, ${label} backend`,
      baseline: pick(lat.baseline, 'addedP50', 3),
      vmcp: added,
      ...(label === 'HTTP' ? { target: '≤ 0.3', ok: check(added, (x) => x <= 0.3) } : {}),
    });
    out.push({
      metric: `1 added p99 ms, ${label} backend`,
      baseline: pick(lat.baseline, 'addedP99', 3),
      vmcp: pick(lat.vmcp, 'addedP99', 3),
    });
  }
  for (const [label, lat] of [
    ['HTTP', r.latencyHttp],
    ['stdio', r.latencyStdio],
  ] as const) {
    if (!lat) continue;
    const v = pick(lat.vmcp, 'cpuMsPerCall', 3);
    out.push({
      metric: `2 gateway CPU ms/call, ${label} backend`,
      baseline: pick(lat.baseline, 'cpuMsPerCall', 3),
      vmcp: v,
      target: '≤ 0.12',
      ok: check(v, (x) => x <= 0.12),
    });
  }
  for (const [n, row] of Object.entries(r.cold ?? {})) {
    const v = pick(row.vmcp, 'readyAfterListenMs', 1);
    out.push({
      metric: `3 cold: listening → init+tools/list ms, ${n} backends`,
      baseline: pick(row.baseline, 'readyAfterListenMs', 1),
      vmcp: v,
      target: '≤ 5',
      ok: check(v, (x) => x <= 5),
    });
    out.push({
      metric: `3 cold: spawn → init+tools/list ms, ${n} backends`,
      baseline: pick(row.baseline, 'spawnToReadyMs', 1),
      vmcp: pick(row.vmcp, 'spawnToReadyMs', 1),
    });
  }
  if (r.catalog) {
    for (const [n, row] of Object.entries(r.catalog.byTools)) {
      out.push({
        metric: `4 tools/call p50 ms, ${n} tools`,
        direct: pick(row.direct, 'callP50', 3),
        baseline: pick(row.baseline, 'callP50', 3),
        vmcp: pick(row.vmcp, 'callP50', 3),
      });
      out.push({
        metric: `4 tools/list ms, ${n} tools`,
        direct: pick(row.direct, 'listMs', 2),
        baseline: pick(row.baseline, 'listMs', 2),
        vmcp: pick(row.vmcp, 'listMs', 2),
      });
    }
    const ratio = r.catalog.ratio;
    const sizes = Object.keys(r.catalog.byTools).map(Number);
    const span = `${Math.max(...sizes)} vs ${Math.min(...sizes)}`;
    const v = num(ratio.vmcp?.callP50, 3);
    out.push({
      metric: `4 call p50 ratio, ${span} tools`,
      direct: num(ratio.direct?.callP50, 3),
      baseline: num(ratio.baseline?.callP50, 3),
      vmcp: v,
      target: '≤ 1.05',
      ok: check(v, (x) => x <= 1.05),
    });
    out.push({
      metric: `4 list ratio, ${span} tools`,
      direct: num(ratio.direct?.listMs, 1),
      baseline: num(ratio.baseline?.listMs, 1),
      vmcp: num(ratio.vmcp?.listMs, 1),
    });
  }
  if (r.throughput) {
    const t = r.throughput;
    const v = pick(t.targets.vmcp, 'callsPerSec', 0);
    out.push({
      metric: `5 throughput calls/s, ${t.clients} clients`,
      baseline: pick(t.targets.baseline, 'callsPerSec', 0),
      vmcp: v,
    });
    out.push({
      metric: `5 throughput p99 ms, ${t.clients} clients`,
      baseline: pick(t.targets.baseline, 'p99', 2),
      vmcp: pick(t.targets.vmcp, 'p99', 2),
    });
    out.push({
      metric: `5 gateway CPU ms/call under load`,
      baseline: pick(t.targets.baseline, 'cpuMsPerCall', 3),
      vmcp: pick(t.targets.vmcp, 'cpuMsPerCall', 3),
    });
    const s = num(t.speedup, 2);
    out.push({ metric: '5 throughput vmcp ÷ baseline', vmcp: s, target: '≥ 2', ok: check(s, (x) => x >= 2) });
  }
  if (r.build) {
    const b = r.build.targets;
    const c = pick(b.vmcp, 'compileMs', 0);
    out.push({ metric: '6 compile ms, quickstart-like (2 echo backends)', vmcp: c });
    const kb =
      typeof b.vmcp === 'object' && b.vmcp && !('error' in b.vmcp) && b.vmcp.bundleBytes
        ? num(b.vmcp.bundleBytes / 1024, 0)
        : pick(b.vmcp, 'bundleBytes');
    out.push({ metric: '6 bundle KB', vmcp: kb, target: '≤ 1024', ok: check(kb, (x) => x <= 1024) });
    const st = pick(b.vmcp, 'startMs', 0);
    out.push({
      metric: '6 spawn → listening ms',
      baseline: pick(b.baseline, 'startMs', 0),
      vmcp: st,
      target: '≤ 150',
      ok: check(st, (x) => x <= 150),
    });
    const rss = pick(b.vmcp, 'idleRssMb', 1);
    out.push({
      metric: '6 idle RSS MB',
      baseline: pick(b.baseline, 'idleRssMb', 1),
      vmcp: rss,
      target: '≤ 70',
      ok: check(rss, (x) => x <= 70),
    });
    const scale = compileScaleMs(r.build.compileScale);
    out.push({
      metric: '6 compile ms, 100 backends × 50 tools from a lock (compile-scale.json)',
      vmcp: scale ?? 'n/a',
      target: '≤ 3000',
      ok: check(scale, (x) => x <= 3000),
    });
    const cs = r.build.compileScale as { bundleBytes?: unknown } | undefined;
    if (cs && typeof cs.bundleBytes === 'number')
      out.push({
        metric: '6 bundle KB, 100 backends × 50 tools (compile-scale.json)',
        vmcp: num(cs.bundleBytes / 1024, 0),
      });
  }
  return out;
}

/** The headline number of bench/compile-scale.json, whatever its exact shape. */
function compileScaleMs(j: unknown): number | undefined {
  if (!j || typeof j !== 'object') return undefined;
  const o = j as Record<string, unknown>;
  const c = o.compileMs as { median?: unknown } | undefined;
  if (c && typeof c === 'object' && typeof c.median === 'number') return c.median;
  for (const k of ['compileMs', 'medianMs', 'ms', 'wallMs', 'totalMs'])
    if (typeof o[k] === 'number') return num(o[k], 0) as number;
  for (const v of Object.values(o)) {
    const x = compileScaleMs(v);
    if (x !== undefined) return x;
  }
  return undefined;
}

export function renderTable(r: BenchResults): string {
  const fmt = (c: Cell) => (c === undefined ? '–' : String(c));
  const lines = [
    `Node ${r.meta.node}, ${r.meta.cores} cores (${r.meta.cpuModel}), load average at start ${r.meta.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}, commit ${r.meta.commit}, scale ${r.meta.options.scale}, ${r.meta.options.reps} reps (medians)`,
    '',
    '| metric | direct | baseline | vmcp | target | vmcp meets |',
    '|---|---:|---:|---:|---|---|',
  ];
  for (const row of rows(r)) {
    const ok = row.ok === undefined ? '' : row.ok ? 'yes' : '**no**';
    lines.push(
      `| ${row.metric} | ${fmt(row.direct)} | ${fmt(row.baseline)} | ${fmt(row.vmcp)} | ${row.target ?? ''} | ${ok} |`,
    );
  }
  if (r.peers) lines.push('', ...peersTable(r.peers));
  return lines.join('\n');
}

/** Scenario 7 as its own table: one row per target, ratios against vmcp. */
export function peersTable(p: NonNullable<BenchResults['peers']>): string[] {
  const lines = [
    '| 7 peers, one stdio backend | version | p50 ms | p99 ms | CPU ms/call | RSS MB | CPU ÷ vmcp | p50 ÷ vmcp |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [kind, t] of Object.entries(p)) {
    if (!t) continue;
    if ('error' in t) {
      lines.push(`| ${kind} | ERR: ${t.error.slice(0, 80)} | | | | | | |`);
      continue;
    }
    const f = (x: unknown) => (x === undefined ? '–' : String(x));
    lines.push(
      `| ${kind} | ${f(t.version)} | ${f(t.p50)} | ${f(t.p99)} | ${f(t.cpuMsPerCall)} | ${f(t.rssMb)} | ${f(t.cpuVsVmcp)} | ${f(t.p50VsVmcp)} |`,
    );
  }
  return lines;
}
