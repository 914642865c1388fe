/**
 * The optimizer end to end (issue 18): a compiled gateway over two fixture servers with real-world
 * tool definitions, OIDC callers from a local issuer and a Cedar policy. Clients see find_tool and
 * call_tool only; find_tool ranks by the compiled index and never returns a tool the caller may
 * not use; call_tool runs the real tool under its real name (a denial looks as for a direct call).
 * Both eras, with the real SDK clients.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { startIssuer, type Issuer } from '../fixtures/oauth/issuer.ts';
import { compileConfig, REPO, startBundle, type RunningBundle, vmcp } from './gateway.ts';

const SERVER = join(REPO, 'test', 'fixtures', 'servers', 'catalog-server.mjs');
const AUDIENCE = 'vmcp-optimizer';
const obj = (props: Record<string, string>, required: string[] = []) => ({
  type: 'object',
  properties: Object.fromEntries(Object.entries(props).map(([k, d]) => [k, { type: 'string', description: d }])),
  required,
});
const CATALOG = {
  servers: [
    {
      name: 'gh',
      tools: [
        {
          name: 'create_issue',
          description: 'Create a new issue in a GitHub repository',
          inputSchema: obj(
            { owner: 'Repository owner', repo: 'Repository name', title: 'Issue title', body: 'Issue body' },
            ['owner', 'repo', 'title'],
          ),
        },
        {
          name: 'search_issues',
          description: 'Search for issues and pull requests across GitHub repositories',
          inputSchema: obj({ q: 'Search query' }, ['q']),
        },
        {
          name: 'create_pull_request',
          description: 'Create a new pull request in a GitHub repository',
          inputSchema: obj({
            owner: 'Owner',
            repo: 'Repo',
            head: 'Branch with the changes',
            base: 'Branch to merge into',
          }),
        },
        {
          name: 'list_commits',
          description: 'Get list of commits of a branch in a GitHub repository',
          inputSchema: obj({ owner: 'Owner', repo: 'Repo', sha: 'Branch name' }),
        },
      ],
    },
    {
      name: 'fs',
      tools: [
        {
          name: 'read_file',
          description: 'Read the complete contents of a file from the file system',
          inputSchema: obj({ path: 'File path' }, ['path']),
        },
        {
          name: 'write_file',
          description: 'Create a new file or completely overwrite an existing file with new content',
          inputSchema: obj({ path: 'File path', content: 'Content' }, ['path', 'content']),
        },
        {
          name: 'list_directory',
          description: 'Get a detailed listing of all files and directories in a specified path',
          inputSchema: obj({ path: 'Directory path' }, ['path']),
        },
        {
          name: 'move_file',
          description: 'Move or rename files and directories',
          inputSchema: obj({ source: 'From', destination: 'To' }),
        },
      ],
    },
  ],
};

let issuer: Issuer;
let gw: RunningBundle;
let dir: string;
let dataDir: string;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  issuer = await startIssuer();
  dataDir = mkdtempSync(join(tmpdir(), 'vmcp-optimizer-'));
  const file = join(dataDir, 'catalog.json');
  writeFileSync(file, JSON.stringify(CATALOG));
  const backend = (name: string) =>
    `  - name: ${name}\n    transport: stdio\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(SERVER)}]\n    env: { CATALOG_FILE: ${JSON.stringify(file)}, CATALOG_SERVER: ${name} }\n`;
  const compiled = await compileConfig(
    'optimized',
    `name: optimized
backends:
${backend('gh')}${backend('fs')}incomingAuth:
  type: oidc
  oidc:
    issuer: ${issuer.issuer}
    audience: ${AUDIENCE}
    insecureAllowHttp: true
  authz:
    type: cedar
    policies:
      - 'permit(principal, action == Action::"call_tool", resource) when { principal has claim_sub && principal.claim_sub == "alice" };'
      - 'permit(principal, action == Action::"call_tool", resource == Tool::"fs_read_file");'
      - 'permit(principal, action == Action::"call_tool", resource == Tool::"fs_list_directory");'
compositeTools:
  - name: release_digest
    description: Summarize a release from the recent commits of a branch
    parameters:
      type: object
      properties:
        owner: { type: string }
      required: [owner]
    steps:
      - id: log
        tool: gh_list_commits
        arguments: { owner: '{{.params.owner}}', repo: vmcp }
optimizer:
  maxToolsToReturn: 3
`,
  );
  dir = compiled.dir;
  gw = await startBundle(compiled.bundle, [], process.env, compiled.dir);
}, 60_000);

afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  await gw?.stop();
  await issuer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function connect(sub: string) {
  const client = new Client({ name: `opt-${sub}`, version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gw.url), {
      requestInit: { headers: { authorization: `Bearer ${await issuer.mint({ sub, aud: AUDIENCE })}` } },
    }),
  );
  closers.push(() => client.close().catch(() => {}));
  return client;
}

type Found = { tools: Array<{ name: string; inputSchema: unknown }>; token_metrics: Record<string, number> };
const find = async (c: Client, tool_description: string, tool_keywords?: string[]) => {
  const r = await c.callTool({
    name: 'find_tool',
    arguments: { tool_description, ...(tool_keywords ? { tool_keywords } : {}) },
  });
  expect(r.isError).toBeFalsy();
  return r.structuredContent as Found;
};
const text = (r: unknown) => ((r as { content: Array<{ text: string }> }).content ?? [])[0]?.text ?? '';

describe('optimizer', () => {
  it('tools/list is find_tool and call_tool only', async () => {
    const alice = await connect('alice');
    const { tools } = await alice.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['call_tool', 'find_tool']);
  });

  it('find_tool ranks the task against the compiled index and returns full definitions with token metrics', async () => {
    const alice = await connect('alice');
    const r = await find(alice, 'open a ticket about the login page crashing');
    expect(r.tools[0].name).toBe('gh_create_issue');
    expect(r.tools[0].inputSchema).toMatchObject({ required: ['owner', 'repo', 'title'] });
    expect(r.tools.length).toBeLessThanOrEqual(3);
    const m = r.token_metrics;
    expect(m.baseline_tokens).toBeGreaterThan(m.returned_tokens);
    expect(m.savings_percent).toBeCloseTo((1 - m.returned_tokens / m.baseline_tokens) * 100, 0);
    expect((await find(alice, 'what is inside this folder')).tools[0].name).toBe('fs_list_directory');
    expect((await find(alice, 'rename a file', ['move'])).tools[0].name).toBe('fs_move_file');
  });

  it('call_tool runs the real tool, with parameters flat or tool_name nested (as ToolHive accepts)', async () => {
    const alice = await connect('alice');
    const a = await alice.callTool({
      name: 'call_tool',
      arguments: { tool_name: 'gh_create_issue', parameters: { owner: 'o', repo: 'r', title: 'crash' } },
    });
    expect(text(a)).toBe('called create_issue {"owner":"o","repo":"r","title":"crash"}');
    const b = await alice.callTool({
      name: 'call_tool',
      arguments: { parameters: { tool_name: 'fs_read_file', path: '/x' } },
    });
    expect(text(b)).toBe('called read_file {"path":"/x"}');
    // A tool found with find_tool may also be called directly.
    expect(text(await alice.callTool({ name: 'fs_read_file', arguments: { path: '/y' } }))).toBe(
      'called read_file {"path":"/y"}',
    );
    const missing = await alice
      .callTool({ name: 'call_tool', arguments: { tool_name: 'no_such_tool', parameters: {} } })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(missing?.message).toContain('Tool no_such_tool not found');
  });

  it('find_tool never returns a tool the caller may not call, and call_tool is denied under the real name', async () => {
    const bob = await connect('bob');
    const r = await find(bob, 'create an issue in the repository');
    expect(r.tools.map((t) => t.name).every((n) => n === 'fs_read_file' || n === 'fs_list_directory')).toBe(true);
    // The baseline counts only what bob may see.
    const alice = await find(await connect('alice'), 'create an issue in the repository');
    expect(r.token_metrics.baseline_tokens).toBeLessThan(alice.token_metrics.baseline_tokens);
    const viaCall = await bob
      .callTool({
        name: 'call_tool',
        arguments: { tool_name: 'gh_create_issue', parameters: { owner: 'o', repo: 'r', title: 't' } },
      })
      .then(
        () => undefined,
        (e: Error & { code?: number }) => e,
      );
    const direct = await bob
      .callTool({ name: 'gh_create_issue', arguments: { owner: 'o', repo: 'r', title: 't' } })
      .then(
        () => undefined,
        (e: Error & { code?: number }) => e,
      );
    // The same 403 and the same JSON-RPC error as a direct call of the real tool.
    const rpcError = (e: Error | undefined) => JSON.parse(e!.message.slice(e!.message.indexOf('{'))).error;
    expect(viaCall?.code).toBe(403);
    expect(direct?.code).toBe(403);
    expect(rpcError(viaCall)).toEqual(rpcError(direct));
    expect(rpcError(viaCall).message).toContain('gh_create_issue');
  });

  it('2026 era: a modern client sees the two tools and finds and calls through them', async () => {
    const modern = new ClientV2({ name: 'opt-v2', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(
      new TransportV2(new URL(gw.url), {
        requestInit: { headers: { authorization: `Bearer ${await issuer.mint({ sub: 'alice', aud: AUDIENCE })}` } },
      }),
    );
    closers.push(() => modern.close().catch(() => {}));
    expect(modern.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
    expect((await modern.listTools()).tools.map((t) => t.name).sort()).toEqual(['call_tool', 'find_tool']);
    const r = (await modern.callTool({
      name: 'find_tool',
      arguments: { tool_description: 'show me the recent commits' },
    })) as {
      structuredContent: Found;
    };
    expect(r.structuredContent.tools.map((t) => t.name)).toContain('gh_list_commits');
    const c = await modern.callTool({
      name: 'call_tool',
      arguments: { tool_name: 'gh_list_commits', parameters: { owner: 'o' } },
    });
    expect(text(c)).toBe('called list_commits {"owner":"o"}');
  });

  it('composite tools are found and called the same way', async () => {
    const alice = await connect('alice');
    const r = await find(alice, 'summarize a release');
    expect(r.tools[0].name).toBe('release_digest');
    const c = await alice.callTool({
      name: 'call_tool',
      arguments: { tool_name: 'release_digest', parameters: { owner: 'o' } },
    });
    expect(JSON.stringify(c)).toContain('called list_commits {\\"owner\\":\\"o\\",\\"repo\\":\\"vmcp\\"}');
  });

  it('/metrics: ToolHive optimizer metrics as Prometheus series', async () => {
    const m = await (await fetch(gw.url.replace(/\/mcp$/, '/metrics'))).text();
    expect(
      Number(/^vmcp_optimizer_find_tool_requests_total\{outcome="success"\} (\d+)$/m.exec(m)?.[1]),
    ).toBeGreaterThanOrEqual(5);
    expect(Number(/^vmcp_optimizer_call_tool_requests_total\{outcome="not_found"\} (\d+)$/m.exec(m)?.[1])).toBe(1);
    expect(m).toMatch(/^vmcp_optimizer_find_tool_duration_seconds_count \d+$/m);
    expect(m).toMatch(/^vmcp_optimizer_token_savings_percent_bucket\{le="100"\} \d+$/m);
    // call_tool is recorded under the real tool name.
    expect(m).toMatch(
      /vmcp_requests_total\{method="tools\/call",kind="tool",name="gh_create_issue",outcome="success"\} \d+/,
    );
  });
});

describe('optimizer with an embedding service (hybrid search)', () => {
  const EMBEDDER = join(REPO, 'test', 'fixtures', 'servers', 'embedding-server.mjs');
  let embedder: ChildProcess | undefined;
  let embedUrl: string;
  let hybrid: RunningBundle;
  let hdir: string;
  const startEmbedder = (port = 0) =>
    new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, [EMBEDDER, '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
      embedder = p;
      let err = '';
      p.stderr!.on('data', (c: Buffer) => {
        err += c;
        const m = /listening (\d+)/.exec(err);
        if (m) resolve(`http://127.0.0.1:${m[1]}`);
      });
      p.once('exit', (code) => reject(new Error(`embedding fixture exited ${code}: ${err}`)));
    });
  const stopEmbedder = () =>
    new Promise<void>((done) => {
      if (!embedder || embedder.exitCode !== null || embedder.signalCode !== null) return done();
      embedder.once('exit', () => done());
      embedder.kill('SIGKILL');
    });
  const stats = async () => (await (await fetch(`${embedUrl}/stats`)).json()) as { requests: number; inputs: number };

  beforeAll(async () => {
    embedUrl = await startEmbedder();
    const file = join(dataDir, 'catalog.json');
    const backend = (name: string) =>
      `  - name: ${name}\n    transport: stdio\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(SERVER)}]\n    env: { CATALOG_FILE: ${JSON.stringify(file)}, CATALOG_SERVER: ${name} }\n`;
    const compiled = await compileConfig(
      'hybrid',
      `name: hybrid\nbackends:\n${backend('gh')}${backend('fs')}optimizer:\n  maxToolsToReturn: 2\n  embeddingService: ${embedUrl}\n  embeddingProvider: tei\n  hybridSearchSemanticRatio: 0.6\n`,
    );
    hdir = compiled.dir;
    hybrid = await startBundle(compiled.bundle, [], process.env, compiled.dir);
  }, 60_000);

  afterAll(async () => {
    await hybrid?.stop();
    await stopEmbedder();
  });

  it('vmcp compile embeds every exposed tool once and pins the vectors in the lock', async () => {
    const lock = JSON.parse(readFileSync(join(hdir, 'vmcp.lock.json'), 'utf8'));
    expect(lock.embeddings).toMatchObject({ provider: 'tei', model: '', dimensions: 64 });
    expect(Object.keys(lock.embeddings.vectors)).toHaveLength(8);
    // A recompile reuses every pinned vector: the service sees no new input.
    const before = await stats();
    const again = await vmcp(['compile', '-c', join(hdir, 'vmcp.yaml'), '-o', join(hdir, 'dist')]);
    expect(again.code).toBe(0);
    expect((await stats()).inputs).toBe(before.inputs);
  });

  it('a query that shares no word with the tool still finds it through the embeddings, and only the query is embedded', async () => {
    const client = new Client({ name: 'hybrid', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(hybrid.url)));
    closers.push(() => client.close().catch(() => {}));
    const before = await stats();
    const r = (await client.callTool({ name: 'find_tool', arguments: { tool_description: 'report a crash' } }))
      .structuredContent as Found;
    expect(r.tools.map((t) => t.name)).toContain('gh_create_issue');
    const after = await stats();
    expect(after.requests - before.requests).toBe(1);
    expect(after.inputs - before.inputs).toBe(1);
  });

  it('with the service down, find_tool still answers from the lexical index, and a frozen compile needs no network', async () => {
    await stopEmbedder();
    const client = new Client({ name: 'hybrid-down', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(hybrid.url)));
    closers.push(() => client.close().catch(() => {}));
    const r = (
      await client.callTool({ name: 'find_tool', arguments: { tool_description: 'open a ticket about a bug' } })
    ).structuredContent as Found;
    expect(r.tools[0].name).toBe('gh_create_issue');
    const m = await (await fetch(hybrid.url.replace(/\/mcp$/, '/metrics'))).text();
    expect(Number(/^vmcp_optimizer_embedding_errors_total (\d+)$/m.exec(m)?.[1])).toBeGreaterThanOrEqual(1);
    expect(hybrid.logs()).toContain('find_tool answers from lexical search');
    const frozen = await vmcp(['compile', '--frozen', '-c', join(hdir, 'vmcp.yaml'), '-o', join(hdir, 'dist-frozen')]);
    expect(frozen.code).toBe(0);
    expect(frozen.err).not.toContain('error');
  });
});
