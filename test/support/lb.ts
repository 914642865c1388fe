/**
 * Real infrastructure for the scale-out tests, on loopback: an HAProxy in front of gateway replicas
 * (round robin, health checks on /readyz) and a redis-server with no persistence. Both are the
 * Debian binaries (.ci/run installs them); callers get the paths from requireTool.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A running HAProxy. */
export interface Balancer {
  port: number;
  /** HAProxy's view of each server (`UP`, `DOWN`, …), from its CSV stats. */
  states(): Promise<string[]>;
  logs(): string;
  stop(): void;
}

/** Starts HAProxy on a free port, balancing over `ports` with `balance` (default roundrobin). */
export async function startBalancer(haproxy: string, ports: number[], balance = 'roundrobin'): Promise<Balancer> {
  const port = await freePort();
  const statsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    `global
  maxconn 512
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch
  retry-on conn-failure
frontend mcp
  bind 127.0.0.1:${port}
  default_backend replicas
frontend stats
  bind 127.0.0.1:${statsPort}
  stats enable
  stats uri /stats
backend replicas
  balance ${balance}
  option httpchk GET /readyz
  timeout check 2s
  default-server check inter 200 fall 3 rise 1
${ports.map((p, i) => `  server r${i} 127.0.0.1:${p}`).join('\n')}
`,
  );
  let log = '';
  const proc: ChildProcess = spawn(haproxy, ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (c) => (log += c));
  proc.stderr!.on('data', (c) => (log += c));
  return {
    port,
    async states() {
      const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text();
      return csv
        .split('\n')
        .filter((l) => l.startsWith('replicas,r'))
        .map((l) => l.split(',')[17]);
    },
    logs: () => log,
    stop() {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A running redis-server. */
export interface RedisServer {
  port: number;
  /** SIGKILL (an outage); `start` brings it back on the same port, empty. */
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** Starts redis-server on a free loopback port, in memory only, and waits until it accepts connections. */
export async function startRedis(redisServer: string, password?: string): Promise<RedisServer> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
      if (password) args.push('--requirepass', password);
      const p = spawn(redisServer, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      proc = p;
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 15_000);
      const onData = (c: Buffer) => {
        out += c.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      p.stdout!.on('data', onData);
      p.stderr!.on('data', onData);
      p.once('exit', (code) => {
        clearTimeout(timer);
        if (!out.includes('Ready to accept')) reject(new Error(`redis-server exited with ${code}:\n${out}`));
      });
    });
  await start();
  return {
    port,
    kill: () =>
      new Promise<void>((done) => {
        if (!proc || proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', () => done());
        proc.kill('SIGKILL');
      }),
    start,
  };
}
