import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { compile, type CompileOutput } from '../compile.ts';
import type { Diagnostic } from '../diagnostics.ts';
import {
  introspectAll,
  type IntrospectProgress,
  type IntrospectResult,
  type IntrospectTarget,
} from '../resolve/introspect.ts';
import { compareStrings } from '../../runtime/canonical.ts';
import { lockPathFor } from '../resolve/lock-check.ts';
import { diagnosticsJson, displayPath, readText, reportDiagnostics, type CliIo } from './io.ts';
import type { Command } from './command.ts';
import { GROUP_FLAGS, GROUP_USAGE, groupOptionsFrom } from './group-flags.ts';
import { createGroupLookup } from '../resolve/lookup-group.ts';
import type { GroupOptions } from '../resolve/group-pin.ts';

/** Options of `vmcp compile`. */
export interface CompileOptions {
  config: string;
  outDir: string;
  frozen: boolean;
  check: boolean;
  allowMissing: boolean;
  json: boolean;
  concurrency: number;
  /** How groupRef is looked up (flags and env); read from the env alone when absent. */
  group?: GroupOptions;
}

/** The files a compile writes, relative to the working directory, with their bytes. */
export function outputFiles(out: CompileOutput, configPath: string, outDir: string): Array<[string, string]> {
  const name = out.gateway.name;
  return [
    [lockPathFor(configPath), out.lockText],
    [join(outDir, `${name}.vmcp.mjs`), out.bundle.code],
    [join(outDir, `${name}.vmcp.mjs.LEGAL.txt`), out.bundle.legal],
    [join(outDir, `${name}.manifest.json`), out.manifestText],
  ];
}

/**
 * What `vmcp serve --watch` keeps between compiles: every file a compile read (to watch them), and
 * introspection results by target (a backend whose definition did not change is not spawned again).
 */
export interface CompileMemo {
  /** Every file the last compile read (absolute path), with what it held (undefined: missing). */
  reads: Map<string, string | undefined>;
  introspected: Map<string, IntrospectResult>;
}

/** Compiles in memory with live introspection (unless frozen); shared by compile and serve. */
export async function compileFromDisk(
  opts: Pick<CompileOptions, 'config' | 'frozen' | 'allowMissing' | 'concurrency' | 'group'>,
  io: CliIo,
  progress: boolean,
  memo?: CompileMemo,
) {
  const file = displayPath(io.cwd, opts.config);
  const read = (p: string) => {
    const abs = resolve(io.cwd, p);
    const text = readText(abs);
    memo?.reads.set(abs, text);
    return text;
  };
  const text = read(opts.config);
  if (text === undefined) {
    const d: Diagnostic = {
      code: 'FILE_NOT_FOUND',
      severity: 'error',
      message: `cannot read config file ${file}`,
      file,
      line: 0,
      column: 0,
      hint: 'pass the path with -c',
    };
    return { file, result: { diagnostics: [d] } as { value?: CompileOutput; diagnostics: Diagnostic[] } };
  }
  const result = await compile({
    file,
    text,
    env: io.env,
    readFile: read,
    lockText: readText(resolve(io.cwd, lockPathFor(file))),
    frozen: opts.frozen,
    allowMissing: opts.allowMissing,
    groupOptions: opts.group ?? groupOptionsFrom({}, io.env).value,
    lookupGroup: createGroupLookup(io.env),
    introspect: async (all) => {
      const known = (t: IntrospectTarget) => memo?.introspected.get(JSON.stringify(t));
      const reused = all.map(known).filter((r): r is IntrospectResult => r !== undefined);
      const targets = all.filter((t) => !known(t));
      if (progress && targets.length)
        io.err(`discovering ${targets.length} backend${targets.length === 1 ? '' : 's'}…`);
      const fresh = await introspectAll(targets, {
        concurrency: opts.concurrency,
        onProgress: progress ? progressPrinter(io) : undefined,
      });
      // Kept in memory only (targets hold resolved secrets); a failed introspection is tried again.
      for (const t of targets) {
        const r = fresh.find((x) => x.name === t.name);
        if (r?.backend) memo?.introspected.set(JSON.stringify(t), r);
      }
      return [...fresh, ...reused].sort((a, b) => compareStrings(a.name, b.name));
    },
  });
  return { file, result };
}

function progressPrinter(io: CliIo): (e: IntrospectProgress) => void {
  return (e) => {
    if (e.phase === 'start') {
      if (io.isTTY) io.err(`  … ${e.name}`);
      return;
    }
    const c = e.counts;
    const what = c
      ? `${c.tools} tools, ${c.prompts} prompts, ${c.resources} resources, ${c.resourceTemplates} templates`
      : 'failed';
    io.err(`  ${e.phase === 'done' ? '✓' : '✗'} ${e.name}: ${what} (${e.ms ?? 0} ms)`);
  };
}

/** `vmcp compile`: resolve, introspect (or use the lock), generate, bundle, write. */
export async function runCompile(opts: CompileOptions, io: CliIo): Promise<number> {
  const started = Date.now();
  const { file, result } = await compileFromDisk(opts, io, !opts.json);
  if (opts.json) io.out(diagnosticsJson(result.diagnostics));
  else reportDiagnostics(io, result.diagnostics, false);
  if (!result.value) return 1;

  const files = outputFiles(result.value, file, opts.outDir);
  const stale = files.filter(([p, bytes]) => readText(resolve(io.cwd, p)) !== bytes).map(([p]) => p);
  if (opts.check) {
    if (stale.length) {
      io.err(
        `error[OUTPUT_STALE] ${stale.length} output file${stale.length === 1 ? ' is' : 's are'} stale: ${stale.join(', ')}\n  hint: run \`vmcp compile\` and commit the result`,
      );
      return 1;
    }
    if (!opts.json) io.err(`✓ outputs are up to date (${files.length} files)`);
    return 0;
  }
  for (const [p, bytes] of files) {
    if (!stale.includes(p)) continue;
    mkdirSync(dirname(resolve(io.cwd, p)), { recursive: true });
    writeFileSync(resolve(io.cwd, p), bytes);
  }
  if (!opts.json) {
    const m = result.value.manifest;
    io.err(
      `✓ compiled ${m.name}: ${m.counts.tools} tools, ${m.counts.prompts} prompts, ${m.counts.resources} resources, ${m.counts.resourceTemplates} templates ` +
        `from ${m.backends.length} backends in ${Date.now() - started} ms\n` +
        `  ${files.map(([p]) => `${p}${stale.includes(p) ? '' : ' (unchanged)'}`).join('\n  ')}\n` +
        `  bundle ${(m.bundle.bytes / 1024).toFixed(1)} KiB; run it with: node ${files[1][0]}`,
    );
  }
  return 0;
}

/** `vmcp compile`: its flags, their checks, then the run. */
export const compileCommand: Command = {
  usage: `vmcp compile [-c vmcp.yaml] [-o dist/] [--frozen] [--check] [--allow-missing] [--json] ${GROUP_USAGE}`,
  options: {
    config: { type: 'string', short: 'c' },
    out: { type: 'string', short: 'o' },
    frozen: { type: 'boolean' },
    check: { type: 'boolean' },
    'allow-missing': { type: 'boolean' },
    json: { type: 'boolean' },
    concurrency: { type: 'string' },
    ...GROUP_FLAGS,
  },
  run: (v, _p, io) => {
    const group = groupOptionsFrom(v, io.env);
    if (group.error) {
      io.err(`error: ${group.error}`);
      return 2;
    }
    return runCompile(
      {
        config: (v.config as string) ?? 'vmcp.yaml',
        outDir: (v.out as string) ?? 'dist',
        frozen: Boolean(v.frozen),
        check: Boolean(v.check),
        allowMissing: Boolean(v['allow-missing']),
        json: Boolean(v.json),
        concurrency: Math.max(1, Number(v.concurrency ?? 4) || 4),
        group: group.value,
      },
      io,
    );
  },
};
