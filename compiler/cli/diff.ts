import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { diffSurfaces } from '../diff/diff.ts';
import { exitCodeFor, formatReport, type DiffFormat, type FailOn } from '../diff/format.ts';
import { loadSide, type SideReader } from '../diff/load-side.ts';
import { readText, reportDiagnostics, type CliIo } from './io.ts';
import type { Command } from './command.ts';

/** Options of `vmcp diff`. */
export interface DiffOptions {
  old: string;
  new: string;
  format: DiffFormat;
  failOn: FailOn;
}

const FORMATS: DiffFormat[] = ['text', 'markdown', 'json'];
const GATES: FailOn[] = ['breaking', 'risky', 'none'];
const DUMP_TIMEOUT_MS = 15_000;

/** Reads sides from disk, from git, and runs bundles with `--dump-gateway`. */
export function diskReader(io: CliIo): SideReader {
  return {
    env: io.env,
    readFile: (p) => readText(resolve(io.cwd, p)),
    gitShow: (ref, p) => {
      const rel = isAbsolute(p) ? relative(io.cwd, p) : p;
      const r = spawnSync('git', ['show', `${ref}:./${rel.split('\\').join('/')}`], {
        cwd: io.cwd,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      return r.status === 0 ? r.stdout : undefined;
    },
    dumpGateway: async (bundleText) => {
      // A copy in a private folder: the same path for a file on disk and a file read from git.
      const dir = mkdtempSync(join(tmpdir(), 'vmcp-diff-'));
      try {
        const file = join(dir, 'bundle.mjs');
        writeFileSync(file, bundleText);
        const r = spawnSync(process.execPath, [file, '--dump-gateway'], {
          cwd: dir,
          encoding: 'utf8',
          timeout: DUMP_TIMEOUT_MS,
          maxBuffer: 64 * 1024 * 1024,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        if (r.status !== 0)
          return { error: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0] };
        return { json: r.stdout };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** `vmcp diff`: 0 when no change reaches the gate, 1 when one does, 2 when a side cannot be read. */
export async function runDiff(opts: DiffOptions, io: CliIo, reader: SideReader = diskReader(io)): Promise<number> {
  const sides = [];
  for (const spec of [opts.old, opts.new]) {
    const side = await loadSide(spec, reader);
    if (!side.surface) {
      if (side.error) io.err(`error[DIFF_SIDE] ${side.error}`);
      if (side.diagnostics.length) {
        io.err(`error[DIFF_SIDE] cannot resolve ${spec}:`);
        reportDiagnostics(io, side.diagnostics, false);
      }
      return 2;
    }
    sides.push(side.surface);
  }
  const report = diffSurfaces(sides[0], sides[1]);
  io.out(formatReport(report, opts.format, opts.format === 'text' && io.isTTY));
  return exitCodeFor(report, opts.failOn);
}

/** `vmcp diff`: its flags, their checks, then the run. */
export const diffCommand: Command = {
  usage: 'vmcp diff <old> <new> [--format text|markdown|json] [--fail-on breaking|risky]',
  options: { format: { type: 'string' }, 'fail-on': { type: 'string' } },
  allowPositionals: true,
  run: (v, positionals, io) => {
    const format = (v.format as DiffFormat | undefined) ?? 'text';
    const failOn = (v['fail-on'] as FailOn | undefined) ?? 'none';
    const usage = 'usage: vmcp diff <old> <new> [--format text|markdown|json] [--fail-on breaking|risky]';
    if (positionals.length !== 2) {
      io.err(`error: vmcp diff takes two sides, got ${positionals.length}\n${usage}`);
      return 2;
    }
    if (!FORMATS.includes(format)) {
      io.err(`error: unknown --format "${format}" (expected ${FORMATS.join(', ')})\n${usage}`);
      return 2;
    }
    if (!GATES.includes(failOn)) {
      io.err(`error: unknown --fail-on "${failOn}" (expected breaking or risky)\n${usage}`);
      return 2;
    }
    return runDiff({ old: positionals[0], new: positionals[1], format, failOn }, io);
  },
};
