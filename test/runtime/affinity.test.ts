/** Session affinity for server→client requests with concurrent sessions on one stdio backend. */
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { SessionAffinity } from '../../runtime/compiled-gateway.ts';
import { FAULT, buildGateway, bundleGateway, getJson, runBundle } from './harness.ts';

async function scenario(affinity: SessionAffinity) {
  const gw = await buildGateway([{ name: 'ask', args: [FAULT], env: { FAULT: 'elicitation' } }]);
  gw.backends[0].sessionAffinity = affinity;
  const g = await runBundle(await bundleGateway(gw));
  const clients = await Promise.all(
    ['A', 'B'].map(async (who) => {
      const c = new Client({ name: who, version: '1' }, { capabilities: { elicitation: {} } });
      c.setRequestHandler(ElicitRequestSchema, async (req) => {
        await new Promise((r) => setTimeout(r, 300)); // a human answering: the calls overlap
        return { action: 'accept', content: { answer: `${who} answers ${req.params.message}` } };
      });
      await c.connect(new StreamableHTTPClientTransport(new URL(g.url)));
      return c;
    }),
  );
  const results = await Promise.allSettled(
    clients.map((c, i) => c.callTool({ name: 'ask_user', arguments: { message: `q${i}` } })),
  );
  const status = (await getJson(g, '/status')).body.backends[0];
  await Promise.all(clients.map((c) => c.close()));
  await g.stop();
  return { results, status, logs: g.logs() };
}

describe('server→client request routing with two concurrent sessions', () => {
  it('per-session: each session gets its own upstream and its own elicitation', async () => {
    const { results, status } = await scenario('per-session');
    const texts = results.map((r) =>
      r.status === 'fulfilled' ? JSON.parse((r.value.content as any)[0].text) : r.reason.message,
    );
    expect(texts).toEqual([
      { action: 'accept', content: { answer: 'A answers q0' } },
      { action: 'accept', content: { answer: 'B answers q1' } },
    ]);
    expect(status.sessionScoped).toHaveLength(2);
    expect(new Set(status.sessionScoped.map((s: any) => s.pid)).size).toBe(2);
  });

  it('shared: an ambiguous request is refused (never sent to the wrong session) and logged', async () => {
    const { results, logs } = await scenario('shared');
    const answers = results.flatMap((r) =>
      r.status === 'fulfilled' && !(r.value as any).isError ? [JSON.parse((r.value.content as any)[0].text)] : [],
    );
    for (const a of answers) expect(a.content.answer).toMatch(/^(A answers q0|B answers q1)$/);
    expect(answers.length).toBeLessThan(2);
    expect(logs).toMatch(/cannot route server request: no single client call in flight/);
  });
});
