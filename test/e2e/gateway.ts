import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { main } from '../../compiler/cli/main.ts';

/** The repository root (configs in tests use paths relative to it). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Captured CLI output of one in-process run. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the vmcp CLI in-process with captured output, from `cwd`. */
export async function vmcp(
  args: string[],
  cwd = REPO,
  env: Record<string, string | undefined> = process.env,
): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (t) => (out += `${t}\n`),
    err: (t) => (err += `${t}\n`),
    cwd,
    env,
    isTTY: false,
  });
  return { code, out, err };
}

/** Temp dirs made by compileConfig, removed after the importing test file's tests. */
const tempDirs: string[] = [];

// Vitest evaluates this module once per test file, so this runs after that file's tests.
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes a config into a fresh temp dir and compiles it there; returns the bundle path. */
export async function compileConfig(
  name: string,
  yaml: string,
  extraArgs: string[] = [],
): Promise<{ dir: string; bundle: string; run: CliRun }> {
  const dir = mkdtempSync(join(tmpdir(), `vmcp-e2e-${name}-`));
  tempDirs.push(dir);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vmcp.yaml'), yaml);
  const run = await vmcp(['compile', '-c', join(dir, 'vmcp.yaml'), '-o', join(dir, 'dist'), ...extraArgs]);
  if (run.code !== 0) throw new Error(`compile failed (${run.code}):\n${run.err}`);
  const bundle = join(dir, 'dist', `${/^name:\s*(\S+)/m.exec(yaml)![1]}.vmcp.mjs`);
  return { dir, bundle, run };
}

/** A running bundle. */
export interface RunningBundle {
  url: string;
  proc: ChildProcess;
  logs: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Starts `node bundle --port 0` and waits for the URL it prints. */
export function startBundle(
  bundle: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
  cwd = REPO,
): Promise<RunningBundle> {
  const proc = spawn(process.execPath, [bundle, '--port', '0', ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`bundle did not report a URL within 20 s:\n${logs}`)), 20_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      logs += chunk.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(logs);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          proc,
          logs: () => logs,
          stop: (signal = 'SIGTERM') =>
            new Promise((done) => {
              // Already gone (an exit code, or killed by a signal such as SIGKILL): nothing to wait for.
              if (proc.exitCode !== null || proc.signalCode !== null) return done(proc.exitCode);
              proc.once('exit', (c) => done(c));
              proc.kill(signal);
            }),
        });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (c) => fail(new Error(`bundle exited with ${c} before listening:\n${logs}`)));
  });
}
