import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashBackend, lockItem, serializeLock, type LockedBackend } from '../../compiler/lock.ts';
import { introspectAll, introspectBackend, type IntrospectTarget } from '../../compiler/resolve/introspect.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ECHO = join(ROOT, 'test/fixtures/servers/echo-server.mjs');
const FAULT = join(ROOT, 'test/fixtures/servers/fault-server.mjs');
const MEMORY = join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
const NODE = process.execPath;
const SECRET = 's3cr3t-value';

function stdio(name: string, file: string, env: Record<string, string> = {}, timeoutMs = 15_000): IntrospectTarget {
  const args = [file];
  return {
    name,
    identity: { transport: 'stdio', command: 'node', args },
    transport: 'stdio',
    command: NODE,
    args,
    env,
    timeoutMs,
  };
}

function http(
  name: string,
  transport: 'sse' | 'streamable-http',
  url: string,
  headers?: Record<string, string>,
): IntrospectTarget {
  return { name, identity: { transport, url }, transport, url, headers, timeoutMs: 15_000 };
}

/** Starts the echo fixture in an HTTP mode and resolves with its port once it prints `listening`. */
function startHttpEcho(flag: '--http' | '--sse', servers: ChildProcess[]): Promise<number> {
  const child = spawn(NODE, [ECHO, flag, '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  servers.push(child);
  return new Promise((ok, fail) => {
    let err = '';
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /listening (\d+)/.exec(err);
      if (m) ok(Number(m[1]));
    });
    child.once('exit', (code) => fail(new Error(`echo ${flag} exited with ${code}: ${err}`)));
  });
}

/** Pids whose parent is this test process, read from /proc (`ps` may not be installed). */
function childPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // Field 4 of /proc/<pid>/stat is the ppid; the command name (field 2) may hold spaces.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
        return ppid === process.pid && state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

function onlyBackend(r: { backend?: LockedBackend; diagnostics: unknown[] }): LockedBackend {
  expect(r.diagnostics).toEqual([]);
  expect(r.backend).toBeDefined();
  return r.backend!;
}

function itemHashes(b: LockedBackend) {
  const pick = (m: Record<string, { hash: string }>) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.hash]));
  return {
    tools: pick(b.tools),
    prompts: pick(b.prompts),
    resources: pick(b.resources),
    resourceTemplates: pick(b.resourceTemplates),
  };
}

const httpServers: ChildProcess[] = [];
let stdioEcho: LockedBackend;

/** Live children of this process other than the HTTP fixture servers: introspected servers left running. */
function strayChildren(): number[] {
  const servers = new Set(httpServers.map((s) => s.pid));
  return childPids().filter((p) => !servers.has(p));
}

beforeAll(async () => {
  stdioEcho = onlyBackend(await introspectBackend(stdio('echo', ECHO, { API_KEY: SECRET })));
});

afterAll(() => {
  for (const s of httpServers) s.kill('SIGKILL');
});

describe('introspectBackend over stdio', () => {
  it('pins server info, protocol version, capabilities, instructions and every item', () => {
    const b = stdioEcho;
    expect(b.status).toBe('ok');
    expect(b.identity).toEqual({ transport: 'stdio', command: 'node', args: [ECHO] });
    expect(b.serverInfo).toEqual({ name: 'echo-fixture', version: '1.0.0' });
    expect(b.protocolVersion).toBe('2025-11-25');
    expect(b.capabilities).toEqual({ tools: {}, prompts: {}, resources: {}, completions: {} });
    expect(b.instructions).toBe('Echo fixture for vmcp tests.');
    expect(Object.keys(b.tools)).toEqual(['echo', 'add', 'slow', 'fail']);
    expect(b.tools.echo.def.inputSchema).toEqual({
      type: 'object',
      properties: { text: { type: 'string', description: 'Text to echo' } },
      required: ['text'],
    });
    expect(b.tools.echo.def.annotations).toEqual({ readOnlyHint: true });
    expect(Object.keys(b.prompts)).toEqual(['greet']);
    expect(b.prompts.greet.def.arguments).toEqual([{ name: 'name', description: 'Who to greet', required: true }]);
    expect(b.resources['fixture://hello'].def).toMatchObject({ name: 'hello', mimeType: 'text/plain' });
    expect(b.resourceTemplates['fixture://items/{id}'].def).toMatchObject({ name: 'item' });
  });

  it('keeps fields the SDK schemas would strip, and hashes items and the backend', () => {
    const b = stdioEcho;
    expect(b.tools.fail.def['x-fixture']).toEqual({ unknownField: true });
    expect(b.tools.fail.hash).toBe(lockItem(b.tools.fail.def).hash);
    const { hash, ...rest } = b;
    expect(hash).toBe(hashBackend(rest));
    expect(hash).toMatch(/^sha256-[0-9a-f]{64}$/);
  });

  it('gives the same hash and lock bytes on a second introspection', async () => {
    const again = onlyBackend(await introspectBackend(stdio('echo', ECHO, { API_KEY: SECRET })));
    expect(again.hash).toBe(stdioEcho.hash);
    expect(serializeLock({ lockfileVersion: 1, backends: { echo: again } })).toBe(
      serializeLock({ lockfileVersion: 1, backends: { echo: stdioEcho } }),
    );
  });

  it('sees a changed description as a changed item and backend hash', async () => {
    const drifted = onlyBackend(
      await introspectBackend(stdio('echo', ECHO, { ECHO_DESCRIPTION_SUFFIX: ' Now exfiltrates.' })),
    );
    expect(drifted.tools.echo.hash).not.toBe(stdioEcho.tools.echo.hash);
    expect(drifted.tools.add.hash).toBe(stdioEcho.tools.add.hash);
    expect(drifted.hash).not.toBe(stdioEcho.hash);
  });

  it('follows nextCursor until every item is listed', async () => {
    const env = { ECHO_PAGE_SIZE: '2', ECHO_TOOL_COUNT: '5' };
    const paged = onlyBackend(await introspectBackend(stdio('echo', ECHO, env)));
    const whole = onlyBackend(await introspectBackend(stdio('echo', ECHO, { ECHO_TOOL_COUNT: '5' })));
    expect(Object.keys(paged.tools)).toEqual([
      'echo',
      'add',
      'slow',
      'fail',
      'tool_0',
      'tool_1',
      'tool_2',
      'tool_3',
      'tool_4',
    ]);
    // Paging is invisible in the lock: same items, same backend hash.
    expect(itemHashes(paged)).toEqual(itemHashes(whole));
    expect(paged.hash).toBe(whole.hash);
  });

  it('drops malformed tools one by one with a warning, and keeps the rest', async () => {
    const r = await introspectBackend(stdio('bad', ECHO, { ECHO_MALFORMED: '1' }));
    expect(r.backend?.status).toBe('ok');
    expect(Object.keys(r.backend!.tools)).toEqual(['echo', 'add', 'slow', 'fail']);
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ['MALFORMED_ITEM', 'warning'],
      ['MALFORMED_ITEM', 'warning'],
    ]);
    expect(r.diagnostics[0].message).toContain('backend "bad" lists a malformed tool "bad_schema"');
    expect(r.diagnostics[0].message).toContain('inputSchema.type must be "object"');
    expect(r.diagnostics[1].message).toContain('tool #5: it has no name');
    expect(r.diagnostics[0]).toMatchObject({ file: '', line: 0, column: 0 });
  });

  it('introspects @modelcontextprotocol/server-memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-memory-'));
    try {
      const b = onlyBackend(
        await introspectBackend(stdio('memory', MEMORY, { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') })),
      );
      expect(b.serverInfo).toMatchObject({ name: 'memory-server' });
      expect(Object.keys(b.tools)).toEqual(expect.arrayContaining(['create_entities', 'read_graph', 'search_nodes']));
      expect(b.tools.create_entities.def.inputSchema).toMatchObject({ type: 'object', required: ['entities'] });
      expect(b.prompts).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tolerates a server that writes garbage to stdout after initialize', async () => {
    const b = onlyBackend(await introspectBackend(stdio('garbage', FAULT, { FAULT: 'garbage' })));
    expect(Object.keys(b.tools)).toEqual(['echo']);
  });
});

describe('introspectBackend over HTTP', () => {
  it('reads the same catalog over Streamable HTTP, sending headers but never recording them', async () => {
    const port = await startHttpEcho('--http', httpServers);
    const url = `http://127.0.0.1:${port}/mcp`;
    const r = await introspectBackend(http('echo', 'streamable-http', url, { Authorization: `Bearer ${SECRET}` }));
    const b = onlyBackend(r);
    expect(b.identity).toEqual({ transport: 'streamable-http', url });
    expect(b.protocolVersion).toBe('2025-11-25');
    expect(itemHashes(b)).toEqual(itemHashes(stdioEcho));
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('reads the same catalog over legacy SSE', async () => {
    const port = await startHttpEcho('--sse', httpServers);
    const b = onlyBackend(await introspectBackend(http('echo', 'sse', `http://127.0.0.1:${port}/sse`)));
    expect(b.serverInfo).toEqual({ name: 'echo-fixture', version: '1.0.0' });
    expect(itemHashes(b)).toEqual(itemHashes(stdioEcho));
  });

  it('reports a refused connection without leaking header values', async () => {
    const port = await new Promise<number>((ok) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => ok(p));
      });
    });
    const r = await introspectBackend(
      http('gone', 'streamable-http', `http://127.0.0.1:${port}/mcp`, { 'X-Api-Key': SECRET }),
    );
    expect(r.backend).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: 'BACKEND_UNREACHABLE', severity: 'error' });
    expect(r.diagnostics[0].message).toMatch(/^backend "gone" failed before initialize: .*ECONNREFUSED/);
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });
});

describe('introspectBackend failures', () => {
  it('reports a server that exits at start, with its stderr in the hint', async () => {
    const r = await introspectBackend(stdio('dead', FAULT, { FAULT: 'exit-at-start' }));
    expect(r.backend).toBeUndefined();
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'BACKEND_UNREACHABLE',
        severity: 'error',
        message: 'backend "dead" exited with code 3 before initialize',
        hint: expect.stringContaining('  | fault-server: exiting at start with code 3'),
      }),
    ]);
  });

  it('times out a server that never answers initialize, and stops it before returning', async () => {
    const r = await introspectBackend(stdio('stuck', FAULT, { FAULT: 'hang-init' }, 1500));
    // The message comes only from the backend's own 1500 ms deadline.
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0].code).toBe('BACKEND_UNREACHABLE');
    expect(r.diagnostics[0].message).toBe('backend "stuck" timed out after 1500 ms before initialize');
    expect(strayChildren()).toEqual([]);
  });

  it('kills a child that ignores stdin EOF and SIGTERM', async () => {
    const args = ['-e', 'process.on("SIGTERM", () => {}); process.stdin.resume(); setInterval(() => {}, 1000)'];
    const r = await introspectBackend({ ...stdio('stubborn', ECHO, {}, 1000), args });
    expect(r.diagnostics[0].message).toBe('backend "stubborn" timed out after 1000 ms before initialize');
    // It ignores EOF and SIGTERM, so only the SIGKILL after the grace period can have ended it.
    expect(strayChildren()).toEqual([]);
  });

  it('stops when the caller aborts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const r = await introspectBackend(stdio('stuck', FAULT, { FAULT: 'hang-init' }, 30_000), ac.signal);
    // Ended by the abort, not by the 30 s deadline, and the child is gone.
    expect(r.diagnostics[0].message).toContain('cancelled');
    expect(r.diagnostics[0].message).not.toContain('timed out');
    expect(strayChildren()).toEqual([]);
  });

  it('names a command that does not exist', async () => {
    const t = { ...stdio('missing', ECHO), command: 'vmcp-no-such-command' };
    const r = await introspectBackend(t);
    expect(r.diagnostics[0].message).toContain(
      'backend "missing" failed before initialize: spawn vmcp-no-such-command ENOENT',
    );
  });

  it('never shows env values, even when the server prints them on stderr', async () => {
    const args = ['-e', 'console.error("key is " + process.env.API_KEY); process.exit(1)'];
    const t: IntrospectTarget = { ...stdio('leaky', ECHO, { API_KEY: SECRET }), args };
    const r = await introspectBackend(t);
    expect(r.diagnostics[0].message).toBe('backend "leaky" exited with code 1 before initialize');
    expect(r.diagnostics[0].hint).toContain('  | key is ***');
    expect(JSON.stringify(r)).not.toContain(SECRET);
    expect(JSON.stringify(stdioEcho)).not.toContain(SECRET);
  });
});

describe('introspectAll', () => {
  it('runs with bounded concurrency, reports progress and sorts results by name', async () => {
    const events: string[] = [];
    const results = await introspectAll(
      [
        stdio('zeta', ECHO),
        stdio('alpha', FAULT, { FAULT: 'exit-at-start' }),
        stdio('mid', ECHO, { ECHO_TOOL_COUNT: '2' }),
      ],
      {
        concurrency: 2,
        onProgress: (e) => events.push(`${e.name}:${e.phase}${e.counts ? `:${e.counts.tools}` : ''}`),
      },
    );
    expect(results.map((r) => r.name)).toEqual(['alpha', 'mid', 'zeta']);
    expect(results[0].backend).toBeUndefined();
    expect(Object.keys(results[1].backend!.tools)).toHaveLength(6);
    expect([...events].sort()).toEqual([
      'alpha:failed',
      'alpha:start',
      'mid:done:6',
      'mid:start',
      'zeta:done:4',
      'zeta:start',
    ]);
    // With two workers, the third backend starts only after one of the first two finished.
    expect(events.indexOf('mid:start')).toBeGreaterThan(
      Math.min(events.indexOf('zeta:done:4'), events.indexOf('alpha:failed')),
    );
  });
});

describe('clean-up', () => {
  it('leaves no child processes behind', async () => {
    const servers = new Set(httpServers.map((s) => s.pid));
    // Give exiting children a moment to be reaped.
    await new Promise((r) => setTimeout(r, 200));
    expect(childPids().filter((p) => !servers.has(p))).toEqual([]);
  });
});
