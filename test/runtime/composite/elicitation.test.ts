/** Elicitation steps: the client's answers, its absence of the capability, deadlines and skip_remaining. */
import { describe, expect, it } from 'vitest';
import { runWorkflow } from '../../../runtime/composite/engine.ts';
import { elicitStep, fakeHost, ok, parentContext, toolStep, workflow } from './fakes.ts';

const confirm = (o: Parameters<typeof elicitStep>[2] = {}) =>
  workflow(
    [
      elicitStep('ask', 'Deploy {{.params.app}}?', o),
      toolStep(
        'deploy',
        'deploy',
        { ok: '{{.steps.ask.output.content.ok}}', action: '{{.steps.ask.output.action}}' },
        { dependsOn: ['ask'] },
      ),
      toolStep('notify', 'notify', {}, { dependsOn: ['deploy'], defaultResults: { sent: false } }),
    ],
    { resultStep: 1 },
  );

async function run(plan: ReturnType<typeof confirm>, answer?: unknown | (() => Promise<unknown>)) {
  const host = fakeHost((tool, args) => ok({ tool, args }));
  const parent = parentContext(
    answer === undefined
      ? {}
      : { elicit: typeof answer === 'function' ? (answer as () => Promise<unknown>) : async () => answer },
  );
  const result = await runWorkflow(plan, { app: 'web' }, parent.ctx, host);
  const text = (result.content as Array<{ text: string }>)[0].text;
  return { host, parent, result, text };
}

describe('elicitation steps', () => {
  it('accept: sends the rendered message and schema, and the answer feeds later steps', async () => {
    const r = await run(confirm(), { action: 'accept', content: { ok: true } });
    expect(r.parent.requests).toEqual([
      {
        method: 'elicitation/create',
        params: {
          message: 'Deploy web?',
          requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
        },
      },
    ]);
    expect(r.host.calls[0].args).toEqual({ ok: true, action: 'accept' });
    expect(r.result.isError).toBeUndefined();
  });

  it('decline: fails the step when onDecline is unset, and the workflow with it', async () => {
    const r = await run(confirm(), { action: 'decline' });
    expect(r.result.isError).toBe(true);
    expect(r.text).toBe('workflow "wf" failed at step "ask": the user declined, and the step sets no onDecline');
    expect(r.host.calls).toHaveLength(0);
  });

  it('decline with onDecline abort fails the workflow even under onError continue', async () => {
    const r = await run(confirm({ onDecline: 'abort', onError: { action: 'continue' } }), { action: 'decline' });
    expect(r.text).toBe('workflow "wf" failed at step "ask": the user declined at step "ask" (onDecline: abort)');
  });

  it('decline with onDecline continue completes the step with {action}', async () => {
    const r = await run(confirm({ onDecline: 'continue' }), { action: 'decline' });
    expect(r.host.calls[0].args).toEqual({ action: 'decline' });
    expect(r.result.isError).toBeUndefined();
  });

  it('cancel runs onCancel; skip_remaining skips every later step and the workflow completes', async () => {
    const r = await run(confirm({ onCancel: 'skip_remaining' }), { action: 'cancel' });
    expect(r.host.calls).toHaveLength(0);
    expect(r.result).toEqual({
      content: [{ type: 'text', text: '{"result":null}' }],
      structuredContent: { result: null },
    });
  });

  it('a client without the elicitation capability is a cancel at once: onCancel, or a clear failure', async () => {
    const withHandler = await run(confirm({ onCancel: 'continue' }));
    expect(withHandler.host.calls[0].args).toEqual({ action: 'cancel' });
    const without = await run(confirm());
    expect(without.text).toBe(
      'workflow "wf" failed at step "ask": the client declared no elicitation capability, and the step sets no onCancel',
    );
  });

  it('a client with a request channel but no declared capability is not asked', async () => {
    const host = fakeHost(() => ok({}));
    const parent = parentContext({ elicit: async () => ({ action: 'accept', content: { ok: true } }) });
    parent.ctx.clientCapabilities = {};
    const result = await runWorkflow(confirm(), {}, parent.ctx, host);
    expect(parent.requests).toEqual([]);
    expect(result.isError).toBe(true);
  });

  it('no answer within the step timeout is a cancel', async () => {
    const host = fakeHost((tool, args) => ok({ tool, args }));
    const parent = parentContext({ elicit: () => new Promise(() => {}) });
    const plan = confirm({ timeoutMs: 120_000, onCancel: 'continue' });
    const promise = runWorkflow(plan, {}, parent.ctx, host);
    await host.clock.advance(120_000);
    const result = await promise;
    expect(host.calls[0].args).toEqual({ action: 'timeout' });
    expect(result.isError).toBeUndefined();
    expect(host.clock.pending).toBe(0);
  });

  it('an answer over 1 MB, or with an unknown action, fails the step', async () => {
    const big = await run(confirm(), { action: 'accept', content: { blob: 'x'.repeat(1024 * 1024) } });
    expect(big.text).toBe('workflow "wf" failed at step "ask": the elicitation answer exceeds 1048576 characters');
    const odd = await run(confirm(), { action: 'maybe' });
    expect(odd.text).toBe('workflow "wf" failed at step "ask": the elicitation answer has an unknown action "maybe"');
    const failed = await run(confirm(), () => Promise.reject(new Error('session closed')));
    expect(failed.text).toBe('workflow "wf" failed at step "ask": the elicitation request failed: session closed');
  });
});

describe('skip_remaining', () => {
  it('marks every later step skipped with its defaultResults, and reports progress for each', async () => {
    const host = fakeHost(() => ok({}));
    const parent = parentContext({ elicit: async () => ({ action: 'decline' }) });
    const plan = workflow([
      elicitStep('ask', 'go?', { onDecline: 'skip_remaining' }),
      toolStep('b', 'b', {}, { dependsOn: ['ask'], defaultResults: { b: 'default' } }),
      toolStep('c', 'c', {}, { dependsOn: ['b'] }),
    ]);
    const result = await runWorkflow(plan, {}, parent.ctx, host, 7);
    expect(host.calls).toHaveLength(0);
    expect(parent.notes.map((n) => n.params.message)).toEqual([
      'step "ask" completed',
      'step "b" skipped',
      'step "c" skipped',
    ]);
    expect(result.structuredContent).toEqual({ result: null });
    const viaB = await runWorkflow({ ...plan, resultStep: 1 }, {}, parent.ctx, host);
    expect(viaB.structuredContent).toEqual({ b: 'default' });
  });
});
