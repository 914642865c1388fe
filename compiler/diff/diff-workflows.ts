/**
 * What changed in composite tools' workflows between two releases. The composite's advertised
 * definition (parameters, description, output schema) is compared like any tool's; this compares
 * what the tool does: its steps, the backend tools they reach, their order and their settings. Pure.
 */
import { canonicalJson, compareStrings } from '../../runtime/canonical.ts';
import type { CompiledGateway } from '../../runtime/compiled-gateway.ts';
import type { StepPlan } from '../../runtime/composite/plan.ts';
import type { Change } from './diff.ts';

/** One step as a reviewer reads it. */
export interface WorkflowStepSurface {
  id: string;
  type: StepPlan['type'];
  /** `backend/originalName` for tool and forEach steps. */
  tool?: string;
  dependsOn: string[];
  /** Everything else about the step (arguments, condition, error handling, timeouts), canonical. */
  rest: string;
}

/** One composite tool's workflow. */
export interface WorkflowSurface {
  name: string;
  timeoutMs: number;
  steps: WorkflowStepSurface[];
  /** The output mapping, canonical ('' when the workflow returns its last step's output). */
  output: string;
}

/** The workflows of a compiled gateway, sorted by name. */
export function workflowsOf(g: CompiledGateway): WorkflowSurface[] {
  const backendName = (i: number) => g.backends[i]?.name ?? `#${i}`;
  return (g.composites ?? [])
    .map((plan) => ({
      name: plan.name,
      timeoutMs: plan.timeoutMs,
      output: plan.output ? canonicalJson(plan.output) : '',
      steps: plan.steps.map((s) => {
        const target = s.type === 'tool' ? s : s.type === 'forEach' ? s.step : undefined;
        const { id, type, dependsOn, ...rest } = s as StepPlan & Record<string, unknown>;
        for (const k of ['backend', 'name', 'tool', 'exposed']) delete (rest as Record<string, unknown>)[k];
        return {
          id,
          type,
          ...(target ? { tool: `${backendName(target.backend)}/${target.name}` } : {}),
          dependsOn: [...dependsOn].sort(compareStrings),
          rest: canonicalJson(rest),
        };
      }),
    }))
    .sort((a, b) => compareStrings(a.name, b.name));
}

/** Changes to workflows present on both sides (added and removed composites are tool changes). */
export function diffWorkflows(before: WorkflowSurface[], after: WorkflowSurface[]): Change[] {
  const out: Change[] = [];
  const afterBy = new Map(after.map((w) => [w.name, w]));
  for (const a of before) {
    const b = afterBy.get(a.name);
    if (!b) continue;
    const subject = `tool ${a.name}`;
    const push = (kind: string, cls: Change['class'], detail: string) =>
      out.push({ kind: `workflow.${kind}`, class: cls, subject, detail });
    const bSteps = new Map(b.steps.map((s) => [s.id, s]));
    const aSteps = new Map(a.steps.map((s) => [s.id, s]));
    for (const s of a.steps) {
      const n = bSteps.get(s.id);
      if (!n) {
        push('step-removed', 'risky', `step "${s.id}" removed${s.tool ? ` (called ${s.tool})` : ''}`);
        continue;
      }
      if (s.type !== n.type) push('step-type', 'risky', `step "${s.id}" is now a ${n.type} step (was ${s.type})`);
      if (s.tool !== n.tool)
        push('step-tool', 'risky', `step "${s.id}" now calls ${n.tool ?? 'no tool'} (was ${s.tool ?? 'no tool'})`);
      if (s.dependsOn.join() !== n.dependsOn.join())
        push(
          'step-order',
          'risky',
          `step "${s.id}" now depends on [${n.dependsOn.join(', ')}] (was [${s.dependsOn.join(', ')}])`,
        );
      if (s.rest !== n.rest)
        push('step-changed', 'risky', `step "${s.id}": arguments, condition, error handling or timeout changed`);
    }
    for (const n of b.steps)
      if (!aSteps.has(n.id)) push('step-added', 'risky', `step "${n.id}" added${n.tool ? ` (calls ${n.tool})` : ''}`);
    if (a.output !== b.output) push('output', 'risky', 'the output mapping changed');
    if (a.timeoutMs !== b.timeoutMs) push('timeout', 'info', `timeout ${a.timeoutMs} ms → ${b.timeoutMs} ms`);
  }
  return out;
}
