/**
 * Routing fixture: a stdio MCP server that serves the catalog it is given and answers every call
 * with what it received, so a test can tell which backend a call reached and under which name.
 * Hand-written newline-delimited JSON-RPC with no imports: the routing table starts two or three
 * of these per case, and the SDK's import alone would cost ~0.4 s of CPU each.
 *
 * Started through a per-backend entry file that sets the catalog first, for example `a.mjs`:
 *   globalThis.ROUTING_BACKEND = { name: 'a', tools: [{ name: 'search', … }], prompts: [], resources: [], resourceTemplates: [] };
 *   await import('file:///…/test/compiler/routing-backend.mjs');
 *
 * tools/call {name}    → structuredContent and text {"backend","name"}
 * prompts/get {name}   → one user message whose text is {"backend","name"}
 * resources/read {uri} → one text content {"backend","uri"}
 * Lists answer with the given items exactly as given (so the gateway sees no drift), in one page.
 */
const me = globalThis.ROUTING_BACKEND;
if (!me?.name) throw new Error('routing-backend.mjs: set globalThis.ROUTING_BACKEND before importing it');

const handlers = {
  initialize: (p) => ({
    protocolVersion: p?.protocolVersion ?? '2025-06-18',
    capabilities: { tools: {}, prompts: {}, resources: {} },
    serverInfo: { name: `routing-${me.name}`, version: '1.0.0' },
  }),
  ping: () => ({}),
  'tools/list': () => ({ tools: me.tools }),
  'prompts/list': () => ({ prompts: me.prompts }),
  'resources/list': () => ({ resources: me.resources }),
  'resources/templates/list': () => ({ resourceTemplates: me.resourceTemplates }),
  'tools/call': (p) => {
    const got = { backend: me.name, name: p.name };
    return { content: [{ type: 'text', text: JSON.stringify(got) }], structuredContent: got };
  },
  'prompts/get': (p) => ({
    messages: [{ role: 'user', content: { type: 'text', text: JSON.stringify({ backend: me.name, name: p.name }) } }],
  }),
  'resources/read': (p) => ({
    contents: [{ uri: p.uri, mimeType: 'application/json', text: JSON.stringify({ backend: me.name, uri: p.uri }) }],
  }),
};

function answer(msg) {
  if (msg.id === undefined || typeof msg.method !== 'string') return; // notifications and responses
  const handler = handlers[msg.method];
  const reply = handler
    ? { jsonrpc: '2.0', id: msg.id, result: handler(msg.params ?? {}) }
    : { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `Method not found: ${msg.method}` } };
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}

let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
    const line = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    if (line) answer(JSON.parse(line));
  }
});
process.stdin.on('end', () => process.exit(0));
