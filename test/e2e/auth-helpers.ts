/** Shared pieces of the auth end-to-end tests: fixture backends, compile with env, raw MCP POSTs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, vmcp } from './gateway.ts';

export const AUTH_BACKEND = join(REPO, 'test', 'fixtures', 'servers', 'auth-backend.mjs');

/** A running auth-backend fixture. */
export interface AuthBackend {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the auth-backend fixture over Streamable HTTP; `requirePrefix` makes it 401 other credentials. */
export function startAuthBackend(requirePrefix?: string, name = 'backend'): Promise<AuthBackend> {
  const env = { ...process.env, AUTH_NAME: name, ...(requirePrefix ? { AUTH_REQUIRE_PREFIX: requirePrefix } : {}) };
  const proc = spawn(process.execPath, [AUTH_BACKEND, '--http', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`auth backend did not listen:\n${err}`)), 15_000);
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening (\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: `http://127.0.0.1:${m[1]}/mcp`,
          proc,
          stop: () =>
            new Promise((done) => {
              if (proc.exitCode !== null) return done();
              proc.once('exit', () => done());
              proc.kill('SIGKILL');
            }),
        });
      }
    });
    proc.once('exit', (c) => reject(new Error(`auth backend exited with ${c}:\n${err}`)));
  });
}

/** Compiles `yaml` in a fresh temp dir with the given environment; returns paths and the CLI run. */
export async function compileWithEnv(
  name: string,
  yaml: string,
  env: Record<string, string | undefined>,
): Promise<{ dir: string; bundle: string; manifest: string; lock: string; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), `vmcp-auth-${name}-`));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vmcp.yaml'), yaml);
  const run = await vmcp(['compile', '-c', join(dir, 'vmcp.yaml'), '-o', join(dir, 'dist')], REPO, {
    ...process.env,
    ...env,
  });
  if (run.code !== 0) throw new Error(`compile failed (${run.code}):\n${run.err}${run.out}`);
  const gw = /^name:\s*(\S+)/m.exec(yaml)![1];
  return {
    dir,
    bundle: join(dir, 'dist', `${gw}.vmcp.mjs`),
    manifest: join(dir, 'dist', `${gw}.manifest.json`),
    lock: join(dir, 'vmcp.lock.json'),
    err: run.err + run.out,
  };
}

/** One raw JSON-RPC POST to /mcp, as a client would send it, with optional bearer token. */
export async function rawPost(
  url: string,
  body: unknown,
  opts: { token?: string; authorization?: string; session?: string } = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  else if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.session) headers['mcp-session-id'] = opts.session;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** An initialize request body (2025-11-25). */
export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
