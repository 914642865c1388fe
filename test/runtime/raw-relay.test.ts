/**
 * Large stdio answers are relayed as the bytes they came in (RawJson): their id and result are found
 * at the message's edges, and they reach the client intact in both eras, as JSON or inside SSE.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { RAW_ABOVE_BYTES, resultSpanOf, sliceParts } from '../../runtime/transports/stdio-framing.ts';
import { RawJson } from '../../runtime/raw-json.ts';
import { deliverText } from '../../runtime/transports/deliver.ts';
import { HttpExchange } from '../../runtime/server/http-exchange.ts';
import { FIXTURES, startGatewayOver, type RunningGateway } from './harness.ts';

const BIG = join(FIXTURES, 'big-result-server.mjs');
const b = (s: string) => Buffer.from(s);

/** A 2026-era stateless tools/call over plain fetch (the raw bytes of the answer are the point). */
function modernToolCall(url: string, id: string, name: string, args: Record<string, unknown>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: {
        name,
        arguments: args,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': {},
          'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
        },
      },
    }),
  });
}

describe('resultSpanOf: the result and id of a response, from its edges', () => {
  const body = `{"content":[{"type":"text","text":"${'x'.repeat(600)}"}]}`;
  const cases: Array<[string, string, { id: number; result: string } | undefined]> = [
    ['SDK order: result, jsonrpc, id', `{"result":${body},"jsonrpc":"2.0","id":7}`, { id: 7, result: body }],
    ['id last without jsonrpc', `{"result":${body},"id":12}`, { id: 12, result: body }],
    ['id then jsonrpc last', `{"result":${body},"id":3,"jsonrpc":"2.0"}`, { id: 3, result: body }],
    ['jsonrpc and id first', `{"jsonrpc":"2.0","id":9,"result":${body}}`, { id: 9, result: body }],
    ['whitespace and CR', ` { "result" : ${body} , "jsonrpc" : "2.0" , "id" : 4 } \r`, { id: 4, result: body }],
    ['an error response', `{"error":{"code":1,"message":"${'x'.repeat(600)}"},"jsonrpc":"2.0","id":7}`, undefined],
    [
      'a request from the backend',
      `{"method":"sampling/createMessage","params":${body},"jsonrpc":"2.0","id":1}`,
      undefined,
    ],
    ['a string id', `{"result":${body},"jsonrpc":"2.0","id":"a"}`, undefined],
    ['a result that is not an object', `{"result":[1,2,3,"${'x'.repeat(600)}"],"jsonrpc":"2.0","id":7}`, undefined],
    ['an extra top-level key at the end', `{"result":${body},"jsonrpc":"2.0","id":7,"x":1}`, undefined],
    ['an id nested in the result only', `{"result":{"id":5,"text":"${'x'.repeat(600)}"}}`, undefined],
  ];
  it.each(cases)('%s', (_name, line, want) => {
    // Split into uneven pieces, as a pipe would deliver it.
    const bytes = b(line);
    const pieces = [bytes.subarray(0, 100), bytes.subarray(100, 333), bytes.subarray(333)];
    const span = resultSpanOf(pieces, bytes.length);
    if (!want) return expect(span).toBeUndefined();
    expect(span?.id).toBe(want.id);
    expect(Buffer.concat(sliceParts(pieces, span!.start, span!.end)).toString()).toBe(want.result);
  });
});

describe('deliverText: HTTP bodies and SSE events over the threshold stay bytes', () => {
  const hooks = (got: unknown[]) =>
    ({ onmessage: (m: unknown) => got.push(m), onclose: () => {}, log: { warn: () => {} } }) as never;
  const big = `{"content":[{"type":"text","text":"${'é'.repeat(RAW_ABOVE_BYTES)}"}]}`;

  it('a large result is handed over as RawJson with its id; the bytes are the result', () => {
    const got: any[] = [];
    deliverText(`{"result":${big},"jsonrpc":"2.0","id":42}`, hooks(got));
    expect(got).toHaveLength(1);
    expect(got[0].id).toBe(42);
    expect(got[0].result).toBeInstanceOf(RawJson);
    expect(got[0].result.text()).toBe(big);
  });

  it('small answers, errors, batches and requests are parsed', () => {
    const got: any[] = [];
    deliverText('{"result":{"content":[]},"jsonrpc":"2.0","id":1}', hooks(got));
    deliverText(`{"error":{"code":1,"message":"${'x'.repeat(RAW_ABOVE_BYTES)}"},"jsonrpc":"2.0","id":2}`, hooks(got));
    deliverText(`[{"result":${big},"jsonrpc":"2.0","id":3}]`, hooks(got));
    deliverText(`{"method":"notifications/message","params":${big},"jsonrpc":"2.0"}`, hooks(got));
    expect(got.map((m) => m.result instanceof RawJson)).toEqual([false, false, false, false]);
    expect(got.map((m) => m.id ?? m.method)).toEqual([1, 2, 3, 'notifications/message']);
  });
});

describe('RawJson', () => {
  it.each([
    ['{"content":[]}', '{"resultType":"complete","content":[]}'],
    ['{}', '{"resultType":"complete"}'],
    ['{ }', '{"resultType":"complete" }'],
    ['{"resultType":"input_required"}', '{"resultType":"complete","resultType":"input_required"}'],
  ])("stamps %s as %s, and the backend's own value wins when parsed", (given, want) => {
    const raw = new RawJson([b(given.slice(0, 1)), b(given.slice(1))]).withLeadingFields('"resultType":"complete"');
    expect(raw.text()).toBe(want);
    expect(raw.parse()).toEqual({ resultType: 'complete', ...JSON.parse(given) });
    expect(raw.bytes).toBe(Buffer.byteLength(want));
  });

  it('is written piece by piece into an SSE response after a streamed message, never joined', async () => {
    const server = createServer((_req, res) => {
      const ex = new HttpExchange(res);
      ex.write('{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}');
      ex.end(new RawJson([b('{"a":'), b('"é'), b('€"}')]).wrap('{"jsonrpc":"2.0","id":1,"result":', '}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const text = await new Promise<string>((resolve) =>
      httpRequest({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let t = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve(t));
      }).end(),
    );
    server.close();
    const events = text
      .split('\n\n')
      .filter(Boolean)
      .map((e) => JSON.parse(e.replace('event: message\ndata: ', '')));
    expect(events).toEqual([
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } },
      { jsonrpc: '2.0', id: 1, result: { a: 'é€' } },
    ]);
  });
});

describe('a large result through the gateway, both eras', () => {
  let g: RunningGateway;
  const size = RAW_ABOVE_BYTES * 4;
  beforeAll(async () => {
    g = await startGatewayOver([{ name: 'big', args: [BIG] }]);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('2025 session (SDK client): the content arrives whole', async () => {
    const c = new Client({ name: 'raw-relay', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(g.url)));
    const r: any = await c.callTool({ name: 'big', arguments: { bytes: size } });
    expect(r.content[0].text.length).toBe(size);
    expect(/^x+$/.test(r.content[0].text)).toBe(true);
    await c.close();
  });

  it('2026 stateless: the relayed result carries resultType and is valid JSON', async () => {
    const res = await modernToolCall(g.url, 'big-1', 'big', { bytes: size });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(size);
    const body: any = await res.json();
    expect(body.id).toBe('big-1');
    expect(body.result.resultType).toBe('complete');
    expect(body.result.content[0].text.length).toBe(size);
  });
});

/** The big-result fixture over Streamable HTTP (SSE answers, or JSON bodies); resolves its /mcp URL. */
function serveHttp(json: boolean): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BIG, '--http', '0'], {
    env: { ...process.env, ...(json ? { FIXTURE_JSON_RESPONSE: '1' } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => {
      err += c;
      const m = /listening (\d+)/.exec(err);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}/mcp`, proc });
    });
    proc.once('exit', (code) => reject(new Error(`fixture exited ${code}: ${err}`)));
  });
}

describe.each(['stdio', 'http-sse', 'http-json'] as const)(
  'every content type from a %s backend, relayed as bytes above the threshold and parsed below it',
  (kind) => {
    let g: RunningGateway;
    let direct: Client;
    let fixture: ChildProcess | undefined;
    beforeAll(async () => {
      if (kind === 'stdio') g = await startGatewayOver([{ name: 'big', args: [BIG] }]);
      else {
        const served = await serveHttp(kind === 'http-json');
        fixture = served.proc;
        g = await startGatewayOver([{ name: 'big', transport: 'streamable-http', url: served.url }]);
      }
      direct = new Client({ name: 'raw-direct', version: '1' });
      await direct.connect(new StdioClientTransport({ command: process.execPath, args: [BIG] }));
    });
    afterAll(async () => {
      await direct?.close();
      await g?.stop();
      fixture?.kill();
    });

    it.each([
      ['parsed', Math.floor(RAW_ABOVE_BYTES / 4)],
      ['relayed as bytes', RAW_ABOVE_BYTES * 2],
    ])('%s: the same result as the backend gives a direct client, in both eras', async (_how, bytes) => {
      const want = await direct.callTool({ name: 'kinds', arguments: { bytes } });
      expect(JSON.stringify(want).length).toBeGreaterThan(bytes / 2);
      const c = new Client({ name: 'raw-kinds', version: '1' });
      await c.connect(new StreamableHTTPClientTransport(new URL(g.url)));
      expect(await c.callTool({ name: 'kinds', arguments: { bytes } })).toEqual(want);
      await c.close();
      // The bytes on the wire are one valid JSON-RPC response (the 2026 answer also carries resultType).
      const res = await modernToolCall(g.url, 'kinds-1', 'kinds', { bytes });
      expect(res.status).toBe(200);
      const body = JSON.parse(await res.text());
      expect(Object.keys(body).sort()).toEqual(['id', 'jsonrpc', 'result']);
      expect(body.jsonrpc).toBe('2.0');
      expect(body.id).toBe('kinds-1');
      expect(body.result).toEqual({ resultType: 'complete', ...want });
    });
  },
);
