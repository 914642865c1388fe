/**
 * `npm run bench`: vmcp vs the baseline SDK proxy vs the direct backend, in one run.
 * Prints one table and writes bench/results.json (BENCH_OUT overrides the path).
 * Counts scale with BENCH_SCALE (e.g. 0.01 for a smoke run); see bench/lib/options.ts and README.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBench, targetErrors } from './harness.ts';
import { optionsFromEnv } from './lib/options.ts';
import { REPO, stopAll } from './lib/procs.ts';
import { renderTable } from './lib/table.ts';

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`\n${sig}: stopping every benchmark process…\n`);
    void stopAll().finally(() => process.exit(130));
  });
}

const opts = optionsFromEnv();
const log = (line: string) => process.stderr.write(`${line}\n`);
log(
  `vmcp bench: node ${process.version} (${process.execPath}), scale ${opts.scale}, reps ${opts.reps}, scenarios ${opts.only.join(',')}, targets ${opts.targets.join(',')}`,
);
const results = await runBench(opts, log);
const out = process.env.BENCH_OUT ?? join(REPO, 'bench/results.json');
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
process.stdout.write(`${renderTable(results)}\n`);
const errors = targetErrors(results);
if (errors.length) {
  process.stdout.write(`\nErrors (${errors.length}):\n${errors.map((e) => `- ${e.slice(0, 600)}`).join('\n')}\n`);
}
process.stdout.write(`\nwrote ${out}\n`);
await stopAll();
process.exitCode = errors.length ? 1 : 0;
