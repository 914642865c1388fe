/** Helpers for the groupRef tests: start a group fixture server, run the CLI in a temp folder. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../compiler/cli/main.ts';
import type { CliIo } from '../../../compiler/cli/io.ts';
import { ROOT } from '../compile-helpers.ts';

/** A fixture server (toolhive-api.mjs or kubernetes-api.mjs) and its base URL. */
export interface Fixture {
  url: string;
  stop: () => void;
}

/** Starts `test/fixtures/servers/<script>` on a description (JSON text), resolving once it listens. */
export function startFixture(script: string, description: unknown, dir: string): Promise<Fixture> {
  const file = join(dir, `${script}.json`);
  writeFileSync(file, JSON.stringify(description));
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'test/fixtures/servers', script), file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /listening (\d+)/.exec(err);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, stop: () => child.kill() });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}: ${err}`)));
  });
}

/** A temp folder with a vmcp.yaml; `run` calls the real CLI there with the given env. */
export function workspace(config: string) {
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-group-'));
  writeFileSync(join(dir, 'vmcp.yaml'), config);
  const run = async (args: string[], env: Record<string, string | undefined> = {}) => {
    const lines: string[] = [];
    const io: CliIo = { out: (t) => lines.push(t), err: (t) => lines.push(t), cwd: dir, env, isTTY: false };
    const code = await main(args, io);
    return { code, text: lines.join('\n') };
  };
  const read = (p: string) => readFileSync(join(dir, p), 'utf8');
  return { dir, run, read, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A local URL where nothing listens (a port taken and released again). */
export async function closedUrl(): Promise<string> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
