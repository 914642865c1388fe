/**
 * Compile at scale: a generated config with 100 backends × 50 tools and a matching lock, compiled
 * from the lock (`--frozen`, no network). Prints the median compile time of 3 runs and the bundle
 * size, and writes them to bench/compile-scale.json. Run: `npx tsx bench/compile-scale.ts`
 * (SCALE_BACKENDS / SCALE_TOOLS override the shape). Not a test: nothing here is asserted.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compile, type CompileOutput } from '../compiler/compile.ts';
import { hashBackend, lockItem, serializeLock, type LockedBackend } from '../compiler/lock.ts';

/** A generated config and its lock, as text. */
export interface ScaleInput {
  text: string;
  lockText: string;
}

const pad = (n: number) => String(n).padStart(3, '0');

/** Generates `backends` stdio backends with `tools` tools each (plus one resource each), and the lock. */
export function generateScale(backends: number, tools: number): ScaleInput {
  const names = Array.from({ length: backends }, (_, i) => `server-${pad(i)}`);
  const lockBackends: Record<string, LockedBackend> = {};
  for (const name of names) {
    const defs = Array.from({ length: tools }, (_, t) => ({
      name: `tool_${pad(t)}`,
      description: `Tool ${t} of ${name}: does one thing and reports the result.`,
      inputSchema: {
        type: 'object',
        properties: { query: { type: 'string' }, limit: { type: 'number' } },
        required: ['query'],
      },
      annotations: { readOnlyHint: t % 2 === 0 },
    }));
    const b = {
      identity: { transport: 'stdio' as const, command: 'node', args: [`${name}.mjs`] },
      status: 'ok' as const,
      serverInfo: { name, version: '1.0.0' },
      protocolVersion: '2025-06-18',
      capabilities: { tools: { listChanged: true }, resources: {} },
      tools: Object.fromEntries(defs.map((d) => [d.name, lockItem(d)])),
      prompts: {},
      resources: { [`scale://${name}/status`]: lockItem({ uri: `scale://${name}/status`, name: 'status' }) },
      resourceTemplates: {},
    };
    lockBackends[name] = { ...b, hash: hashBackend(b) };
  }
  const text =
    `name: scale\nbackends:\n${names.map((n) => `  - name: ${n}\n    transport: stdio\n    command: node\n    args: ["${n}.mjs"]\n`).join('')}` +
    'aggregation:\n  conflictResolution: prefix\n  conflictResolutionConfig:\n    prefixFormat: "{workload}_"\n';
  return { text, lockText: serializeLock({ lockfileVersion: 1, backends: lockBackends }) };
}

/** One frozen compile of generated input; throws on any error diagnostic. */
export async function compileScale(input: ScaleInput): Promise<CompileOutput> {
  const out = await compile({
    file: 'vmcp.yaml',
    text: input.text,
    lockText: input.lockText,
    env: {},
    readFile: () => undefined,
    frozen: true,
    allowMissing: false,
    introspect: () => Promise.reject(new Error('a frozen compile must not introspect')),
  });
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  if (!out.value || errors.length)
    throw new Error(`scale compile failed: ${errors.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  return out.value;
}

async function main(): Promise<void> {
  const backends = Number(process.env.SCALE_BACKENDS ?? 100);
  const tools = Number(process.env.SCALE_TOOLS ?? 50);
  const input = generateScale(backends, tools);
  const times: number[] = [];
  let last: CompileOutput | undefined;
  for (let run = 0; run < 3; run++) {
    const started = process.hrtime.bigint();
    last = await compileScale(input);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const result = {
    node: process.version,
    shape: { backends, toolsPerBackend: tools },
    exposed: last!.manifest.counts,
    configBytes: Buffer.byteLength(input.text),
    lockBytes: Buffer.byteLength(input.lockText),
    routerBytes: Buffer.byteLength(last!.routerSource),
    bundleBytes: last!.manifest.bundle.bytes,
    compileMs: { median: Math.round(sorted[1]), runs: times.map((t) => Math.round(t)) },
  };
  const file = join(dirname(fileURLToPath(import.meta.url)), 'compile-scale.json');
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `compile-scale: ${backends} backends × ${tools} tools → ${result.exposed.tools} tools\n` +
      `  compile (frozen, median of 3): ${result.compileMs.median} ms  [${result.compileMs.runs.join(', ')}]\n` +
      `  bundle ${(result.bundleBytes / 1024).toFixed(1)} KiB, router module ${(result.routerBytes / 1024).toFixed(1)} KiB, lock ${(result.lockBytes / 1024).toFixed(1)} KiB\n` +
      `  wrote ${file}\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
