/** The workflow engine over a fake host and a hand-driven clock: scheduling, data flow, errors, deadlines. */
import { describe, expect, it } from 'vitest';
import { cancelCall } from '../../../runtime/call-context.ts';
import { runWorkflow } from '../../../runtime/composite/engine.ts';
import { formatDuration } from '../../../runtime/composite/errors.ts';
import { ERR, RpcError } from '../../../runtime/jsonrpc.ts';
import { fakeHost, flush, ok, parentContext, text, toolStep, workflow } from './fakes.ts';

/** The one text of a finished run's result. */
function errorText(run: { outcome(): { result?: Record<string, unknown> } | undefined }): string {
  const content = run.outcome()?.result?.content as Array<{ text: string }> | undefined;
  return content ? content[0].text : '(no result)';
}

/** Starts a run and keeps its outcome for later assertions. */
function start(
  plan: Parameters<typeof runWorkflow>[0],
  host: ReturnType<typeof fakeHost>,
  args: unknown = {},
  token?: string,
) {
  const parent = parentContext();
  let outcome: { result?: Record<string, unknown>; error?: unknown } | undefined;
  const promise = runWorkflow(plan, args, parent.ctx, host, token).then(
    (result) => (outcome = { result }),
    (error) => (outcome = { error }),
  );
  return { parent, promise, outcome: () => outcome };
}

describe('levels', () => {
  it('starts every step of a level before any of them answers, and the next level after', async () => {
    const host = fakeHost();
    const plan = workflow([
      toolStep('a', 'slow_a'),
      toolStep('b', 'slow_b'),
      toolStep('c', 'join', {}, { dependsOn: ['a', 'b'] }),
    ]);
    const run = start(plan, host);
    await flush();
    expect(host.open().map((c) => c.tool)).toEqual(['slow_a', 'slow_b']);
    host.calls[1].resolve(ok({ b: 1 }));
    await flush();
    expect(host.calls.map((c) => c.tool)).toEqual(['slow_a', 'slow_b']);
    host.calls[0].resolve(ok({ a: 1 }));
    await flush();
    expect(host.calls.map((c) => c.tool)).toEqual(['slow_a', 'slow_b', 'join']);
    host.calls[2].resolve(ok({ done: true }));
    await run.promise;
    expect(run.outcome()?.result).toEqual({
      content: [{ type: 'text', text: '{"done":true}' }],
      structuredContent: { done: true },
    });
    expect(host.clock.pending).toBe(0);
  });

  it('holds a level to maxParallel steps at once', async () => {
    const host = fakeHost();
    const steps = ['a', 'b', 'c', 'd', 'e'].map((id) => toolStep(id, id));
    const run = start(workflow(steps, { maxParallel: 2 }), host);
    await flush();
    expect(host.open().map((c) => c.tool)).toEqual(['a', 'b']);
    host.calls[0].resolve(ok({}));
    await flush();
    expect(host.open().map((c) => c.tool)).toEqual(['b', 'c']);
    for (let i = 1; i < 5; i++) {
      host.calls[i].resolve(ok({}));
      await flush();
    }
    await run.promise;
    expect(host.calls).toHaveLength(5);
    expect(run.outcome()?.result?.isError).toBeUndefined();
  });
});

describe('data flow', () => {
  it('passes a step output to a later step through templates, keeping whole-value types', async () => {
    const host = fakeHost((tool, args) =>
      tool === 'lookup' ? ok({ id: 7, tags: ['x', 'y'], name: 'seven' }) : ok({ got: args }),
    );
    const plan = workflow(
      [
        toolStep('find', 'lookup', { q: '{{.params.q}}' }),
        toolStep(
          'use',
          'record',
          {
            id: '{{.steps.find.output.id}}',
            tags: '{{.steps.find.output.tags}}',
            label: 'item {{.steps.find.output.id}}: {{.steps.find.output.name}}',
            nested: { flag: '{{eq .steps.find.status "completed"}}', list: ['{{.params.q}}', 3] },
            literal: 'plain',
            wf: '{{.workflow.id}} {{.workflow.step_count}}',
          },
          { dependsOn: ['find'] },
        ),
      ],
      { parameters: { type: 'object', properties: { q: { type: 'string' } } } },
    );
    const run = start(plan, host, { q: 'needle' });
    await run.promise;
    expect(host.calls[0].args).toEqual({ q: 'needle' });
    expect(host.calls[1].args).toEqual({
      id: 7,
      tags: ['x', 'y'],
      label: 'item 7: seven',
      nested: { flag: true, list: ['needle', 3] },
      literal: 'plain',
      wf: 'wf-1 2',
    });
  });

  it('maps a text-only result to text, text_1, image_0, resource… and exposes it as content', async () => {
    const host = fakeHost((tool, args) =>
      tool === 'mixed'
        ? {
            content: [
              { type: 'text', text: '{"a":1}' },
              { type: 'image', data: 'AAA', mimeType: 'image/png' },
              { type: 'text', text: 'second' },
              { type: 'resource', resource: { uri: 'x://1', text: 'r0' } },
              { type: 'audio', data: 'zz', mimeType: 'audio/wav' },
              { type: 'resource', resource: { uri: 'x://2', blob: 'YmxvYg==' } },
              { type: 'image', data: 'BBB', mimeType: 'image/png' },
            ],
          }
        : ok({ args }),
    );
    const plan = workflow([
      toolStep('m', 'mixed'),
      toolStep(
        'r',
        'read',
        {
          t: '{{.steps.m.output.text}}',
          parsed: '{{index (fromJson .steps.m.output.text) "a"}}',
          c: '{{.steps.m.content.text_1}}',
        },
        { dependsOn: ['m'] },
      ),
      toolStep('s', 'structured', {}, { dependsOn: ['r'] }),
      toolStep(
        'u',
        'read',
        { fromContent: '{{.steps.s.content.text}}', fromOutput: '{{.steps.s.output.args}}' },
        { dependsOn: ['s'] },
      ),
    ]);
    const run = start(plan, host);
    await run.promise;
    expect(host.calls[1].args).toEqual({ t: '{"a":1}', parsed: 1, c: 'second' });
    expect(host.calls[3].args).toEqual({ fromContent: '{"args":{}}', fromOutput: {} });
    const m = workflow([toolStep('m', 'mixed')]);
    const only = start(m, host);
    await only.promise;
    expect(only.outcome()?.result?.structuredContent).toEqual({
      text: '{"a":1}',
      text_1: 'second',
      image_0: 'AAA',
      image_1: 'BBB',
      resource: 'r0',
      resource_1: 'YmxvYg==',
    });
  });
});

describe('conditions', () => {
  it('skips a step whose condition is false, with defaultResults as its output', async () => {
    const host = fakeHost((tool, args) => ok({ tool, args }));
    const plan = workflow([
      toolStep('check', 'check'),
      toolStep(
        'maybe',
        'expensive',
        {},
        { dependsOn: ['check'], condition: '{{eq .params.mode "full"}}', defaultResults: { n: 0 } },
      ),
      toolStep(
        'always',
        'report',
        { n: '{{.steps.maybe.output.n}}', s: '{{.steps.maybe.status}}' },
        { dependsOn: ['maybe'], condition: 'TRUE' },
      ),
    ]);
    const run = start(plan, host, { mode: 'quick' });
    await run.promise;
    expect(host.calls.map((c) => c.tool)).toEqual(['check', 'report']);
    expect(host.calls[1].args).toEqual({ n: 0, s: 'skipped' });
  });

  it('fails the workflow when a condition renders neither true nor false, whatever onError says', async () => {
    const host = fakeHost(() => ok({}));
    const plan = workflow([toolStep('a', 'a', {}, { condition: '{{.params.mode}}', onError: { action: 'continue' } })]);
    const run = start(plan, host, { mode: 'yes' });
    await run.promise;
    expect(run.outcome()?.result).toEqual({
      content: [
        {
          type: 'text',
          text: 'workflow "wf" failed at step "a": the condition of step "a" must render "true" or "false", got "yes"',
        },
      ],
      isError: true,
    });
    expect(host.calls).toHaveLength(0);
  });

  it('names the argument whose template fails', async () => {
    const host = fakeHost(() => ok({}));
    const plan = workflow([toolStep('a', 'a', { deep: { list: [1, '{{index .params.xs 5}}'] } })]);
    const run = start(plan, host, { xs: [1] });
    await run.promise;
    expect(errorText(run)).toBe(
      'workflow "wf" failed at step "a": argument "deep.list[1]" of step "a": index out of range: 5 (at offset 2)',
    );
  });
});

describe('errors and retries', () => {
  it('retries with doubling delays capped at 60× the first, then succeeds', async () => {
    let failures = 9;
    const host = fakeHost(() => {
      if (failures-- > 0) throw new Error('flaky');
      return ok({ fine: true });
    });
    const plan = workflow([
      toolStep('a', 'flaky', {}, { onError: { action: 'retry', retryCount: 10, retryDelayMs: 1000 } }),
    ]);
    const run = start(plan, host);
    await host.clock.advance(10 * 60_000);
    await run.promise;
    expect(run.outcome()?.result?.structuredContent).toEqual({ fine: true });
    expect(host.calls).toHaveLength(10);
    const delays = host.clock.requested.filter((ms) => ms !== 30 * 60_000 && ms !== 5 * 60_000);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    expect(host.clock.pending).toBe(0);
  });

  it('fails the workflow when the retries run out, naming the cause and the count', async () => {
    const host = fakeHost(() => ({ content: [{ type: 'text', text: 'disk full' }], isError: true }));
    const plan = workflow([
      toolStep('save', 'write', {}, { onError: { action: 'retry', retryCount: 2, retryDelayMs: 500 } }),
    ]);
    const run = start(plan, host);
    await host.clock.advance(5_000);
    await run.promise;
    expect(host.calls).toHaveLength(3);
    expect(errorText(run)).toBe(
      'workflow "wf" failed at step "save": tool "write" returned an error: disk full (after 2 retries)',
    );
    expect(run.outcome()?.result?.isError).toBe(true);
  });

  it('onError continue records the failure, uses defaultResults and goes on', async () => {
    const host = fakeHost((tool, args) => {
      if (tool === 'broken') throw new RpcError(ERR.INTERNAL, 'backend exploded');
      return ok({ args });
    });
    const plan = workflow([
      toolStep('a', 'broken', {}, { onError: { action: 'continue' }, defaultResults: { items: [] } }),
      toolStep(
        'b',
        'next',
        { s: '{{.steps.a.status}}', e: '{{.steps.a.error}}', items: '{{.steps.a.output.items}}' },
        { dependsOn: ['a'] },
      ),
    ]);
    const run = start(plan, host);
    await run.promise;
    expect(host.calls[1].args).toEqual({ s: 'failed', e: 'tool "broken" failed: backend exploded', items: [] });
    expect(run.outcome()?.result?.isError).toBeUndefined();
  });

  it('an aborting step cancels the other calls of its level', async () => {
    const host = fakeHost();
    const plan = workflow([toolStep('a', 'a'), toolStep('b', 'b'), toolStep('c', 'c')]);
    const run = start(plan, host);
    await flush();
    host.calls[1].reject(new Error('boom'));
    await run.promise;
    expect(errorText(run)).toBe('workflow "wf" failed at step "b": tool "b" failed: boom');
    expect(host.calls.map((c) => c.cancels)).toEqual([1, 0, 1]);
    expect(host.clock.pending).toBe(0);
  });

  it('a result with isError true is a step failure', async () => {
    const host = fakeHost(() => ({ content: [], structuredContent: { error: 'quota exceeded' }, isError: true }));
    const run = start(workflow([toolStep('q', 'quota')]), host);
    await run.promise;
    expect(errorText(run)).toBe('workflow "wf" failed at step "q": tool "quota" returned an error: quota exceeded');
  });
});

describe('deadlines and cancellation', () => {
  it('a step timeout cancels the call on its child context and fails the step', async () => {
    const host = fakeHost();
    const plan = workflow([toolStep('slow', 'hang', {}, { timeoutMs: 5 * 60_000 })]);
    const run = start(plan, host);
    await host.clock.advance(5 * 60_000 - 1);
    expect(run.outcome()).toBeUndefined();
    await host.clock.advance(1);
    await run.promise;
    expect(host.calls[0].cancels).toBe(1);
    expect(host.calls[0].ctx.cancelled).toBe(true);
    expect(errorText(run)).toBe('workflow "wf" failed at step "slow": step "slow" timed out after 5m');
    expect(host.clock.pending).toBe(0);
  });

  it('a timed-out attempt is retried on a fresh child context', async () => {
    const host = fakeHost();
    const plan = workflow([
      toolStep('s', 'hang', {}, { timeoutMs: 1000, onError: { action: 'retry', retryCount: 1, retryDelayMs: 100 } }),
    ]);
    const run = start(plan, host);
    await host.clock.advance(1100);
    expect(host.calls).toHaveLength(2);
    expect(host.calls[0].ctx).not.toBe(host.calls[1].ctx);
    expect(host.calls[1].ctx.cancelled).toBeUndefined();
    host.calls[1].resolve(ok({ second: true }));
    await run.promise;
    expect(run.outcome()?.result?.structuredContent).toEqual({ second: true });
  });

  it('the workflow timeout cancels every call in flight and names a running step', async () => {
    const host = fakeHost();
    const plan = workflow([toolStep('a', 'hang'), toolStep('b', 'hang')], { timeoutMs: 60_000 });
    const run = start(plan, host);
    await host.clock.advance(60_000);
    await run.promise;
    expect(host.calls.map((c) => c.cancels)).toEqual([1, 1]);
    expect(errorText(run)).toBe('workflow "wf" failed at step "a": the workflow timed out after 1m');
    expect(host.clock.pending).toBe(0);
  });

  it('cancelling the composite call cancels its children, rejects, and restores the previous hook', async () => {
    const host = fakeHost();
    const parent = parentContext();
    let previous = 0;
    parent.ctx.onCancel = () => previous++;
    const plan = workflow([toolStep('a', 'hang'), toolStep('b', 'hang')]);
    const promise = runWorkflow(plan, {}, parent.ctx, host);
    await flush();
    cancelCall(parent.ctx);
    await expect(promise).rejects.toMatchObject({ code: ERR.CONNECTION_CLOSED });
    expect(host.calls.map((c) => c.cancels)).toEqual([1, 1]);
    expect(previous).toBe(1);
    expect(host.clock.pending).toBe(0);
  });

  it('a child context reaches the client: notify, request, principal and capabilities', async () => {
    const host = fakeHost();
    const parent = parentContext({ elicit: async () => ({ action: 'accept', content: {} }) });
    const promise = runWorkflow(workflow([toolStep('a', 'a')]), {}, parent.ctx, host);
    await flush();
    const child = host.calls[0].ctx;
    child.notify('notifications/message', { level: 'info', data: 'hi' });
    await child.request!('elicitation/create', { message: 'from backend' });
    expect(parent.notes).toEqual([{ method: 'notifications/message', params: { level: 'info', data: 'hi' } }]);
    expect(parent.requests).toEqual([{ method: 'elicitation/create', params: { message: 'from backend' } }]);
    expect(child.principal).toBe(parent.ctx.principal);
    expect(child.clientCapabilities).toBe(parent.ctx.clientCapabilities);
    host.calls[0].resolve(ok({}));
    await promise;
    expect(parent.ctx.onCancel).toBeUndefined();
  });

  it('an already-cancelled call does not start', async () => {
    const host = fakeHost();
    const parent = parentContext();
    parent.ctx.cancelled = true;
    await expect(runWorkflow(workflow([toolStep('a', 'a')]), {}, parent.ctx, host)).rejects.toBeInstanceOf(RpcError);
    expect(host.calls).toHaveLength(0);
  });
});

describe('progress', () => {
  it('sends one notification per finished step when the client sent a token', async () => {
    const host = fakeHost(() => ok({}));
    const plan = workflow([
      toolStep('a', 'a'),
      toolStep('b', 'b', {}, { condition: 'false' }),
      toolStep('c', 'c', {}, { dependsOn: ['a', 'b'] }),
    ]);
    const run = start(plan, host, {}, 'tok');
    await run.promise;
    expect(run.parent.notes).toEqual([
      {
        method: 'notifications/progress',
        params: { progressToken: 'tok', progress: 1, total: 3, message: 'step "b" skipped' },
      },
      {
        method: 'notifications/progress',
        params: { progressToken: 'tok', progress: 2, total: 3, message: 'step "a" completed' },
      },
      {
        method: 'notifications/progress',
        params: { progressToken: 'tok', progress: 3, total: 3, message: 'step "c" completed' },
      },
    ]);
    const silent = start(plan, host);
    await silent.promise;
    expect(silent.parent.notes).toEqual([]);
  });
});

describe('results', () => {
  it('wraps an output that is not an object as {result}', async () => {
    const host = fakeHost(() => ok({}));
    const plan = workflow([toolStep('a', 'a', {}, { condition: 'false', defaultResults: 'nothing' })]);
    const run = start(plan, host);
    await run.promise;
    expect(run.outcome()?.result).toEqual({
      content: [{ type: 'text', text: '{"result":"nothing"}' }],
      structuredContent: { result: 'nothing' },
    });
  });

  it('a text-only last step returns its content map', async () => {
    const host = fakeHost(() => text('hello'));
    const run = start(workflow([toolStep('a', 'a')]), host);
    await run.promise;
    expect(run.outcome()?.result?.structuredContent).toEqual({ text: 'hello' });
  });
});

describe('workflow data and messages', () => {
  it('exposes .workflow: id, RFC 3339 start time, step count, status and duration', async () => {
    const host = fakeHost((tool, args) => ok({ args }));
    const plan = workflow([
      toolStep('a', 'wait'),
      toolStep(
        'b',
        'echo',
        {
          id: '{{.workflow.id}}',
          start: '{{.workflow.start_time}}',
          n: '{{.workflow.step_count}}',
          st: '{{.workflow.status}}',
          d: '{{.workflow.duration_ms}}',
        },
        { dependsOn: ['a'] },
      ),
    ]);
    const run = start(plan, host);
    await run.promise;
    expect(host.calls[1].args).toEqual({ id: 'wf-1', start: '2023-11-14T22:13:20.000Z', n: 2, st: 'running', d: 0 });
  });

  it('the workflow timeout during a retry delay names the retrying step and clears the delay', async () => {
    const host = fakeHost(() => {
      throw new Error('down');
    });
    const plan = workflow(
      [toolStep('a', 'a', {}, { onError: { action: 'retry', retryCount: 5, retryDelayMs: 10_000 } })],
      {
        timeoutMs: 15_000,
      },
    );
    const run = start(plan, host);
    await host.clock.advance(15_000);
    await run.promise;
    expect(errorText(run)).toBe('workflow "wf" failed at step "a": the workflow timed out after 15s');
    expect(host.calls).toHaveLength(2);
    expect(host.clock.pending).toBe(0);
  });

  it('formats durations as Go prints them', () => {
    const given = [250, 1000, 1500, 15_000, 60_000, 90_000, 300_000, 1_800_000, 3_600_000, 5_400_000];
    expect(given.map(formatDuration)).toEqual([
      '250ms',
      '1s',
      '1.5s',
      '15s',
      '1m',
      '1m30s',
      '5m',
      '30m',
      '1h',
      '1h30m',
    ]);
  });
});
