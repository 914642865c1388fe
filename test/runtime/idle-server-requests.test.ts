/**
 * A backend that asks the client something while no client call is in flight (server-everything
 * asks for roots right after initialize) gets a sensible answer from the gateway, not a warning:
 * `roots/list` an empty list, sampling and elicitation a clear JSON-RPC error. Logged once per
 * backend and method, at debug.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ECHO, startGatewayOver, waitFor, type RunningGateway } from './harness.ts';

const ASK = 'roots/list,sampling/createMessage,elicitation/create';
let g: RunningGateway;
let client: Client;

beforeAll(async () => {
  g = await startGatewayOver([{ name: 'e', args: [ECHO], env: { ECHO_ASK_AT_START: ASK } }], {}, [], {
    ...process.env,
    VMCP_LOG_LEVEL: 'debug',
  });
  client = new Client({ name: 'idle', version: '1' }, { capabilities: { roots: {}, sampling: {}, elicitation: {} } });
  await client.connect(new StreamableHTTPClientTransport(new URL(g.url)));
}, 60_000);

afterAll(async () => {
  await client?.close();
  await g?.stop();
});

describe('server→client requests with no client call in flight', () => {
  it('roots/list gets an empty list; sampling and elicitation a clear error naming the backend', async () => {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const asked = tools.find((n) => n.endsWith('asked'))!;
    const answers = await waitFor(
      async () => {
        const r = await client.callTool({ name: asked, arguments: {} });
        const list = JSON.parse((r.content as Array<{ text: string }>)[0].text);
        return list.length === 3 ? list : undefined;
      },
      10_000,
      'the fixture to record three answers',
    );
    const byMethod = Object.fromEntries(answers.map((a: any) => [a.method, a]));
    expect(byMethod['roots/list']).toEqual({ method: 'roots/list', result: { roots: [] } });
    for (const m of ['sampling/createMessage', 'elicitation/create']) {
      expect(byMethod[m].error.code).toBe(-32601);
      expect(byMethod[m].error.message).toContain(
        `${m} from backend "e" needs a client to answer it, and no client call is in flight on this backend`,
      );
    }
  });

  it('logs no warning, and one debug line per backend and method', () => {
    const logs = g.logs();
    expect(logs).not.toMatch(/cannot route server request/);
    expect(logs).not.toMatch(/"level":"warn"/);
    const lines = logs.split('\n').filter((l) => l.includes('server request with no client call in flight'));
    expect(lines.map((l) => JSON.parse(l).method).sort()).toEqual([
      'elicitation/create',
      'roots/list',
      'sampling/createMessage',
    ]);
  });
});
