import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileFromDisk } from './compile.ts';
import { displayPath, reportDiagnostics, type CliIo } from './io.ts';
import type { Command } from './command.ts';
import { isLoopbackHost } from '../../runtime/server/dns-rebinding.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { ValidConfig } from '../config/validate.ts';

/** Options of `vmcp serve`. */
export interface ServeOptions {
  target: string;
  host?: string;
  port?: string;
  stdio: boolean;
  frozen: boolean;
  /** Recompile and reload on every change of a file the config reads (dev mode). */
  watch?: boolean;
  /** The runtime's log format; default: pretty when this terminal shows the logs, else JSON. */
  logFormat?: 'json' | 'pretty';
}

/** How to connect, printed once the gateway is listening (HTTP mode). */
export function connectHelp(name: string, url: string): string {
  const snippet = JSON.stringify({ mcpServers: { [name]: { type: 'http', url } } }, null, 2);
  return [
    `Connect a client to ${url}`,
    `  MCP Inspector:  npx @modelcontextprotocol/inspector --transport http --server-url ${url}`,
    `  Client config (Claude Code, Cursor, VS Code "servers"):`,
    ...snippet.split('\n').map((l) => `    ${l}`),
  ].join('\n');
}

/**
 * `vmcp serve <bundle.mjs | vmcp.yaml>`: runs a bundle, or compiles a config in memory first
 * (dev mode: live introspection, nothing written beside the config) and runs the result.
 */
export async function runServe(opts: ServeOptions, io: CliIo): Promise<number> {
  if (opts.watch) return (await import('./watch.ts')).runWatch(opts, io);
  let bundlePath = resolve(io.cwd, opts.target);
  let cleanup = () => {};
  let name = 'vmcp';
  if (!/\.m?js$/.test(opts.target)) {
    const { result } = await compileFromDisk(
      { config: opts.target, frozen: opts.frozen, allowMissing: false, concurrency: 4 },
      { ...io, out: io.err },
      !opts.stdio,
    );
    const diagnostics = [...result.diagnostics, ...exposureWarnings(result.value?.valid, opts)];
    reportDiagnostics(io, diagnostics, false);
    if (!result.value) return 1;
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-serve-'));
    name = result.value.gateway.name;
    bundlePath = join(dir, `${name}.vmcp.mjs`);
    writeFileSync(bundlePath, result.value.bundle.code);
    cleanup = () => rmSync(dir, { recursive: true, force: true });
    if (!opts.stdio) io.err(`✓ compiled ${displayPath(io.cwd, opts.target)} in memory (dev mode)`);
  }
  const code = await runtimeProcess(bundlePath, name, opts, io, false).exited;
  cleanup();
  return code;
}

/** A config without OIDC served beyond this machine: a warning that points at incomingAuth.type. */
export function exposureWarnings(v: ValidConfig | undefined, opts: ServeOptions): Diagnostic[] {
  if (!v || !opts.host || opts.stdio || isLoopbackHost(opts.host) || v.config.incomingAuth.type === 'oidc') return [];
  const at = v.parsed.locator.at(['incomingAuth', 'type']);
  return [
    {
      code: 'ANONYMOUS_NON_LOOPBACK',
      severity: 'warning',
      message: `${v.config.incomingAuth.type} incoming auth on ${opts.host}: every client that can reach the port can call every tool`,
      file: opts.target,
      line: at.line,
      column: at.column,
      hint: 'bind to 127.0.0.1, or set incomingAuth.type: oidc',
    },
  ];
}

/** A runtime child process: the bundle, serving as the flags say. */
export interface RuntimeProcess {
  child: ChildProcess;
  /** Resolves with the exit code (128 + signal number for a signal). */
  exited: Promise<number>;
  /** With devReload: resolves once the gateway listens and takes reloads (never, if it exits first). */
  ready: Promise<void>;
}

/**
 * Runs a bundle as a child process: its logs pass through (pretty on a terminal), the connect help
 * is printed once it listens, and SIGINT/SIGTERM are forwarded. `devReload` opens an IPC channel
 * that takes new builds (`vmcp serve --watch`).
 */
export function runtimeProcess(
  bundlePath: string,
  name: string,
  opts: ServeOptions,
  io: CliIo,
  devReload: boolean,
): RuntimeProcess {
  const args = [bundlePath];
  if (opts.stdio) args.push('--stdio');
  if (opts.host) args.push('--host', opts.host);
  if (opts.port) args.push('--port', opts.port);
  if (devReload) args.push('--dev-reload');
  // The runtime's stderr is a pipe to this process: it cannot see the terminal, so say it here.
  const format = opts.logFormat ?? (io.isTTY && !opts.stdio ? 'pretty' : undefined);
  if (format) args.push('--log-format', format);
  const stdio: StdioOptions = opts.stdio ? 'inherit' : ['ignore', 'inherit', 'pipe'];
  const child = spawn(process.execPath, args, {
    stdio: devReload && Array.isArray(stdio) ? [...stdio, 'ipc'] : stdio,
    env: process.env,
  });
  if (!opts.stdio) {
    // Pass the runtime's logs through; once it says where it listens, add how to connect.
    let printed = false;
    child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      const url = !printed && /(https?:\/\/[\w.[\]:-]+\/mcp)/.exec(chunk.toString())?.[1];
      if (url) {
        printed = true;
        io.err(connectHelp(name, url));
      }
    });
  }
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const exited = new Promise<number>((done) =>
    child.on('exit', (c, s) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      done(c ?? (s ? 128 + (s === 'SIGINT' ? 2 : 15) : 1));
    }),
  );
  const ready = devReload
    ? new Promise<void>((r) =>
        child.on('message', (m: unknown) => (m as { type?: string } | null)?.type === 'vmcp:listening' && r()),
      )
    : Promise.resolve();
  return { child, exited, ready };
}

/** `vmcp serve`: its flags, their checks, then the run. */
export const serveCommand: Command = {
  usage:
    'vmcp serve <bundle.mjs | vmcp.yaml> [--host 127.0.0.1] [--port 4483] [--log-format json|pretty] [--stdio] [--frozen] [--watch]',
  allowPositionals: true,
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    stdio: { type: 'boolean' },
    frozen: { type: 'boolean' },
    watch: { type: 'boolean' },
    'log-format': { type: 'string' },
  },
  run: (v, positionals, io) => {
    if (positionals.length !== 1) {
      io.err(
        'error: vmcp serve takes one bundle or config path\nusage: vmcp serve <bundle.mjs | vmcp.yaml> [--port 4483]',
      );
      return 2;
    }
    const logFormat = v['log-format'] as string | undefined;
    if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'pretty') {
      io.err(`error: --log-format must be json or pretty, not "${logFormat}"`);
      return 2;
    }
    if (v.watch && /\.m?js$/.test(positionals[0])) {
      io.err(
        `error: --watch recompiles a config, and ${positionals[0]} is a bundle (bundles never reload)\nnext: vmcp serve vmcp.yaml --watch`,
      );
      return 2;
    }
    if (v.watch && v.stdio) {
      io.err(
        'error: --watch serves over HTTP, not --stdio\nnext: vmcp serve vmcp.yaml --watch, and point the client at the printed URL',
      );
      return 2;
    }
    return runServe(
      {
        watch: Boolean(v.watch),
        ...(logFormat ? { logFormat: logFormat as 'json' | 'pretty' } : {}),
        target: positionals[0],
        host: v.host as string | undefined,
        port: v.port as string | undefined,
        stdio: Boolean(v.stdio),
        frozen: Boolean(v.frozen),
      },
      io,
    );
  },
};
