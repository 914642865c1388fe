/** forEach steps: bounded parallelism, per-iteration data, limits and error handling. */
import { describe, expect, it } from 'vitest';
import { runWorkflow } from '../../../runtime/composite/engine.ts';
import { fakeHost, flush, forEachStep, ok, parentContext, toolStep, workflow } from './fakes.ts';

const listThenEach = (each: ReturnType<typeof forEachStep>) =>
  workflow(
    [toolStep('list', 'list'), each, toolStep('sum', 'sum', { r: '{{.steps.each.output}}' }, { dependsOn: ['each'] })],
    {
      resultStep: 1,
    },
  );

describe('forEach steps', () => {
  it('runs the inner step once per item, at most maxParallel at once, with .forEach.<itemVar> and .index', async () => {
    const host = fakeHost((tool) =>
      tool === 'list' ? ok({ pkgs: [{ n: 'a' }, { n: 'b' }, { n: 'c' }, { n: 'd' }, { n: 'e' }] }) : undefined,
    );
    const each = forEachStep(
      'each',
      '{{json .steps.list.output.pkgs}}',
      { tool: 'scan', args: { name: '{{.forEach.pkg.n}}', i: '{{.forEach.index}}', q: '{{.params.q}}' } },
      { dependsOn: ['list'], itemVar: 'pkg', maxParallel: 2 },
    );
    const parent = parentContext();
    const promise = runWorkflow(listThenEach(each), { q: 'x' }, parent.ctx, host);
    await flush();
    const scans = () => host.calls.filter((c) => c.tool === 'scan');
    expect(scans().map((c) => c.args)).toEqual([
      { name: 'a', i: 0, q: 'x' },
      { name: 'b', i: 1, q: 'x' },
    ]);
    scans()[1].resolve(ok({ vulns: 1 }));
    await flush();
    expect(host.open().map((c) => c.args.name)).toEqual(['a', 'c']);
    for (let k = 0; k < 5; k++) {
      for (const c of host.open()) c.resolve(ok({ vulns: c.args.i }));
      await flush();
      expect(host.open().filter((c) => c.tool === 'scan').length).toBeLessThanOrEqual(2);
    }
    const result = await promise;
    expect(result.structuredContent).toMatchObject({ count: 5, completed: 5, failed: 0 });
    const iterations = (result.structuredContent as any).iterations;
    expect(iterations[1]).toEqual({ index: 1, item: { n: 'b' }, status: 'completed', output: { vulns: 1 } });
    expect(iterations.map((it: any) => it.index)).toEqual([0, 1, 2, 3, 4]);
  });

  it('accepts an array value or JSON text of one, and rejects anything else', async () => {
    const host = fakeHost((tool) => (tool === 'list' ? ok({ ids: [1, 2], text: '[3]', bad: 'nope' }) : ok({})));
    for (const [collection, count] of [
      ['{{.steps.list.output.ids}}', 2],
      ['{{.steps.list.output.text}}', 1],
    ] as const) {
      const each = forEachStep('each', collection, { tool: 'scan', args: {} }, { dependsOn: ['list'] });
      const result = await runWorkflow(listThenEach(each), {}, parentContext().ctx, host);
      expect((result.structuredContent as any).count).toBe(count);
    }
    const bad = forEachStep('each', '{{.steps.list.output.bad}}', { tool: 'scan', args: {} }, { dependsOn: ['list'] });
    const result = await runWorkflow(listThenEach(bad), {}, parentContext().ctx, host);
    expect((result.content as any)[0].text).toBe(
      'workflow "wf" failed at step "each": the collection must render a JSON array, got "nope"',
    );
  });

  it('refuses a collection longer than maxIterations', async () => {
    const host = fakeHost((tool) => (tool === 'list' ? ok({ ids: [1, 2, 3, 4, 5, 6] }) : ok({})));
    const each = forEachStep(
      'each',
      '{{.steps.list.output.ids}}',
      { tool: 'scan', args: {} },
      { dependsOn: ['list'], maxIterations: 5 },
    );
    const result = await runWorkflow(listThenEach(each), {}, parentContext().ctx, host);
    expect((result.content as any)[0].text).toBe(
      'workflow "wf" failed at step "each": the collection has 6 items, more than maxIterations (5)',
    );
    expect(host.calls.filter((c) => c.tool === 'scan')).toHaveLength(0);
  });

  it('with onError continue, failed iterations are recorded and the step completes', async () => {
    const host = fakeHost((tool, args) => {
      if (tool === 'list') return ok({ ids: [1, 2, 3] });
      if (args.id === 2) return { content: [{ type: 'text', text: 'not found' }], isError: true };
      return ok({ id: args.id });
    });
    const each = forEachStep(
      'each',
      '{{.steps.list.output.ids}}',
      { tool: 'scan', args: { id: '{{.forEach.item}}' } },
      { dependsOn: ['list'], onError: { action: 'continue' } },
    );
    const result = await runWorkflow(listThenEach(each), {}, parentContext().ctx, host);
    expect(result.structuredContent).toEqual({
      iterations: [
        { index: 0, item: 1, status: 'completed', output: { id: 1 } },
        { index: 1, item: 2, status: 'failed', error: 'tool "scan" returned an error: not found' },
        { index: 2, item: 3, status: 'completed', output: { id: 3 } },
      ],
      count: 3,
      completed: 2,
      failed: 1,
    });
    expect(host.calls.at(-1)?.tool).toBe('sum');
  });

  it('an iteration failure under abort fails the step and cancels the iterations in flight', async () => {
    const host = fakeHost((tool) => (tool === 'list' ? ok({ ids: [1, 2, 3, 4] }) : undefined));
    const each = forEachStep(
      'each',
      '{{.steps.list.output.ids}}',
      { tool: 'scan', args: { id: '{{.forEach.item}}' } },
      {
        dependsOn: ['list'],
        maxParallel: 3,
      },
    );
    const promise = runWorkflow(listThenEach(each), {}, parentContext().ctx, host);
    await flush();
    host.calls[2].reject(new Error('boom'));
    const result = await promise;
    expect((result.content as any)[0].text).toBe(
      'workflow "wf" failed at step "each": iteration 1 failed: tool "scan" failed: boom',
    );
    const scans = host.calls.filter((c) => c.tool === 'scan');
    expect(scans.map((c) => [c.args.id, c.cancels])).toEqual([
      [1, 1],
      [2, 0],
      [3, 1],
    ]);
    expect(host.clock.pending).toBe(0);
  });

  it('applies the inner step timeout and retries per iteration', async () => {
    let first = true;
    const host = fakeHost((tool) => {
      if (tool === 'list') return ok({ ids: [1] });
      if (first) {
        first = false;
        return undefined; // hangs until the deadline
      }
      return ok({ retried: true });
    });
    const each = forEachStep(
      'each',
      '{{.steps.list.output.ids}}',
      { tool: 'scan', args: {}, timeoutMs: 1000, onError: { action: 'retry', retryCount: 1, retryDelayMs: 10 } },
      { dependsOn: ['list'] },
    );
    const promise = runWorkflow(listThenEach(each), {}, parentContext().ctx, host);
    await host.clock.advance(1010);
    const result = await promise;
    expect(host.calls.filter((c) => c.tool === 'scan').map((c) => c.cancels)).toEqual([1, 0]);
    expect((result.structuredContent as any).iterations[0].output).toEqual({ retried: true });
  });
});
