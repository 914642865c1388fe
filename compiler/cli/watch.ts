/**
 * `vmcp serve vmcp.yaml --watch` (dev mode): compiles in memory, serves the result, and recompiles
 * whenever a file the compile read changes (the config, an imported mcpServers file, a Cedar policy
 * file). A broken edit prints its diagnostics and changes nothing being served; a good one is sent
 * to the running gateway, which swaps it in behind the same port: sessions stay open, unchanged
 * backends keep running, and clients are sent list_changed. Release bundles never reload.
 */
import { watch, mkdtempSync, rmSync, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ReloadReply } from '../../runtime/dev-reload.ts';
import { compileFromDisk, type CompileMemo } from './compile.ts';
import { displayPath, readText, reportDiagnostics, type CliIo } from './io.ts';
import { exposureWarnings, runtimeProcess, type RuntimeProcess, type ServeOptions } from './serve.ts';

/** Edits closer together than this are compiled once (editors write a file in several steps). */
export const WATCH_DEBOUNCE_MS = 120;
/** How long the serve process waits for the gateway to answer a reload. */
const RELOAD_TIMEOUT_MS = 60_000;

/** Runs the watch loop until the gateway exits (or Ctrl-C before the first good build). */
export async function runWatch(opts: ServeOptions, io: CliIo): Promise<number> {
  const memo: CompileMemo = { reads: new Map(), introspected: new Map() };
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-watch-'));
  const shown = displayPath(io.cwd, opts.target);
  const watchers = new Map<string, FSWatcher>();
  let runtime: RuntimeProcess | undefined;
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let busy = false;
  let again = false;
  let stop: (code: number) => void = () => {};
  const stopped = new Promise<number>((r) => {
    stop = r;
  });

  /** Compiles; on success writes the bundle and returns its path. */
  const build = async (): Promise<{ path: string; name: string } | undefined> => {
    memo.reads.clear();
    const { result } = await compileFromDisk(
      { config: opts.target, frozen: opts.frozen, allowMissing: false, concurrency: 4 },
      { ...io, out: io.err },
      true,
      memo,
    );
    reportDiagnostics(io, [...result.diagnostics, ...exposureWarnings(result.value?.valid, opts)], false);
    watchReads();
    if (!result.value) return undefined;
    const name = result.value.gateway.name;
    const path = join(dir, `${name}.${++generation}.vmcp.mjs`);
    writeFileSync(path, result.value.bundle.code);
    return { path, name };
  };

  /** Watches the directory of every file the last compile read (editors often replace files). */
  const watchReads = () => {
    const dirs = new Set([...memo.reads.keys()].map((p) => dirname(p)));
    for (const [d, w] of watchers)
      if (!dirs.has(d)) {
        w.close();
        watchers.delete(d);
      }
    for (const d of dirs) {
      if (watchers.has(d)) continue;
      try {
        const w = watch(d, (_event, file) => {
          if (!file || memo.reads.has(join(d, file.toString()))) schedule();
        });
        w.on('error', () => {
          w.close();
          watchers.delete(d);
        });
        watchers.set(d, w);
      } catch {
        // A directory that does not exist (a path the config names by mistake) cannot be watched.
      }
    }
  };

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void rebuild(), WATCH_DEBOUNCE_MS);
  };

  /** Recompiles when a read file's bytes differ from what the last compile saw. */
  const rebuild = async () => {
    if (busy) {
      again = true;
      return;
    }
    const changed = [...memo.reads].filter(([p, text]) => readText(p) !== text).map(([p]) => p);
    if (!changed.length) return;
    busy = true;
    try {
      io.err(`↻ ${changed.map((p) => displayPath(io.cwd, p)).join(', ')} changed: recompiling`);
      const b = await build();
      if (!b) {
        io.err(
          runtime
            ? `✗ ${shown} has errors: still serving the last good build (fix and save to reload)`
            : `✗ ${shown} has errors: waiting for a fix`,
        );
      } else if (!runtime) start(b);
      else io.err(describeReload(await reload(runtime, b.path)));
    } finally {
      busy = false;
      if (again) {
        again = false;
        schedule();
      }
    }
  };

  const start = (b: { path: string; name: string }) => {
    io.err(
      `✓ compiled ${shown} in memory (dev mode; watching ${memo.reads.size} file${memo.reads.size === 1 ? '' : 's'})`,
    );
    runtime = runtimeProcess(b.path, b.name, opts, io, true);
    void runtime.exited.then(stop);
  };

  const first = await build();
  if (first) start(first);
  else {
    io.err(`✗ ${shown} has errors: waiting for a fix (Ctrl-C to stop)`);
    const quit = () => stop(130);
    process.once('SIGINT', quit);
    process.once('SIGTERM', quit);
    void stopped.then(() => {
      process.off('SIGINT', quit);
      process.off('SIGTERM', quit);
    });
  }
  const code = await stopped;
  clearTimeout(timer);
  for (const w of watchers.values()) w.close();
  runtime?.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  return code;
}

/** Sends one reload to the gateway and waits for its answer. */
function reload(runtime: RuntimeProcess, path: string): Promise<ReloadReply> {
  const { child } = runtime;
  return new Promise((resolve) => {
    const done = (reply: ReloadReply) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(reply);
    };
    const onMessage = (m: unknown) => {
      const t = (m as { type?: string } | null)?.type;
      if (t === 'vmcp:reloaded' || t === 'vmcp:reload-failed') done(m as ReloadReply);
    };
    const onExit = () => done({ type: 'vmcp:reload-failed', message: 'the gateway exited' });
    const timer = setTimeout(
      () => done({ type: 'vmcp:reload-failed', message: `no answer in ${RELOAD_TIMEOUT_MS / 1000} s` }),
      RELOAD_TIMEOUT_MS,
    );
    child.on('message', onMessage);
    child.once('exit', onExit);
    void runtime.ready.then(() => child.connected && child.send({ type: 'vmcp:reload', path }));
  });
}

/** One line on what a reload did, for the terminal. */
export function describeReload(r: ReloadReply): string {
  if (r.type === 'vmcp:reload-failed') return `✗ reload failed: ${r.message}; still serving the last good build`;
  const restarted = r.started.filter((n) => r.stopped.includes(n));
  const parts = [
    r.changed.length
      ? `${[...new Set(r.changed.map((k) => (k === 'resourceTemplates' ? 'resources' : k)))].join(', ')} changed (clients notified)`
      : 'lists unchanged',
  ];
  if (r.kept.length) parts.push(`kept ${r.kept.join(', ')}`);
  if (restarted.length) parts.push(`restarted ${restarted.join(', ')}`);
  const started = r.started.filter((n) => !restarted.includes(n));
  if (started.length) parts.push(`started ${started.join(', ')}`);
  const stoppedOnly = r.stopped.filter((n) => !restarted.includes(n));
  if (stoppedOnly.length) parts.push(`stopped ${stoppedOnly.join(', ')}`);
  return `✓ reloaded: ${parts.join('; ')}`;
}
