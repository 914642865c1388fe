/**
 * Collects the tool catalog of real MCP servers published on npm, for the tool-search quality
 * benchmark (bench/data/optimizer-catalog.json, queried by bench/data/optimizer-queries.json).
 *
 *   npx tsx bench/collect-optimizer-catalog.ts                  # every server, rewrites the catalog
 *   npx tsx bench/collect-optimizer-catalog.ts --only github,slack   # re-collect some, keep the rest
 *   npx tsx bench/collect-optimizer-catalog.ts --check-queries  # every expected tool of the queries exists
 *
 * Each server is started over stdio with `npx -y <package>@<exact version>` and dummy credentials
 * (none of them reaches its API to list tools), one at a time. A server that does not start or list
 * within the timeout is skipped with the reason printed. Every process started is killed afterwards,
 * including the grandchildren that npx spawns.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { z } from 'zod';

const HERE = dirname(fileURLToPath(import.meta.url));
const CATALOG = join(HERE, 'data', 'optimizer-catalog.json');
const QUERIES = join(HERE, 'data', 'optimizer-queries.json');
const START_TIMEOUT_MS = 180_000;
const LIST_TIMEOUT_MS = 60_000;

/**
 * tools/list result, checked loosely: some servers return input schemas that the SDK's own result
 * schema rejects (no `"type": "object"`), and the catalog records them as returned.
 */
const ListToolsLoose = z.looseObject({
  tools: z.array(z.looseObject({ name: z.string() })),
  nextCursor: z.string().optional(),
});

interface ServerSpec {
  name: string;
  package: string;
  version: string;
  /** Arguments after the package; `{tmp}` is replaced by a fresh temporary directory. */
  args?: string[];
  env?: Record<string, string>;
  /** The binary to run when the package has several (`npx -y -p pkg@ver bin`). */
  bin?: string;
  /** Files to write into the temporary directory first (dummy credential files). */
  files?: Record<string, string>;
  /** A local process the server needs to start (e.g. a database on loopback), skipped when not installed. */
  helper?: { command: string; args: string[]; port: number };
}

/**
 * Servers in catalog order. Versions are pinned so the catalog is reproducible. Tried and left out:
 * @supabase/mcp-server-supabase 0.13.0 (tools/list calls the Supabase API: "fetch failed"),
 * @heroku/mcp-server 1.2.8 (crashes at start: imports an SDK path its dependency no longer has),
 * @stripe/mcp 0.3.3 (tools/list times out without the network; 0.2.5 lists them locally),
 * @browserbasehq/mcp (not on npm; @browserbasehq/mcp-server-browserbase is).
 */
const DUMMY_OAUTH_KEYS = JSON.stringify({
  installed: {
    client_id: 'dummy.apps.googleusercontent.com',
    client_secret: 'dummy',
    redirect_uris: ['http://localhost'],
  },
});

const SERVERS: ServerSpec[] = [
  { name: 'everything', package: '@modelcontextprotocol/server-everything', version: '2026.8.31', args: ['stdio'] },
  { name: 'filesystem', package: '@modelcontextprotocol/server-filesystem', version: '2026.8.31', args: ['{tmp}'] },
  {
    name: 'memory',
    package: '@modelcontextprotocol/server-memory',
    version: '2026.8.31',
    env: { MEMORY_FILE_PATH: '{tmp}/memory.jsonl' },
  },
  {
    name: 'github',
    package: '@modelcontextprotocol/server-github',
    version: '2025.4.8',
    env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'dummy' },
  },
  {
    name: 'gitlab',
    package: '@modelcontextprotocol/server-gitlab',
    version: '2025.4.25',
    env: { GITLAB_PERSONAL_ACCESS_TOKEN: 'dummy', GITLAB_API_URL: 'https://gitlab.example.invalid/api/v4' },
  },
  {
    name: 'slack',
    package: '@modelcontextprotocol/server-slack',
    version: '2025.4.25',
    env: { SLACK_BOT_TOKEN: 'xoxb-dummy', SLACK_TEAM_ID: 'T00000000' },
  },
  {
    name: 'google-maps',
    package: '@modelcontextprotocol/server-google-maps',
    version: '0.6.2',
    env: { GOOGLE_MAPS_API_KEY: 'dummy' },
  },
  {
    name: 'brave-search',
    package: '@modelcontextprotocol/server-brave-search',
    version: '0.6.2',
    env: { BRAVE_API_KEY: 'dummy' },
  },
  {
    name: 'puppeteer',
    package: '@modelcontextprotocol/server-puppeteer',
    version: '2025.5.12',
    env: { PUPPETEER_SKIP_DOWNLOAD: 'true', PUPPETEER_SKIP_CHROMIUM_DOWNLOAD: 'true' },
  },
  {
    name: 'sequential-thinking',
    package: '@modelcontextprotocol/server-sequential-thinking',
    version: '2026.8.31',
  },
  {
    // Exits when it cannot reach Redis: started against a throwaway redis-server (Debian's redis-server).
    name: 'redis',
    package: '@modelcontextprotocol/server-redis',
    version: '2025.4.25',
    args: ['redis://127.0.0.1:16399'],
    helper: { command: 'redis-server', args: ['--port', '16399', '--bind', '127.0.0.1', '--save', ''], port: 16399 },
  },
  {
    name: 'postgres',
    package: '@modelcontextprotocol/server-postgres',
    version: '0.6.2',
    args: ['postgresql://dummy:dummy@127.0.0.1:5432/dummy'],
  },
  {
    name: 'playwright',
    package: '@playwright/mcp',
    version: '0.0.86',
    args: ['--headless'],
    env: { PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
  },
  {
    name: 'notion',
    package: '@notionhq/notion-mcp-server',
    version: '2.5.2',
    env: { NOTION_TOKEN: 'ntn_dummy' },
  },
  { name: 'context7', package: '@upstash/context7-mcp', version: '4.1.1' },
  { name: 'firecrawl', package: 'firecrawl-mcp', version: '3.26.0', env: { FIRECRAWL_API_KEY: 'fc-dummy' } },
  { name: 'exa', package: 'exa-mcp-server', version: '3.4.1', env: { EXA_API_KEY: 'dummy' } },
  { name: 'tavily', package: 'tavily-mcp', version: '0.2.22', env: { TAVILY_API_KEY: 'tvly-dummy' } },
  { name: 'kubernetes', package: 'mcp-server-kubernetes', version: '4.1.7' },
  { name: 'sentry', package: '@sentry/mcp-server', version: '0.39.0', args: ['--access-token=dummy'] },
  { name: 'airtable', package: 'airtable-mcp-server', version: '1.14.0', env: { AIRTABLE_API_KEY: 'dummy' } },
  { name: 'hubspot', package: '@hubspot/mcp-server', version: '0.4.0', env: { PRIVATE_APP_ACCESS_TOKEN: 'dummy' } },
  {
    name: 'youtube-transcript',
    package: '@kimtaeyoon83/mcp-server-youtube-transcript',
    version: '0.1.1',
  },
  {
    name: 'aws-kb-retrieval',
    package: '@modelcontextprotocol/server-aws-kb-retrieval',
    version: '0.6.2',
    env: { AWS_ACCESS_KEY_ID: 'dummy', AWS_SECRET_ACCESS_KEY: 'dummy', AWS_REGION: 'us-east-1' },
  },
  { name: 'linear', package: 'mcp-server-linear', version: '1.6.0', env: { LINEAR_ACCESS_TOKEN: 'dummy' } },
  {
    name: 'mongodb',
    package: 'mongodb-mcp-server',
    version: '3.0.4',
    env: { MDB_MCP_CONNECTION_STRING: 'mongodb://127.0.0.1:27017', MDB_MCP_TELEMETRY: 'disabled' },
  },
  { name: 'asana', package: '@roychri/mcp-server-asana', version: '1.8.0', env: { ASANA_ACCESS_TOKEN: 'dummy' } },
  {
    name: 'datadog',
    package: '@winor30/mcp-server-datadog',
    version: '1.8.0',
    env: { DATADOG_API_KEY: 'dummy', DATADOG_APP_KEY: 'dummy' },
  },
  {
    name: 'browserbase',
    package: '@browserbasehq/mcp-server-browserbase',
    version: '2.4.3',
    env: { BROWSERBASE_API_KEY: 'dummy', BROWSERBASE_PROJECT_ID: 'dummy', GEMINI_API_KEY: 'dummy' },
  },
  {
    name: 'circleci',
    package: '@circleci/mcp-server-circleci',
    version: '0.20.0',
    env: { CIRCLECI_TOKEN: 'dummy' },
  },
  {
    name: 'google-calendar',
    package: '@cocal/google-calendar-mcp',
    version: '2.6.3',
    env: { GOOGLE_OAUTH_CREDENTIALS: '{tmp}/gcp-oauth.keys.json', GOOGLE_CALENDAR_MCP_TOKEN_PATH: '{tmp}/tokens.json' },
    files: { 'gcp-oauth.keys.json': DUMMY_OAUTH_KEYS },
  },
  {
    name: 'elasticsearch',
    package: '@elastic/mcp-server-elasticsearch',
    version: '0.3.1',
    env: { ES_URL: 'http://127.0.0.1:9200', ES_API_KEY: 'dummy' },
  },
  {
    name: 'gmail',
    package: '@gongrzhe/server-gmail-autoauth-mcp',
    version: '1.1.11',
    env: { GMAIL_OAUTH_PATH: '{tmp}/gcp-oauth.keys.json', GMAIL_CREDENTIALS_PATH: '{tmp}/credentials.json' },
    files: {
      'gcp-oauth.keys.json': DUMMY_OAUTH_KEYS,
      'credentials.json': JSON.stringify({ access_token: 'dummy', refresh_token: 'dummy', token_type: 'Bearer' }),
    },
  },
  { name: 'stripe', package: '@stripe/mcp', version: '0.2.5', args: ['--tools=all', '--api-key=sk_test_dummy'] },
  { name: 'todoist', package: '@doist/todoist-mcp', version: '11.0.0', env: { TODOIST_API_KEY: 'dummy' } },
  { name: 'discord', package: 'mcp-discord', version: '1.3.4', env: { DISCORD_TOKEN: 'dummy' } },
  {
    name: 'cloudflare',
    package: '@cloudflare/mcp-server-cloudflare',
    version: '0.2.0',
    args: ['run', '0123456789abcdef0123456789abcdef'],
    env: { CLOUDFLARE_API_TOKEN: 'dummy', CLOUDFLARE_ACCOUNT_ID: '0123456789abcdef0123456789abcdef' },
  },
  {
    name: 'jira',
    package: '@aaronsb/jira-cloud-mcp',
    version: '0.11.3',
    env: { JIRA_API_TOKEN: 'dummy', JIRA_EMAIL: 'dummy@example.com', JIRA_HOST: 'https://example.atlassian.net' },
  },
];

interface CollectedServer {
  name: string;
  package: string;
  version: string;
  tools: Record<string, unknown>[];
}

interface Catalog {
  collectedAt: string;
  servers: CollectedServer[];
}

/** Pids of every live descendant of `root`, from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()!) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Starts a helper process and waits until it accepts connections on its loopback port. */
async function startHelper(helper: NonNullable<ServerSpec['helper']>, cwd: string): Promise<ChildProcess> {
  const child = spawn(helper.command, helper.args, { cwd, stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`helper ${helper.command}: ${e.message}`)));
    child.once('exit', (code) => reject(new Error(`helper ${helper.command} exited (${code})`)));
  });
  const deadline = Date.now() + 15_000;
  const ready = (async () => {
    while (Date.now() < deadline) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = connect(helper.port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`helper ${helper.command} not listening on ${helper.port}`);
  })();
  try {
    await Promise.race([ready, failed]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  failed.catch(() => {});
  return child;
}

/** Keeps the fields of a tool definition that the benchmark uses, in a stable key order. */
function pickTool(tool: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: tool.name };
  for (const key of ['title', 'description', 'inputSchema', 'outputSchema', 'annotations']) {
    if (tool[key] !== undefined) out[key] = tool[key];
  }
  return out;
}

async function collect(spec: ServerSpec): Promise<CollectedServer> {
  const tmp = mkdtempSync(join(tmpdir(), `optimizer-${spec.name}-`));
  let helper: ChildProcess | undefined;
  try {
    for (const [file, text] of Object.entries(spec.files ?? {})) writeFileSync(join(tmp, file), text);
    if (spec.helper) helper = await startHelper(spec.helper, tmp);
    return await collectFrom(spec, tmp);
  } finally {
    helper?.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function collectFrom(spec: ServerSpec, tmp: string): Promise<CollectedServer> {
  const fill = (s: string) => s.replaceAll('{tmp}', tmp);
  const pkg = `${spec.package}@${spec.version}`;
  const args = spec.bin ? ['-y', '-p', pkg, spec.bin] : ['-y', pkg];
  args.push(...(spec.args ?? []).map(fill));
  const env: Record<string, string> = { npm_config_update_notifier: 'false', npm_config_fund: 'false' };
  for (const [k, v] of Object.entries(spec.env ?? {})) env[k] = fill(v);
  const transport = new StdioClientTransport({ command: 'npx', args, env, cwd: tmp, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const client = new Client({ name: 'vmcp-optimizer-catalog', version: '0.1.0' });
  let pids: number[] = [];
  const trackPids = () => {
    const root = transport.pid;
    if (root !== null) pids = [...new Set([...pids, root, ...descendants(root)])];
  };
  const tracker = setInterval(trackPids, 500);
  try {
    await withTimeout(
      client.connect(transport, { timeout: START_TIMEOUT_MS }),
      START_TIMEOUT_MS,
      'start and initialize',
    ).catch((e: Error) => {
      throw new Error(`${e.message}; stderr: ${stderr.trim().slice(-600)}`);
    });
    const tools: Record<string, unknown>[] = [];
    let cursor: string | undefined;
    do {
      const page = await withTimeout(
        client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, ListToolsLoose, {
          timeout: LIST_TIMEOUT_MS,
        }),
        LIST_TIMEOUT_MS,
        'tools/list',
      );
      tools.push(...page.tools.map((t) => pickTool(t)));
      cursor = page.nextCursor;
    } while (cursor);
    return { name: spec.name, package: spec.package, version: spec.version, tools };
  } finally {
    clearInterval(tracker);
    trackPids();
    await client.close().catch(() => {});
    killPids(pids);
  }
}

function checkQueries(): void {
  const catalog = JSON.parse(readFileSync(CATALOG, 'utf8')) as Catalog;
  const { queries } = JSON.parse(readFileSync(QUERIES, 'utf8')) as {
    queries: { query: string; keywords?: string[]; expected: string[] }[];
  };
  const known = new Set(catalog.servers.flatMap((s) => s.tools.map((t) => `${s.name}/${t.name as string}`)));
  const perServer = new Map<string, number>();
  let bad = 0;
  const seen = new Set<string>();
  for (const q of queries) {
    if (!q.query || !Array.isArray(q.expected) || q.expected.length === 0) {
      console.error(`malformed query: ${JSON.stringify(q)}`);
      bad++;
      continue;
    }
    if (seen.has(q.query)) console.error(`duplicate query: ${q.query}`);
    seen.add(q.query);
    for (const ref of q.expected) {
      if (!known.has(ref)) {
        console.error(`unknown tool ${ref} in query "${q.query}"`);
        bad++;
      }
    }
    for (const server of new Set(q.expected.map((r) => r.split('/')[0]))) {
      perServer.set(server, (perServer.get(server) ?? 0) + 1);
    }
  }
  const withKeywords = queries.filter((q) => (q.keywords ?? []).length > 0).length;
  console.log(`${queries.length} queries, ${withKeywords} with keywords, ${bad} problems`);
  for (const s of catalog.servers) {
    const n = perServer.get(s.name) ?? 0;
    console.log(`  ${s.name.padEnd(20)} ${String(n).padStart(3)} (${((100 * n) / queries.length).toFixed(1)}%)`);
  }
  if (bad > 0) process.exit(1);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--check-queries')) return checkQueries();
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set(argv[onlyAt + 1]?.split(',')) : undefined;
  const previous: Catalog | undefined = only ? JSON.parse(readFileSync(CATALOG, 'utf8')) : undefined;
  const results = new Map<string, CollectedServer>((previous?.servers ?? []).map((s) => [s.name, s]));
  const failures: string[] = [];
  for (const spec of SERVERS) {
    if (only && !only.has(spec.name)) continue;
    results.delete(spec.name);
    const started = Date.now();
    try {
      const server = await collect(spec);
      if (server.tools.length === 0) throw new Error('listed no tools');
      results.set(spec.name, server);
      console.log(`ok   ${spec.name}: ${server.tools.length} tools (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failures.push(spec.name);
      console.log(`FAIL ${spec.name} (${spec.package}@${spec.version}): ${(e as Error).message}`);
    }
  }
  const servers = SERVERS.map((s) => results.get(s.name)).filter((s): s is CollectedServer => s !== undefined);
  const catalog: Catalog = { collectedAt: new Date().toISOString(), servers };
  mkdirSync(dirname(CATALOG), { recursive: true });
  writeFileSync(CATALOG, `${JSON.stringify(catalog, null, 2)}\n`);
  const total = servers.reduce((n, s) => n + s.tools.length, 0);
  console.log(`${servers.length} servers, ${total} tools -> ${CATALOG}`);
  if (failures.length > 0) console.log(`failed: ${failures.join(', ')}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
