/** `vmcp diff` on composite tools' workflows: what a reviewer is told when a workflow's steps change. */
import { describe, expect, it } from 'vitest';
import { diffWorkflows, workflowsOf } from '../../../compiler/diff/diff-workflows.ts';
import type { CompiledGateway } from '../../../runtime/compiled-gateway.ts';
import type { CompositePlan, StepPlan } from '../../../runtime/composite/plan.ts';

const onError = { action: 'abort' as const, retryCount: 0, retryDelayMs: 1000 };
const tool = (id: string, backend: number, name: string, dependsOn: string[] = [], text = 'x'): StepPlan => ({
  type: 'tool',
  id,
  dependsOn,
  timeoutMs: 300_000,
  onError,
  tool: name,
  backend,
  name,
  arguments: { obj: { text: { lit: text } } },
});
const plan = (steps: StepPlan[], extra: Partial<CompositePlan> = {}): CompositePlan => ({
  name: 'wf',
  parameters: { type: 'object' },
  timeoutMs: 1_800_000,
  steps,
  levels: [steps.map((_, i) => i)],
  maxParallel: 10,
  resultStep: steps.length - 1,
  ...extra,
});
const gateway = (p: CompositePlan): CompiledGateway =>
  ({ backends: [{ name: 'github' }, { name: 'jira' }], composites: [p] }) as unknown as CompiledGateway;
const diff = (a: CompositePlan, b: CompositePlan) =>
  diffWorkflows(workflowsOf(gateway(a)), workflowsOf(gateway(b))).map((c) => `${c.class} ${c.kind}: ${c.detail}`);

describe('diffWorkflows', () => {
  const base = plan([tool('read', 0, 'get_issue'), tool('write', 1, 'create_ticket', ['read'])]);
  const cases: Array<[string, CompositePlan, string[]]> = [
    ['no change', base, []],
    [
      'a step added',
      plan([...base.steps, tool('notify', 1, 'comment', ['write'])]),
      ['risky workflow.step-added: step "notify" added (calls jira/comment)'],
    ],
    [
      'a step removed',
      plan([base.steps[0]]),
      ['risky workflow.step-removed: step "write" removed (called jira/create_ticket)'],
    ],
    [
      'a step calls another tool',
      plan([base.steps[0], tool('write', 0, 'create_issue', ['read'])]),
      ['risky workflow.step-tool: step "write" now calls github/create_issue (was jira/create_ticket)'],
    ],
    [
      'a step no longer waits',
      plan([base.steps[0], tool('write', 1, 'create_ticket', [])]),
      ['risky workflow.step-order: step "write" now depends on [] (was [read])'],
    ],
    [
      'arguments changed',
      plan([base.steps[0], tool('write', 1, 'create_ticket', ['read'], 'y')]),
      ['risky workflow.step-changed: step "write": arguments, condition, error handling or timeout changed'],
    ],
    [
      'timeout changed',
      plan(base.steps, { timeoutMs: 60_000 }),
      ['info workflow.timeout: timeout 1800000 ms → 60000 ms'],
    ],
    [
      'output mapping added',
      plan(base.steps, { output: { properties: { n: { type: 'integer' } }, required: [] } }),
      ['risky workflow.output: the output mapping changed'],
    ],
  ];
  for (const [what, after, want] of cases) it(what, () => expect(diff(base, after)).toEqual(want));

  it('a composite only on one side is a tool change, not a workflow change', () => {
    expect(diffWorkflows(workflowsOf(gateway(base)), [])).toEqual([]);
  });
});
