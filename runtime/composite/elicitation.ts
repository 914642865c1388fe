/**
 * Elicitation steps: the rendered message and the step's schema are sent to the client as
 * `elicitation/create` on the composite call's own context, under the step's deadline. `accept`
 * gives `{action, content}`; `decline` runs `onDecline`, `cancel` and a timeout run `onCancel`, as in
 * ToolHive (`abort` fails the workflow, `continue` completes the step with `{action}`,
 * `skip_remaining` completes it with `{action, skipped: true}` and skips every later level). A
 * client that declared no elicitation capability is answered as a cancel at once, never a hang.
 */
import { formatDuration, messageOf, WorkflowError } from './errors.ts';
import { describe } from './expand.ts';
import type { ElicitationStepPlan } from './plan.ts';
import type { RunScope } from './run-scope.ts';
import { isPlainObject } from './step-result.ts';
import { evaluateTemplate, printValue } from './template-eval.ts';

/** Largest accepted answer, in characters of JSON (ToolHive's 1 MB). */
export const MAX_ELICITATION_RESPONSE = 1024 * 1024;

const TIMED_OUT: unique symbol = Symbol('timed out');

type Why = 'decline' | 'cancel' | 'timeout';

/** Runs one elicitation step to its output; rejects when the step fails. */
export async function runElicitation(run: RunScope, step: ElicitationStepPlan): Promise<unknown> {
  let message: unknown;
  try {
    message = evaluateTemplate(step.message, run.data);
  } catch (err) {
    throw new WorkflowError(`the message of step "${step.id}" failed: ${describe(err)}`);
  }
  const { ctx } = run;
  if (!ctx.request || ctx.clientCapabilities?.elicitation === undefined)
    return react(run, step, 'cancel', 'the client declared no elicitation capability');
  const params = { message: typeof message === 'string' ? message : printValue(message), requestedSchema: step.schema };
  const answer = await withDeadline(run, ctx.request('elicitation/create', params), step.timeoutMs);
  if (run.stopped) return undefined;
  if (answer === TIMED_OUT) return react(run, step, 'timeout', `no answer within ${formatDuration(step.timeoutMs)}`);
  if (!isPlainObject(answer)) throw new Error('the elicitation answer is not an object');
  switch (answer.action) {
    case 'accept': {
      const content = answer.content ?? {};
      if (JSON.stringify(content).length > MAX_ELICITATION_RESPONSE)
        throw new Error(`the elicitation answer exceeds ${MAX_ELICITATION_RESPONSE} characters`);
      return { action: 'accept', content };
    }
    case 'decline':
      return react(run, step, 'decline', 'the user declined');
    case 'cancel':
      return react(run, step, 'cancel', 'the user cancelled');
    default:
      throw new Error(`the elicitation answer has an unknown action ${JSON.stringify(answer.action)}`);
  }
}

function react(run: RunScope, step: ElicitationStepPlan, why: Why, reason: string): unknown {
  const key = why === 'decline' ? 'onDecline' : 'onCancel';
  switch (step[key]) {
    case 'abort':
      throw new WorkflowError(`${reason} at step "${step.id}" (${key}: abort)`);
    case 'continue':
      return { action: why };
    case 'skip_remaining':
      run.skipRemaining();
      return { action: why, skipped: true };
    default:
      throw new Error(`${reason}, and the step sets no ${key}`);
  }
}

// The client's answer, or TIMED_OUT. A failed request is a step failure.
function withDeadline(run: RunScope, request: Promise<unknown>, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const clear = run.after(ms, () => resolve(TIMED_OUT));
    request.then(
      (answer) => {
        clear();
        resolve(answer);
      },
      (err) => {
        clear();
        reject(new Error(`the elicitation request failed: ${messageOf(err)}`));
      },
    );
  });
}
