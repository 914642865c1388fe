/**
 * `vmcp serve vmcp.yaml --watch` (issue 20): a real CLI process, real stdio backends and the real SDK
 * client over Streamable HTTP. While one client session stays open, the test adds a tool filter,
 * breaks the YAML, fixes it, and changes a backend in the imported mcpServers file. The session
 * survives every step, sees list_changed and the new list after each good edit, and the broken edit
 * changes nothing being served; a backend whose definition did not change keeps its process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { describeReload } from '../../compiler/cli/watch.ts';
import { ECHO, pidAlive, waitFor } from '../runtime/harness.ts';
import { REPO, vmcp } from './gateway.ts';

const CLI = join(REPO, 'bin', 'vmcp.mjs');
const dirs: string[] = [];
const procs: ChildProcess[] = [];

afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `vmcp serve vmcp.yaml --watch --port 0` in `dir`, with its stderr collected. */
function serveWatch(dir: string) {
  const proc = spawn(process.execPath, [CLI, 'serve', 'vmcp.yaml', '--watch', '--port', '0'], {
    cwd: dir,
    env: { ...process.env, VMCP_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(proc);
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  proc.stdout!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  return { proc, exited, stderr: () => err };
}

/** The URL the CLI prints once the gateway listens. */
async function listening(cli: ReturnType<typeof serveWatch>): Promise<string> {
  const url = await waitFor(
    () => /Connect a client to (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(cli.stderr())?.[1],
    60_000,
    'the gateway to listen',
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${cli.stderr()}`);
  });
  return url as string;
}

const node = JSON.stringify(process.execPath);
const echo = JSON.stringify(ECHO);

/** Lines of stderr that match, counted (each reload prints one line). */
const count = (text: string, re: RegExp) => (text.match(new RegExp(re, 'g')) ?? []).length;

describe('vmcp serve --watch', () => {
  it('a client session survives a filter, a broken edit, its fix and a changed imported backend', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-watch-e2e-'));
    dirs.push(dir);
    // Tools are exposed with the default prefix, `<backend>_<tool>`; filters name the originals.
    const base = `name: dev\nbackendsFrom: servers.json\nbackends:\n  - name: a\n    transport: stdio\n    command: ${node}\n    args: [${echo}]\n`;
    const filter = 'aggregation:\n  tools:\n    - workload: b\n      filter: [echo]\n';
    const servers = (suffix: string) =>
      JSON.stringify({
        mcpServers: {
          b: {
            command: process.execPath,
            args: [ECHO],
            env: { ECHO_NO_RESOURCES: '1', ECHO_DESCRIPTION_SUFFIX: suffix },
          },
        },
      });
    writeFileSync(join(dir, 'vmcp.yaml'), base);
    writeFileSync(join(dir, 'servers.json'), servers(''));
    const cli = serveWatch(dir);
    const url = await listening(cli);
    expect(cli.stderr()).toContain('watching 2 files');
    const statusUrl = url.replace(/\/mcp$/, '/status');
    const pids = async () => {
      const s = (await (await fetch(statusUrl)).json()) as { backends: Array<{ name: string; pid?: number }> };
      return Object.fromEntries(s.backends.map((b) => [b.name, b.pid]));
    };

    const client = new Client({ name: 'watch-e2e', version: '1.0.0' });
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changes++;
    });
    const transport = new StreamableHTTPClientTransport(new URL(url));
    await client.connect(transport);
    const session = transport.sessionId;
    expect(session).toBeTruthy();
    const names = async () => (await client.listTools()).tools.map((t) => t.name).sort();
    expect(await names()).toEqual(
      ['a_add', 'a_echo', 'a_fail', 'a_slow', 'b_add', 'b_echo', 'b_fail', 'b_slow'].sort(),
    );
    await waitFor(async () => Object.values(await pids()).every((p) => typeof p === 'number'), 30_000, 'both pids');
    const before = await pids();
    // The SDK opens its GET stream after initialize; list_changed arrives on it.
    await new Promise((r) => setTimeout(r, 300));

    // 1. A filter: the list shrinks, the client is told, both backends keep their processes.
    writeFileSync(join(dir, 'vmcp.yaml'), base + filter);
    // list_changed is sent before the gateway answers the serve process, which then prints its line.
    await waitFor(
      () => changes >= 1 && count(cli.stderr(), /✓ reloaded/) >= 1,
      30_000,
      `list_changed after the filter:\n${cli.stderr()}`,
    );
    expect(await names()).toEqual(['a_add', 'a_echo', 'a_fail', 'a_slow', 'b_echo']);
    expect(transport.sessionId).toBe(session);
    expect(cli.stderr()).toMatch(/✓ reloaded: tools changed \(clients notified\); kept a, b/);
    expect(await pids()).toEqual(before);

    // 2. A broken edit: diagnostics, and nothing served changes.
    writeFileSync(join(dir, 'vmcp.yaml'), `${base + filter}backends: [\n`);
    await waitFor(() => /still serving the last good build/.test(cli.stderr()), 30_000, 'the broken edit');
    expect(cli.stderr()).toMatch(/vmcp\.yaml:\d+:\d+ error\[/);
    expect(await names()).toEqual(['a_add', 'a_echo', 'a_fail', 'a_slow', 'b_echo']);
    const echoed = await client.callTool({ name: 'a_echo', arguments: { text: 'still here' } });
    expect(echoed.structuredContent).toEqual({ text: 'still here' });
    expect(changes).toBe(1);
    expect(count(cli.stderr(), /✓ reloaded/)).toBe(1);

    // 3. The fix restores the last good config: reloaded, lists unchanged, nobody notified.
    writeFileSync(join(dir, 'vmcp.yaml'), base + filter);
    await waitFor(() => count(cli.stderr(), /✓ reloaded/) === 2, 30_000, `the fix:\n${cli.stderr()}`);
    expect(cli.stderr()).toMatch(/✓ reloaded: lists unchanged; kept a, b/);
    expect(changes).toBe(1);

    // 4. The imported mcpServers file changes backend b: b restarts, a keeps its process.
    writeFileSync(join(dir, 'servers.json'), servers(' (v2)'));
    await waitFor(
      () => changes >= 2 && count(cli.stderr(), /✓ reloaded/) >= 3,
      60_000,
      `list_changed after servers.json:\n${cli.stderr()}`,
    );
    expect(cli.stderr()).toMatch(/✓ reloaded: tools changed \(clients notified\); kept a; restarted b/);
    const listed = (await client.listTools()).tools;
    expect(listed.find((t) => t.name === 'b_echo')?.description).toMatch(/\(v2\)$/);
    await waitFor(async () => typeof (await pids()).b === 'number', 30_000, 'b to restart');
    const after = await pids();
    expect(after.a).toBe(before.a);
    expect(after.b).not.toBe(before.b);
    await waitFor(() => !pidAlive(before.b!), 10_000, 'the replaced b to stop');
    const viaB = await client.callTool({ name: 'b_echo', arguments: { text: 'new b' } });
    expect(viaB.structuredContent).toEqual({ text: 'new b' });
    expect(transport.sessionId).toBe(session);

    await client.close();
    cli.proc.kill('SIGTERM');
    await cli.exited;
    expect(pidAlive(after.a!)).toBe(false);
    expect(pidAlive(after.b!)).toBe(false);
  }, 180_000);

  it('a config broken at start: waits for a fix, then serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-watch-e2e-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'vmcp.yaml'), 'name: late\nbackends:\n  - name: a\n    transprt: stdio\n');
    const cli = serveWatch(dir);
    await waitFor(() => /waiting for a fix/.test(cli.stderr()), 60_000, 'the first diagnostics');
    expect(cli.stderr()).toContain('transprt');
    writeFileSync(
      join(dir, 'vmcp.yaml'),
      `name: late\nbackends:\n  - name: a\n    transport: stdio\n    command: ${node}\n    args: [${echo}]\n`,
    );
    const url = await listening(cli);
    const client = new Client({ name: 'watch-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('a_echo');
    await client.close();
    cli.proc.kill('SIGINT');
    expect(await cli.exited).not.toBeNull();
  }, 120_000);

  it('--watch takes a config over HTTP: a bundle or --stdio is refused with the next step', async () => {
    const bundle = await vmcp(['serve', 'dist/x.vmcp.mjs', '--watch']);
    expect(bundle.code).toBe(2);
    expect(bundle.err).toContain('bundles never reload');
    expect(bundle.err).toContain('next: vmcp serve vmcp.yaml --watch');
    const stdio = await vmcp(['serve', 'vmcp.yaml', '--watch', '--stdio']);
    expect(stdio.code).toBe(2);
    expect(stdio.err).toContain('--watch serves over HTTP, not --stdio');
  });

  it('the reload line says what happened to each backend', () => {
    expect(
      describeReload({ type: 'vmcp:reloaded', kept: ['a'], started: ['b', 'c'], stopped: ['b', 'd'], changed: [] }),
    ).toBe('✓ reloaded: lists unchanged; kept a; restarted b; started c; stopped d');
    expect(
      describeReload({
        type: 'vmcp:reloaded',
        kept: [],
        started: [],
        stopped: [],
        changed: ['resources', 'resourceTemplates', 'tools'],
      }),
    ).toBe('✓ reloaded: resources, tools changed (clients notified)');
    expect(describeReload({ type: 'vmcp:reload-failed', message: 'env GH_TOKEN is not set' })).toBe(
      '✗ reload failed: env GH_TOKEN is not set; still serving the last good build',
    );
  });
});
