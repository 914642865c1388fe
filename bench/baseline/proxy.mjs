#!/usr/bin/env node
/**
 * Baseline for the benchmarks: the straightforward aggregating MCP proxy written with the v1 SDK.
 * It is what most people would write first, so "vmcp vs the obvious implementation" is measured in
 * the same run:
 * - a low-level `Server` per downstream session over Streamable HTTP (SSE response mode, the default);
 * - one `Client` per backend, all connected at start-up, before the port is opened;
 * - tools are exposed as `<backend>_<tool>`; `tools/list` asks every backend each time;
 * - `tools/call` is forwarded with `client.request(…, CallToolResultSchema)` (not `callTool`, which
 *   would re-validate structuredContent), and each upstream HTTP request gets its own AbortController
 *   (the SDK's shared signal leaks listeners). Both fixes follow shared/MCP-NOTES.md, so the baseline
 *   is fair rather than naive.
 *
 * Usage: node proxy.mjs --config backends.json [--port 0]
 *   backends.json: {"backends":[{"name":"a","command":"node","args":[…],"env":{…}} | {"name":"b","url":"http://…/mcp"}]}
 * Listens on 127.0.0.1 only and prints `listening <port>` on stderr.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  ListToolsResultSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const config = JSON.parse(readFileSync(arg('--config'), 'utf8'));
const port = Number(arg('--port', '0'));

/** A fetch that gives every request its own signal (the transport's shared one leaks listeners). */
const ownSignalFetch = (url, init = {}) => fetch(url, { ...init, signal: new AbortController().signal });

async function connectBackend(spec) {
  const client = new Client({ name: 'baseline-proxy', version: '1.0.0' }, { capabilities: {} });
  const transport = spec.url
    ? new StreamableHTTPClientTransport(new URL(spec.url), { fetch: ownSignalFetch })
    : new StdioClientTransport({
        command: spec.command,
        args: spec.args ?? [],
        env: { ...getDefaultEnvironment(), ...(spec.env ?? {}) },
        stderr: 'inherit',
      });
  await client.connect(transport);
  return { name: spec.name, prefix: `${spec.name}_`, client };
}

// The obvious start-up: connect every backend, then listen.
const backends = await Promise.all(config.backends.map(connectBackend));

async function listAllTools() {
  const lists = await Promise.all(
    backends.map(async (b) => {
      const tools = [];
      let cursor;
      do {
        const page = await b.client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, ListToolsResultSchema);
        for (const t of page.tools) tools.push({ ...t, name: b.prefix + t.name });
        cursor = page.nextCursor;
      } while (cursor);
      return tools;
    }),
  );
  return lists.flat();
}

function createSessionServer() {
  const server = new Server({ name: 'baseline-proxy', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await listAllTools() }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const name = req.params.name;
    const backend = backends.find((b) => name.startsWith(b.prefix));
    if (!backend) throw new McpError(ErrorCode.InvalidParams, `unknown tool ${name}`);
    return backend.client.request(
      { method: 'tools/call', params: { ...req.params, name: name.slice(backend.prefix.length) } },
      CallToolResultSchema,
      { signal: extra.signal },
    );
  });
  return server;
}

const sessions = new Map();
async function handle(req, res) {
  if (new URL(req.url, 'http://x').pathname !== '/mcp') return notFound(res);
  const id = req.headers['mcp-session-id'];
  if (typeof id === 'string') {
    const transport = sessions.get(id);
    if (!transport) return notFound(res);
    return transport.handleRequest(req, res);
  }
  if (req.method !== 'POST') return notFound(res);
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (sid) => sessions.set(sid, transport),
  });
  transport.onclose = () => {
    if (transport.sessionId) sessions.delete(transport.sessionId);
  };
  await createSessionServer().connect(transport);
  await transport.handleRequest(req, res);
}

function notFound(res) {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
}

const httpServer = createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(err?.message ?? err));
  });
});
httpServer.listen(port, '127.0.0.1', () => process.stderr.write(`listening ${httpServer.address().port}\n`));

const stop = async () => {
  httpServer.close();
  await Promise.allSettled(backends.map((b) => b.client.close()));
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
