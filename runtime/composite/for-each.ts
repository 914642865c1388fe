/**
 * forEach steps: the collection renders to an array (or JSON text holding one), and the inner tool
 * step runs once per item, at most `maxParallel` at once, each iteration with its own deadline and
 * retries and `.forEach.<itemVar>` / `.forEach.index` in its template data. The output is ToolHive's
 * `{iterations: [{index, item, status, output, error}], count, completed, failed}`. A failed
 * iteration fails the step unless the step's `onError` is `continue`, which records it and goes on.
 */
import { messageOf, WorkflowError } from './errors.ts';
import { describe, expandArguments } from './expand.ts';
import type { ForEachStepPlan } from './plan.ts';
import type { RunScope, TemplateData } from './run-scope.ts';
import { runBounded } from './bounded.ts';
import { contentToMap } from './step-result.ts';
import { evaluateTemplate } from './template-eval.ts';

interface Iteration {
  index: number;
  item: unknown;
  status: 'completed' | 'failed';
  output?: unknown;
  error?: string;
}

/** Runs one forEach step to its output; rejects when the step fails. */
export async function runForEach(run: RunScope, step: ForEachStepPlan): Promise<Record<string, unknown>> {
  const items = collection(run.data, step);
  if (items.length > step.maxIterations)
    throw new Error(`the collection has ${items.length} items, more than maxIterations (${step.maxIterations})`);
  const iterations = new Array<Iteration>(items.length);
  let completed = 0;
  let failed = 0;
  const { params, steps, vars, workflow } = run.data;
  const iterate = async (index: number): Promise<void> => {
    const item = items[index];
    // A shallow scope per iteration: the shared parts are the run's own objects, not copies.
    const data: TemplateData = { params, steps, vars, workflow, forEach: { [step.itemVar]: item, index } };
    try {
      const args = expandArguments(step.step.arguments, data, step.id);
      const result = await run.callTool(step.step, `step "${step.id}" iteration ${index}`, args);
      if (run.stopped) return;
      const structured = result.structuredContent;
      iterations[index] = { index, item, status: 'completed', output: structured ?? contentToMap(result.content) };
      completed++;
    } catch (err) {
      if (run.stopped || err instanceof WorkflowError) throw err;
      iterations[index] = { index, item, status: 'failed', error: messageOf(err) };
      failed++;
      if (step.onError.action !== 'continue') throw new Error(`iteration ${index} failed: ${messageOf(err)}`);
    }
  };
  await runBounded(items.length, step.maxParallel, iterate, () => run.stopped);
  return { iterations, count: items.length, completed, failed };
}

function collection(data: TemplateData, step: ForEachStepPlan): unknown[] {
  let value: unknown;
  try {
    value = evaluateTemplate(step.collection, data);
  } catch (err) {
    throw new WorkflowError(`the collection of step "${step.id}" failed: ${describe(err)}`);
  }
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      // reported below with the text itself
    }
  }
  if (Array.isArray(value)) return value;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : JSON.stringify(value ?? null);
  throw new Error(`the collection must render a JSON array, got ${shown}`);
}
