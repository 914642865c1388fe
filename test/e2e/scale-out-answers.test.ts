/**
 * Server→client round trips across replicas (issue 17): three replicas behind a real HAProxy with
 * round robin and no stickiness. A backend's elicitation or sampling during a call reaches the
 * client on the call's stream; the client's answer is a separate request that the balancer sends
 * to any replica, and the replica holding the call gets it because the other replicas relay it
 * (relay.ts). Both eras: a 2025 session's answer POST, and a 2026 retry with requestState.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { type Balancer, freePort, startBalancer } from '../support/lb.ts';
import { requireTool } from '../support/system-tools.ts';
import { waitFor } from '../runtime/harness.ts';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

const BACKEND = join(REPO, 'test', 'fixtures', 'servers', 'conformance-backend.mjs');
const KEY = 'scale-out-answers-session-key-0123456789abcdef';
const REPLICAS = 3;
const ROUNDS = 6;

const haproxy = requireTool('haproxy');
const suite = haproxy ? describe : describe.skip;

let lb: Balancer;
let lbSticky: Balancer;
let dir: string;
const replicas: RunningBundle[] = [];
const closers: Array<() => Promise<unknown>> = [];
const lbUrl = () => new URL(`http://127.0.0.1:${lb.port}/mcp`);

const relayed = async () => {
  let n = 0;
  for (const r of replicas) {
    const text = await (await fetch(r.url.replace(/\/mcp$/, '/metrics'))).text();
    n += Number(/^vmcp_relayed_requests_total\{outcome="ok"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  }
  return n;
};
const text = (r: unknown) => ((r as { content: Array<{ text: string }> }).content ?? [])[0]?.text ?? '';

suite('answers to server→client requests reach the replica holding the call', () => {
  beforeAll(async () => {
    const compiled = await compileConfig(
      'answers',
      `name: answers\nbackends:\n  - name: c\n    transport: stdio\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(BACKEND)}]\naggregation:\n  conflictResolution: prefix\n  conflictResolutionConfig: { prefixFormat: "" }\n`,
    );
    dir = compiled.dir;
    const env = { ...process.env, VMCP_SESSION_KEY: KEY };
    const ports = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()));
    replicas.push(
      ...(await Promise.all(ports.map((p) => startBundle(compiled.bundle, ['--port', String(p)], env, compiled.dir)))),
    );
    lb = await startBalancer(haproxy!, ports);
    // The documented affinity for clients that subscribe to resources: one session, one replica.
    lbSticky = await startBalancer(haproxy!, ports, 'hdr(mcp-session-id)');
    for (const b of [lb, lbSticky])
      await waitFor(
        async () => (await b.states().catch(() => [])).filter((s) => s === 'UP').length === REPLICAS,
        15_000,
        `HAProxy to see every replica UP:\n${b.logs()}`,
      );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(closers.map((c) => c()));
    lb?.stop();
    lbSticky?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('2025 era: elicitation and sampling during calls complete, their answers relayed between replicas', async () => {
    const client = new Client(
      { name: 'answers-v1', version: '1' },
      { capabilities: { elicitation: {}, sampling: {} } },
    );
    let asked = 0;
    client.setRequestHandler(ElicitRequestSchema, async () => {
      asked++;
      return { action: 'accept', content: { username: `u${asked}`, email: 'u@example.com' } };
    });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      role: 'assistant',
      model: 'test',
      content: { type: 'text', text: 'sampled' },
    }));
    await client.connect(new StreamableHTTPClientTransport(lbUrl()));
    closers.push(() => client.close().catch(() => {}));
    const before = await relayed();
    for (let i = 1; i <= ROUNDS; i++) {
      const r = await client.callTool({ name: 'test_elicitation', arguments: { message: `who ${i}?` } });
      expect(text(r)).toContain(`"username":"u${i}"`);
    }
    const s = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } });
    expect(text(s)).toContain('LLM response: sampled');
    // Round robin sends most answers to another replica than the call's: they were relayed.
    expect((await relayed()) - before).toBeGreaterThan(0);
  });

  it('2026 era: input_required retries reach the replica that parked the call', async () => {
    const modern = new ClientV2(
      { name: 'answers-v2', version: '1' },
      { versionNegotiation: { mode: 'auto' }, capabilities: { elicitation: {} } },
    );
    let asked = 0;
    modern.setRequestHandler('elicitation/create', async () => {
      asked++;
      return { action: 'accept', content: { username: `m${asked}`, email: 'm@example.com' } };
    });
    await modern.connect(new TransportV2(lbUrl()));
    closers.push(() => modern.close().catch(() => {}));
    expect(modern.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
    const before = await relayed();
    for (let i = 1; i <= ROUNDS; i++) {
      const r = await modern.callTool({ name: 'test_elicitation', arguments: { message: `modern ${i}?` } });
      expect(text(r)).toContain(`"username":"m${i}"`);
    }
    expect((await relayed()) - before).toBeGreaterThan(0);
  });

  it('resources/subscribe: with the documented hdr(mcp-session-id) balance, updates reach the GET stream', async () => {
    const client = new Client({ name: 'subscriber', version: '1' });
    const updated: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
      updated.push(n.params.uri);
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${lbSticky.port}/mcp`)));
    closers.push(() => client.close().catch(() => {}));
    await client.subscribeResource({ uri: 'test://watched-resource' });
    for (let i = 0; i < 3; i++) await client.callTool({ name: 'test_update_watched_resource', arguments: {} });
    await waitFor(async () => updated.length >= 3, 10_000, 'three resources/updated notifications');
    expect(new Set(updated)).toEqual(new Set(['test://watched-resource']));
  });

  it('a forged replica tag is not relayed anywhere: the answer is served (and ignored) locally', async () => {
    const res = await fetch(replicas[0].url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'test_simple_text',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'test_simple_text',
          arguments: {},
          requestState: `vmcp.${Buffer.from('http://169.254.169.254/latest/meta-data').toString('base64url')}.x`,
          inputResponses: {},
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });
    const body = await res.text();
    expect(body).toContain('Unknown or expired requestState');
  });
});
