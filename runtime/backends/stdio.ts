/** stdio transport: spawns the backend as a child process and speaks newline-delimited JSON-RPC. */
import { spawn } from 'node:child_process';
import type { JsonRpcMessage, ResolvedBackend, TransportFactory, Wire, WireHooks } from '../plugins.ts';

const KILL_GRACE_MS = 2000;

/** Spawns `backend.command` with the merged environment; resolves once the process has spawned. */
export const stdioTransport: TransportFactory = (backend: ResolvedBackend, hooks: WireHooks): Promise<Wire> =>
  new Promise((resolve, reject) => {
    const child = spawn(backend.command ?? '', backend.args ?? [], {
      env: backend.resolvedEnv,
      cwd: backend.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let closed = false;
    let exited = false;
    let buffer = '';
    const stderrTail: string[] = [];
    const finish = (reason: string) => {
      if (closed) return;
      closed = true;
      hooks.onclose(reason);
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        if (line.length === 0 || line === '\r') continue;
        let msg: JsonRpcMessage;
        try {
          msg = JSON.parse(line);
        } catch {
          hooks.log.warn({ line: line.slice(0, 200) }, 'backend wrote a non-JSON line to stdout; ignored');
          continue;
        }
        if (msg !== null && typeof msg === 'object') hooks.onmessage(msg);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (!line) continue;
        stderrTail.push(line.slice(0, 300));
        if (stderrTail.length > 5) stderrTail.shift();
        hooks.log.debug({ stderr: line.slice(0, 1000) }, 'backend stderr');
      }
    });
    child.stdin.on('error', () => {}); // EPIPE after the child died is reported by 'exit'
    child.on('error', (err) => {
      if (!exited) {
        exited = true;
        reject(new Error(`cannot start "${backend.command}": ${err.message}`));
      }
      finish(`spawn failed: ${err.message}`);
    });
    child.on('exit', (code, signal) => {
      exited = true;
      const tail = stderrTail.length ? `; stderr: ${stderrTail.join(' | ')}` : '';
      finish(`process exited (${signal ? `signal ${signal}` : `code ${code}`})${tail}`);
    });
    child.on('spawn', () => {
      const wire: Wire = {
        pid: child.pid,
        send(data) {
          if (!closed) child.stdin.write(`${data}\n`);
        },
        close: () => new Promise<void>((done) => {
          if (exited) return done();
          child.once('exit', () => done());
          child.stdin.end();
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
          timer.unref();
          child.once('exit', () => clearTimeout(timer));
        }),
      };
      resolve(wire);
    });
  });
