/**
 * CLI start-up: wall time and CPU time of short `vmcp` commands, against `node -e 0` measured in the
 * same run (the machines are shared and noisy, so every row is also given as a ratio to it), and
 * against the old way of running the CLI (its TypeScript sources through tsx).
 *
 * Run: `npx tsx bench/cli-startup.ts`. Env: CLI_RUNS (20) timed runs per command after 2 warm-ups,
 * CLI_DEADLINE_S (300) after which it stops and prints what it has, CLI_UNSET_ENV (none) a comma-separated
 * list of environment variables removed for the children (e.g. NODE_EXTRA_CA_CERTS, which makes every
 * node start read a CA bundle). Not a test: nothing is asserted.
 *
 * - build/cli is rebuilt first (`node scripts/build-cli.mjs`), so bin/vmcp.mjs finds it fresh.
 * - The commands run in rotation, one run of each per round, so that drift in machine load hits all
 *   of them alike. Every run is checked: exit status 0 and the expected output, or the row is ERR.
 * - Wall time is measured around the spawn (performance.now). CPU time is the child's user + sys as
 *   reported by GNU `/usr/bin/time -f '%U %S'` (wait4 rusage, printed with 10 ms resolution); every
 *   command runs under it, so its exec (about 1 ms) is in every row, the baseline included. Without
 *   /usr/bin/time the CPU columns are left empty.
 * - Every child is spawned with `process.execPath`: the Node that runs this script (see README).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { percentile } from './lib/measure.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const TIME = '/usr/bin/time';
const WARMUPS = 2;
const QUICKSTART = 'examples/quickstart/vmcp.yaml';
const unset = (process.env.CLI_UNSET_ENV ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !unset.includes(k)));

interface Command {
  label: string;
  args: string[];
  /** What a successful run prints on stdout. */
  expect: RegExp;
  goalMs?: number;
}

interface Samples {
  wall: number[];
  cpu: number[];
  error?: string;
}

/** One run: wall ms, CPU ms (user + sys, NaN when not measured), or an error. */
function runOnce(
  cmd: Command,
  timeFile: string | undefined,
  timeoutMs: number,
): { wall: number; cpu: number } | { error: string } {
  const [file, args] = timeFile ? [TIME, ['-f', '%U %S', '-o', timeFile, node, ...cmd.args]] : [node, cmd.args];
  const t0 = performance.now();
  const r = spawnSync(file, args, {
    cwd: root,
    env: childEnv,
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const wall = performance.now() - t0;
  if (r.error) return { error: String(r.error.message) };
  if (r.status !== 0) return { error: `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 300)}` };
  if (!cmd.expect.test(r.stdout)) return { error: `unexpected output: ${r.stdout.trim().slice(0, 300)}` };
  let cpu = NaN;
  if (timeFile) {
    // GNU time writes "Command exited with non-zero status N" first on failure; the figures are the last line.
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const m = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/.exec(last);
    if (!m) return { error: `unreadable ${TIME} output: ${JSON.stringify(last)}` };
    cpu = (Number(m[1]) + Number(m[2])) * 1000;
  }
  return { wall, cpu };
}

/** Whether /usr/bin/time is GNU time that understands -f and -o (busybox's does not). */
function timeWorks(timeFile: string): boolean {
  if (!existsSync(TIME)) return false;
  const r = spawnSync(TIME, ['-f', '%U %S', '-o', timeFile, node, '-e', '0'], {
    env: childEnv,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return (
    r.status === 0 &&
    existsSync(timeFile) &&
    /^\d+(\.\d+)? \d+(\.\d+)?$/.test(readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '')
  );
}

const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '');
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

async function main(): Promise<void> {
  const runs = Math.max(1, Number(process.env.CLI_RUNS ?? 20));
  const deadlineMs = Math.max(1, Number(process.env.CLI_DEADLINE_S ?? 300)) * 1000;
  const started = performance.now();
  const deadline = started + deadlineMs;
  const loadStart = load();

  // 1. A fresh build, so that bin/vmcp.mjs neither rebuilds nor falls back to tsx while timed.
  const built = spawnSync(node, ['scripts/build-cli.mjs'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (built.status !== 0)
    throw new Error(`node scripts/build-cli.mjs failed (${built.status ?? built.signal}): ${built.stderr}`);
  const mainJs = join(root, 'build', 'cli', 'main.js');
  const builtMtime = () => (existsSync(mainJs) ? statSync(mainJs).mtimeMs : NaN);
  let lastBuilt = builtMtime();
  let discarded = 0;

  // 2. The old way: the CLI's sources through tsx, from a temporary wrapper (deleted at the end).
  const tmp = mkdtempSync(join(tmpdir(), 'vmcp-cli-startup-'));
  const wrapper = join(tmp, 'tsx-main.mjs');
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const mainTs = pathToFileURL(join(root, 'compiler', 'cli', 'main.ts')).href;
  writeFileSync(
    wrapper,
    `import { register } from ${JSON.stringify(tsxApi)};\nregister();\nconst { main } = await import(${JSON.stringify(mainTs)});\nprocess.exitCode = await main(process.argv.slice(2));\n`,
  );

  const timeFile = join(tmp, 'time.txt');
  const cpuOk = timeWorks(timeFile);

  const bin = 'bin/vmcp.mjs';
  const commands: Command[] = [
    { label: '`node -e 0` (baseline)', args: ['-e', '0'], expect: /^$/ },
    { label: '`vmcp version`', args: [bin, 'version'], expect: /^vmcp \d/, goalMs: 150 },
    {
      label: `\`vmcp validate -c ${QUICKSTART}\``,
      args: [bin, 'validate', '-c', QUICKSTART],
      expect: /is valid/,
      goalMs: 300,
    },
    { label: '`vmcp --help`', args: [bin, '--help'], expect: /usage: vmcp/ },
    { label: '`version` through tsx (old way)', args: [wrapper, 'version'], expect: /^vmcp \d/ },
    {
      label: '`validate -c …` through tsx (old way)',
      args: [wrapper, 'validate', '-c', QUICKSTART],
      expect: /is valid/,
    },
  ];
  const samples: Samples[] = commands.map(() => ({ wall: [], cpu: [] }));

  // 3. Rounds: every command once per round, in rotating order; the first WARMUPS rounds are untimed.
  let rounds = 0;
  let stopped = '';
  try {
    outer: for (let round = 0; round < WARMUPS + runs; round++) {
      for (let k = 0; k < commands.length; k++) {
        const i = (k + round) % commands.length;
        const s = samples[i];
        if (s.error) continue;
        const left = deadline - performance.now();
        if (left <= 0) {
          stopped = `deadline of ${deadlineMs / 1000} s reached during round ${round + 1}`;
          break outer;
        }
        const r = runOnce(commands[i], cpuOk ? timeFile : undefined, Math.min(60_000, left));
        if ('error' in r) {
          s.error = r.error;
          continue;
        }
        // Someone edited a source meanwhile and this run rebuilt build/cli (or ran tsx while another
        // process rebuilt it): not a start-up figure, so it is dropped.
        const now = builtMtime();
        if (now !== lastBuilt) {
          lastBuilt = now;
          discarded++;
          continue;
        }
        if (round >= WARMUPS) {
          s.wall.push(r.wall);
          s.cpu.push(r.cpu);
        }
      }
      rounds = round + 1;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  // 4. The table.
  const base = samples[0];
  const baseWall = percentile(base.wall, 50);
  const baseCpu = percentile(base.cpu, 50);
  const lines = [
    `CLI start-up, ${new Date().toISOString().slice(0, 10)}: node ${process.version}, ${cpus().length} cores, ` +
      `${Math.max(0, rounds - WARMUPS)} timed rounds of ${runs} (after ${WARMUPS} warm-ups), ${((performance.now() - started) / 1000).toFixed(0)} s. ` +
      `Load average (1/5/15 min) ${loadStart} at the start, ${load()} at the end. ` +
      `NODE_EXTRA_CA_CERTS ${childEnv.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'}${unset.length ? ` (removed: ${unset.join(', ')})` : ''}.`,
    '',
    '| command | n | wall median ms | wall p90 ms | wall × `node -e 0` | CPU median ms | CPU p90 ms | CPU × `node -e 0` | goal (median wall) | |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  commands.forEach((c, i) => {
    const s = samples[i];
    const goal = c.goalMs ? `≤ ${c.goalMs} ms` : '';
    if (s.error) {
      lines.push(`| ${c.label} | ERR | | | | | | | ${goal} | ${c.goalMs ? 'missed' : ''} |`);
      return;
    }
    const wall = percentile(s.wall, 50);
    const cpu = percentile(s.cpu, 50);
    const ratio = (x: number, b: number) => (i === 0 ? '1.00' : fmt(x / b, 2));
    const met = !c.goalMs || !s.wall.length ? '' : wall <= c.goalMs ? 'met' : 'missed';
    lines.push(
      `| ${c.label} | ${s.wall.length} | ${fmt(wall)} | ${fmt(percentile(s.wall, 90))} | ${ratio(wall, baseWall)} | ` +
        `${fmt(cpu)} | ${fmt(percentile(s.cpu, 90))} | ${ratio(cpu, baseCpu)} | ${goal} | ${met} |`,
    );
  });
  const notes: string[] = [];
  if (!cpuOk) notes.push(`${TIME} (GNU time) is not available: CPU time not measured.`);
  if (stopped) notes.push(`Stopped early: ${stopped}.`);
  if (discarded)
    notes.push(
      `${discarded} run(s) dropped: build/cli changed during them (a source was edited and bin/vmcp.mjs rebuilt).`,
    );
  samples.forEach((s, i) => s.error && notes.push(`${commands[i].label}: ERR ${s.error}`));
  process.stdout.write(`${lines.join('\n')}\n${notes.length ? `\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
