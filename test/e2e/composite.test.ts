/**
 * Composite tools end to end: a config with workflows, compiled by the real CLI against real
 * backends (our workflow fixture, server-everything and server-memory from npm), served by the
 * bundle, called by the real SDK clients of both eras. Every assertion reads a mechanism the
 * backends expose (concurrency peaks, attempt counters, recorded cancellations), never a wall time.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

const MCP = join(REPO, 'node_modules', '@modelcontextprotocol');
const WORKFLOW = join(REPO, 'test', 'fixtures', 'servers', 'workflow-server.mjs');
const MEMORY_FILE = join(tmpdir(), `vmcp-composite-memory-${process.pid}.jsonl`);

const CONFIG = `
name: workflows
backends:
  - name: wf
    transport: stdio
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(WORKFLOW)}]
  - name: everything
    transport: stdio
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(join(MCP, 'server-everything', 'dist', 'index.js'))}, stdio]
  - name: memory
    transport: stdio
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(join(MCP, 'server-memory', 'dist', 'index.js'))}]
    env:
      MEMORY_FILE_PATH: ${JSON.stringify(MEMORY_FILE)}
aggregation:
  conflictResolution: prefix
  tools:
    - workload: wf
      # hang is only for workflows: hidden from clients, reachable as wf.hang.
      filter: [sleep, flaky, lookup, list_ids, stats, reset]
compositeTools:
  - name: parallel_pair
    description: Two sleeps in one level, then the concurrency peak the backend saw
    steps:
      - id: reset
        tool: wf_reset
      - id: a
        tool: wf_sleep
        arguments: { ms: 300, label: a }
        dependsOn: [reset]
      - id: b
        tool: wf_sleep
        arguments: { ms: 300, label: b }
        dependsOn: [reset]
      - id: after
        tool: wf_stats
        dependsOn: [a, b]
    output:
      properties:
        peak: { type: integer, value: "{{.steps.after.output.peak}}" }
        labels: { type: string, value: "{{.steps.a.output.label}}{{.steps.b.output.label}}" }
  - name: maybe_lookup
    description: Looks an item up unless asked to skip, then echoes its name
    parameters:
      type: object
      properties:
        id: { type: integer }
        skip: { type: boolean, default: false }
      required: [id]
    steps:
      - id: look
        tool: wf_lookup
        arguments: { id: "{{.params.id}}" }
        condition: "{{not .params.skip}}"
        defaultResults: { id: 0, name: none, score: 0 }
      - id: say
        tool: everything_echo
        arguments: { message: "name={{.steps.look.output.name}}" }
        dependsOn: [look]
    output:
      properties:
        score: { type: integer, value: "{{.steps.look.output.score}}" }
        status: { type: string, value: "{{.steps.look.status}}" }
        echoed: { type: string, value: "{{.steps.say.output.text}}" }
      required: [score]
  - name: retry_then_ok
    description: A step that fails twice and is retried
    parameters:
      type: object
      properties: { key: { type: string } }
      required: [key]
    steps:
      - id: f
        tool: wf_flaky
        arguments: { key: "{{.params.key}}", failures: 2 }
        onError: { action: retry, retryCount: 3, retryDelay: 20ms }
  - name: retry_exhausted
    description: A step that keeps failing after its retries
    parameters:
      type: object
      properties: { key: { type: string } }
      required: [key]
    steps:
      - id: f
        tool: wf_flaky
        arguments: { key: "{{.params.key}}", failures: 10 }
        onError: { action: retry, retryCount: 2, retryDelay: 20ms }
  - name: keep_going
    description: A failing step whose defaults feed the next one
    parameters:
      type: object
      properties: { key: { type: string } }
      required: [key]
    steps:
      - id: f
        tool: wf_flaky
        arguments: { key: "{{.params.key}}", failures: 10 }
        onError: { action: continue }
        defaultResults: { key: fallback, attempts: 0 }
      - id: say
        tool: everything_echo
        arguments: { message: "{{.steps.f.output.key}} after {{.steps.f.status}}" }
        dependsOn: [f]
  - name: step_deadline
    description: A step that never answers, under a short step timeout
    parameters:
      type: object
      properties: { key: { type: string } }
      required: [key]
    steps:
      - id: stuck
        tool: wf.hang
        arguments: { key: "{{.params.key}}" }
        timeout: 300ms
  - name: workflow_deadline
    description: A workflow that runs past its own deadline
    timeout: 400ms
    parameters:
      type: object
      properties: { key: { type: string } }
      required: [key]
    steps:
      - id: stuck
        tool: wf.hang
        arguments: { key: "{{.params.key}}" }
  - name: cancellable
    description: Waits on a backend until the client cancels
    parameters:
      type: object
      properties: { key: { type: string } }
      required: [key]
    steps:
      - id: stuck
        tool: wf.hang
        arguments: { key: "{{.params.key}}" }
  - name: fan_out
    description: Looks up every id, two at a time
    parameters:
      type: object
      properties: { count: { type: integer, default: 3 } }
    steps:
      - id: ids
        tool: wf_list_ids
        arguments: { count: "{{.params.count}}" }
      - id: each
        type: forEach
        collection: "{{.steps.ids.output.ids}}"
        itemVar: id
        maxParallel: 2
        dependsOn: [ids]
        step:
          tool: wf_lookup
          arguments: { id: "{{.forEach.id}}" }
    output:
      properties:
        completed: { type: integer, value: "{{.steps.each.output.completed}}" }
        count: { type: integer, value: "{{.steps.each.output.count}}" }
        first: { type: string, value: "{{(index .steps.each.output.iterations 0).output.name}}" }
  - name: crash_midway
    description: A step whose backend dies during the call
    steps:
      - id: first
        tool: wf_lookup
        arguments: { id: 1 }
      - id: boom
        tool: wf.crash
        dependsOn: [first]
  - name: confirm_and_echo
    description: Asks the user for a reason, then echoes it
    parameters:
      type: object
      properties: { what: { type: string } }
      required: [what]
    steps:
      - id: ask
        type: elicitation
        message: "Proceed with {{.params.what}}?"
        schema:
          type: object
          properties: { reason: { type: string } }
          required: [reason]
        onDecline: { action: skip_remaining }
        onCancel: { action: abort }
      - id: say
        tool: everything_echo
        arguments: { message: "because {{.steps.ask.output.content.reason}}" }
        dependsOn: [ask]
    output:
      properties:
        action: { type: string, value: "{{.steps.ask.output.action}}" }
        echoed: { type: string, value: "{{.steps.say.output.text}}", default: "" }
`;

let gw: RunningBundle;
let client: Client;
let answer: (message: string) => any = () => ({ action: 'cancel' });

function text(r: any): string {
  return (r.content ?? []).map((c: any) => c.text ?? '').join('');
}

async function stats(): Promise<{ peak: number; calls: number; cancelled: string[] }> {
  const r = await client.callTool({ name: 'wf_stats', arguments: {} });
  return r.structuredContent as any;
}

beforeAll(async () => {
  const { bundle } = await compileConfig('workflows', CONFIG);
  gw = await startBundle(bundle);
  client = new Client({ name: 'composite-e2e', version: '1' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => answer(req.params.message));
  await client.connect(new StreamableHTTPClientTransport(new URL(gw.url)));
}, 120_000);
afterAll(async () => {
  await client?.close();
  await gw?.stop();
  rmSync(MEMORY_FILE, { force: true });
});

describe('composite tools are advertised like any tool', () => {
  it('lists each composite with its parameters, derived annotations and output schema', async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const n of ['parallel_pair', 'maybe_lookup', 'fan_out', 'confirm_and_echo']) expect(byName.has(n)).toBe(true);
    expect(byName.has('wf_hang')).toBe(false);
    const lookup = byName.get('maybe_lookup')!;
    expect(lookup.inputSchema.required).toEqual(['id']);
    expect(lookup.annotations?.readOnlyHint).toBe(true);
    expect(lookup.outputSchema?.properties).toHaveProperty('score');
    // reset is not read-only: a workflow that runs it is not either.
    expect(byName.get('parallel_pair')!.annotations?.readOnlyHint).toBe(false);
  });

  it('a hidden tool is reachable only through a workflow', async () => {
    const r = await client
      .request(
        { method: 'tools/call', params: { name: 'wf_hang', arguments: { key: 'direct' } } },
        CallToolResultSchema,
      )
      .catch((e) => e);
    expect(String(r.message ?? r)).toContain('not found');
  });
});

describe('running workflows (2025-era session)', () => {
  it('runs the steps of one level at once', async () => {
    const r = await client.callTool({ name: 'parallel_pair', arguments: {} });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ peak: 2, labels: 'ab' });
  });

  it('passes one step’s output to the next, and maps and coerces the output', async () => {
    const r = await client.callTool({ name: 'maybe_lookup', arguments: { id: 4 } });
    expect(r.structuredContent).toEqual({ score: 40, status: 'completed', echoed: 'Echo: name=item-4' });
  });

  it('skips a step whose condition is false and reads its defaultResults', async () => {
    const r = await client.callTool({ name: 'maybe_lookup', arguments: { id: 4, skip: true } });
    expect(r.structuredContent).toEqual({ score: 0, status: 'skipped', echoed: 'Echo: name=none' });
  });

  it('rejects arguments that do not match the parameters', async () => {
    const r = await client.callTool({ name: 'maybe_lookup', arguments: {} }).catch((e) => e);
    expect(String(r.message)).toMatch(/maybe_lookup.*id/);
  });

  it('retries a failing step until it succeeds', async () => {
    const r = await client.callTool({ name: 'retry_then_ok', arguments: { key: 'r1' } });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ key: 'r1', attempts: 3 });
  });

  it('fails, naming the workflow and the step, when retries run out', async () => {
    const r = await client.callTool({ name: 'retry_exhausted', arguments: { key: 'r2' } });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('retry_exhausted');
    expect(text(r)).toContain('"f"');
    expect(text(r)).toContain('attempt 3 failed');
    // One call and two retries: exactly three attempts reached the backend.
    const again = await client.callTool({ name: 'wf_flaky', arguments: { key: 'r2', failures: 10 } });
    expect(text(again)).toContain('attempt 4 failed');
  });

  it('goes on after a failed step with onError continue, using its defaultResults', async () => {
    const r = await client.callTool({ name: 'keep_going', arguments: { key: 'k1' } });
    expect(r.isError).toBeFalsy();
    expect(text(r)).toContain('Echo: fallback after failed');
  });

  it('stops a step at its timeout and cancels it at the backend', async () => {
    const r = await client.callTool({ name: 'step_deadline', arguments: { key: 'st1' } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/step "stuck".*timed out/);
    await expect.poll(async () => (await stats()).cancelled).toContain('st1');
  });

  it('stops the workflow at its deadline and cancels the steps in flight', async () => {
    const r = await client.callTool({ name: 'workflow_deadline', arguments: { key: 'wt1' } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/workflow_deadline.*timed out/);
    await expect.poll(async () => (await stats()).cancelled).toContain('wt1');
  });

  it('passes the client’s cancellation on to the steps in flight', async () => {
    await client.callTool({ name: 'wf_reset', arguments: {} });
    const ctl = new AbortController();
    const call = client.callTool({ name: 'cancellable', arguments: { key: 'c1' } }, undefined, { signal: ctl.signal });
    // The backend counts a call when it starts: once it has, the step is in flight there.
    await expect.poll(async () => (await stats()).calls).toBe(1);
    ctl.abort();
    await expect(call).rejects.toThrow();
    await expect.poll(async () => (await stats()).cancelled).toContain('c1');
  });

  it('runs a forEach over a step’s output, two at a time', async () => {
    await client.callTool({ name: 'wf_reset', arguments: {} });
    const r = await client.callTool({ name: 'fan_out', arguments: { count: 5 } });
    expect(r.structuredContent).toEqual({ completed: 5, count: 5, first: 'item-1' });
    const s = await stats();
    expect(s.calls).toBe(6); // list_ids and five lookups (reset and stats are not counted)
    expect(s.peak).toBeLessThanOrEqual(2);
  });

  it('applies parameter defaults', async () => {
    const r = await client.callTool({ name: 'fan_out', arguments: {} });
    expect(r.structuredContent).toMatchObject({ completed: 3, count: 3 });
  });

  it('sends one progress notification per finished step', async () => {
    const seen: number[] = [];
    await client.callTool({ name: 'maybe_lookup', arguments: { id: 1 } }, undefined, {
      onprogress: (p) => seen.push(p.progress),
    });
    expect(seen).toEqual([1, 2]);
  });
});

describe('elicitation steps', () => {
  it('2025 era: accept passes the answer on', async () => {
    answer = (m) => ({ action: 'accept', content: { reason: `ok to ${m}` } });
    const r = await client.callTool({ name: 'confirm_and_echo', arguments: { what: 'deploy' } });
    expect(r.structuredContent).toEqual({ action: 'accept', echoed: 'Echo: because ok to Proceed with deploy?' });
  });

  it('2025 era: decline skips the remaining steps (onDecline skip_remaining)', async () => {
    answer = () => ({ action: 'decline' });
    const r = await client.callTool({ name: 'confirm_and_echo', arguments: { what: 'deploy' } });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ action: 'decline', echoed: '' });
  });

  it('2025 era: cancel aborts the workflow (onCancel abort)', async () => {
    answer = () => ({ action: 'cancel' });
    const r = await client.callTool({ name: 'confirm_and_echo', arguments: { what: 'deploy' } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/confirm_and_echo.*"ask"/);
  });

  it('a client without the elicitation capability gets a clear error, not a hang', async () => {
    const plain = new Client({ name: 'no-elicit', version: '1' });
    await plain.connect(new StreamableHTTPClientTransport(new URL(gw.url)));
    try {
      const r = await plain.callTool({ name: 'confirm_and_echo', arguments: { what: 'x' } });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain('elicitation');
    } finally {
      await plain.close();
    }
  });

  describe('2026 era (input_required round trips)', () => {
    let modern: ClientV2;
    let reply: (m: string) => any = () => ({ action: 'cancel' });
    beforeAll(async () => {
      modern = new ClientV2(
        { name: 'composite-2026', version: '1' },
        { versionNegotiation: { mode: 'auto' }, capabilities: { elicitation: {} } },
      );
      modern.setRequestHandler('elicitation/create', async (req: any) => reply(req.params.message));
      await modern.connect(new TransportV2(new URL(gw.url)));
    });
    afterAll(async () => {
      await modern?.close();
    });

    it('accept', async () => {
      reply = () => ({ action: 'accept', content: { reason: 'tests pass' } });
      const r: any = await modern.callTool({ name: 'confirm_and_echo', arguments: { what: 'ship' } });
      expect(r.structuredContent).toEqual({ action: 'accept', echoed: 'Echo: because tests pass' });
    });

    it('decline', async () => {
      reply = () => ({ action: 'decline' });
      const r: any = await modern.callTool({ name: 'confirm_and_echo', arguments: { what: 'ship' } });
      expect(r.structuredContent).toEqual({ action: 'decline', echoed: '' });
    });

    it('cancel', async () => {
      reply = () => ({ action: 'cancel' });
      const r: any = await modern.callTool({ name: 'confirm_and_echo', arguments: { what: 'ship' } });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain('"ask"');
    });

    it('runs a plain workflow too', async () => {
      const r: any = await modern.callTool({ name: 'maybe_lookup', arguments: { id: 2 } });
      expect(r.structuredContent).toEqual({ score: 20, status: 'completed', echoed: 'Echo: name=item-2' });
    });
  });
});

describe('a backend that dies during a workflow', () => {
  it('fails the workflow naming the step; the gateway keeps serving and the backend comes back', async () => {
    const r = await client.callTool({ name: 'crash_midway', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/workflow "crash_midway" failed at step "boom": .*wf/);
    // Other backends are untouched, and the supervisor restarts the one that died.
    const echo = await client.callTool({ name: 'everything_echo', arguments: { message: 'still here' } });
    expect(text(echo)).toContain('still here');
    await expect
      .poll(async () => (await client.callTool({ name: 'maybe_lookup', arguments: { id: 3 } })).structuredContent, {
        timeout: 15_000,
        interval: 200,
      })
      .toEqual({ score: 30, status: 'completed', echoed: 'Echo: name=item-3' });
  });
});
