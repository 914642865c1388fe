/**
 * One-line start-up errors end with the next step (issue 20): a busy port names the flag to use,
 * and a backend whose command is not installed says what to install. Real processes: a compiled
 * bundle, a port held by another server, a command that does not exist.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listenError } from '../../runtime/index.ts';
import { startHint } from '../../runtime/transports/stdio.ts';
import { compileConfig, REPO, startBundle } from './gateway.ts';
import { join } from 'node:path';

const ECHO = join(REPO, 'test', 'fixtures', 'servers', 'echo-server.mjs');

describe('errors that say the next step', () => {
  it('a busy port: which flag to use; the process exits 1 with one line, no stack', async () => {
    const { bundle, dir } = await compileConfig(
      'busy',
      `name: busy\nbackends:\n  - name: e\n    transport: stdio\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(ECHO)}]\n`,
    );
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as { port: number }).port;
    try {
      const r = spawnSync(process.execPath, [bundle, '--port', String(port)], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`vmcp: error: port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toContain('--port 0');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      holder.close();
    }
  });

  it('listen errors by cause', () => {
    expect(listenError('10.9.9.9', 80, Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }))).toContain(
      '--host 127.0.0.1',
    );
    expect(listenError('0.0.0.0', 80, Object.assign(new Error('x'), { code: 'EACCES' }))).toContain('--port 4483');
  });

  it('a backend command that is not installed: what to install, in /status and the log', async () => {
    const { bundle, dir } = await compileConfig(
      'missing',
      `name: missing\nbackends:\n  - name: e\n    transport: stdio\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(ECHO)}]\n    required: false\n  - name: gone\n    transport: stdio\n    command: vmcp-no-such-command\n    required: false\n`,
      ['--allow-missing'],
    );
    const gw = await startBundle(bundle, [], process.env, dir);
    try {
      let status: { backends: Array<{ name: string; lastError?: string }> } | undefined;
      for (let i = 0; i < 50; i++) {
        status = (await (await fetch(gw.url.replace(/\/mcp$/, '/status'))).json()) as typeof status;
        if (status?.backends.find((b) => b.name === 'gone')?.lastError) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const err = status!.backends.find((b) => b.name === 'gone')!.lastError!;
      expect(err).toContain('"vmcp-no-such-command" is not installed or not on PATH');
      expect(err).toContain('give its full path');
    } finally {
      await gw.stop();
    }
    const e = Object.assign(new Error('spawn npx ENOENT'), { code: 'ENOENT' });
    expect(startHint('/usr/local/bin/npx', e)).toContain('npx comes with Node.js');
    expect(startHint('uvx', e)).toContain('pip install uv');
    expect(startHint('npx', Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('');
  });
});
