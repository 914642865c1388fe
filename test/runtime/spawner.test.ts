/**
 * Children started off the event loop's thread (runtime/transports/spawner.ts): spawn() runs on a
 * worker thread, and the child's stdio are socket pairs read and written on the main thread. Real
 * processes; the stdio transport's own tests (lifecycle, process groups, faults) run over it too.
 */
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Spawner, startChild, type Child } from '../../runtime/transports/spawner.ts';

const exited = (c: Child) =>
  new Promise<[number | null, NodeJS.Signals | null]>((r) => {
    if (c.exitCode !== null || c.signalCode !== null) r([c.exitCode, c.signalCode]);
    else c.once('exit', (code, signal) => r([code, signal]));
  });

const read = (s: NodeJS.ReadableStream) =>
  new Promise<string>((r) => {
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString()));
    s.on('end', () => r(out));
  });

describe('startChild', () => {
  it('spawns on a worker thread; stdin, stdout, stderr and the exit code work from this thread', async () => {
    const child = await startChild({
      command: process.execPath,
      args: [
        '-e',
        'process.stdin.pipe(process.stdout); process.stderr.write("to stderr"); process.stdin.on("end", () => process.exitCode = 3)',
      ],
      detached: true,
    });
    expect((child as unknown as { spawnedBy?: number }).spawnedBy).toBeGreaterThan(0);
    expect(child.pid).toBeGreaterThan(0);
    const out = read(child.stdout);
    const err = read(child.stderr);
    child.stdin.write('hello ');
    child.stdin.write('world');
    child.stdin.end(); // half-close: the child sees EOF on stdin and can still write
    expect(await out).toBe('hello world');
    expect(await err).toBe('to stderr');
    expect(await exited(child)).toEqual([3, null]);
  });

  it('a command that does not exist rejects with ENOENT', async () => {
    await expect(startChild({ command: 'vmcp-no-such-command', args: [], detached: true })).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('kill and env: the signal is reported, the env given is the env seen', async () => {
    const child = await startChild({
      command: process.execPath,
      args: ['-e', 'process.stdout.write(process.env.SPAWNER_PROBE ?? "unset"); setInterval(() => {}, 1000)'],
      env: { SPAWNER_PROBE: 'given' },
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    while (!out) await new Promise((r) => setTimeout(r, 10));
    expect(out).toBe('given');
    expect(child.kill('SIGTERM')).toBe(true);
    expect(await exited(child)).toEqual([null, 'SIGTERM']);
    expect(child.kill('SIGTERM')).toBe(false);
  });

  it('VMCP_SPAWN=inline spawns on this thread (and Windows always does)', async () => {
    const child = await startChild(
      { command: process.execPath, args: ['-e', 'process.stdout.write("inline")'], detached: false },
      undefined,
      { VMCP_SPAWN: 'inline' },
    );
    expect((child as unknown as { spawnedBy?: number }).spawnedBy).toBeUndefined();
    expect(await read(child.stdout)).toBe('inline');
    expect(await exited(child)).toEqual([0, null]);
  });

  it('many at once: every child gets its own streams', async () => {
    const children = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        startChild({ command: process.execPath, args: ['-e', `process.stdout.write("child ${i}")`], detached: true }),
      ),
    );
    expect(await Promise.all(children.map((c) => read(c.stdout)))).toEqual(
      Array.from({ length: 8 }, (_, i) => `child ${i}`),
    );
  });

  it("an owner's spawner runs its thread while it has children, and stops after the last exits", async () => {
    const spawner = new Spawner();
    expect(spawner.active).toBe(false);
    const spec = { command: process.execPath, args: ['-e', 'setTimeout(() => {}, 100)'], detached: true };
    const [a, b] = await Promise.all([
      startChild(spec, spawner),
      startChild({ ...spec, args: ['-e', 'process.stdin.resume()'] }, spawner),
    ]);
    expect(spawner.active).toBe(true);
    await exited(a);
    expect(spawner.active).toBe(true);
    b.stdin.end(); // b runs until its stdin ends
    await exited(b);
    expect(spawner.active).toBe(false);
    await expect(startChild({ command: 'vmcp-no-such-command', args: [], detached: true }, spawner)).rejects.toThrow();
    expect(spawner.active).toBe(false);
    const again = await startChild({ ...spec, args: ['-e', 'process.stdout.write("again")'] }, spawner);
    expect(await read(again.stdout)).toBe('again');
  });

  it.runIf(process.platform === 'linux')(
    'leaves nothing on disk (an abstract socket), and drops a connection with a wrong token or none',
    async () => {
      const leftovers = () => readdirSync(tmpdir()).filter((f) => f.startsWith('vmcp-spawn-')).length;
      const before = leftovers();
      const spawner = new Spawner(50);
      const child = await startChild(
        { command: process.execPath, args: ['-e', 'process.stdin.pipe(process.stdout)'], detached: true },
        spawner,
      );
      const path = (spawner as unknown as { running: { path: string } }).running.path;
      expect(path.startsWith('\0')).toBe(true);
      expect(leftovers()).toBe(before);
      // A stranger who finds the name: a wrong token is dropped at once, silence after the wait.
      const closed = (token?: string) =>
        new Promise<string>((resolve) => {
          let heard = '';
          const s = connect(path, () => token !== undefined && s.write(token));
          s.on('data', (c: Buffer) => (heard += c.toString()));
          s.on('error', () => {});
          s.on('close', () => resolve(heard));
        });
      expect(await closed('x'.repeat(32))).toBe('');
      expect(await closed()).toBe('');
      // The child's streams are untouched.
      const out = read(child.stdout);
      child.stdin.end('still here');
      expect(await out).toBe('still here');
      await exited(child);
      expect(spawner.active).toBe(false);
    },
  );
});
