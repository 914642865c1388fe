/**
 * One tool call of a workflow step (or forEach iteration): attempts with a deadline each, retried
 * under `onError: retry` after 1×, 2×, 4×… `retryDelayMs`, capped at 60× (ToolHive's cap; ToolHive
 * also jitters, which a deterministic engine leaves out). Each attempt runs on a fresh child context,
 * because a cancelled context cannot be reused: a deadline cancels the call there, at its backend.
 */
import { type CallContext, cancelCall } from '../call-context.ts';
import type { WorkflowHost } from './engine.ts';
import { formatDuration, messageOf } from './errors.ts';
import type { CallPlan } from './run-scope.ts';
import { toolErrorText } from './step-result.ts';

/** What a call needs of its run. */
export interface CallEnv {
  readonly host: WorkflowHost;
  readonly stopped: boolean;
  /** Child contexts in flight; the run cancels them all when it stops. */
  readonly inFlight: Set<CallContext>;
  after(ms: number, fn: () => void): () => void;
  childContext(): CallContext;
}

/** The call's result; rejects with the cause (`tool "x" failed: …`, a timeout) after the last attempt. */
export async function callWithRetry(
  env: CallEnv,
  plan: CallPlan,
  label: string,
  args: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const { action, retryCount, retryDelayMs } = plan.onError;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(env, plan, label, args);
    } catch (err) {
      if (env.stopped) throw err;
      if (action !== 'retry' || retry >= retryCount) {
        if (retry === 0) throw err;
        throw new Error(`${messageOf(err)} (after ${retry} ${retry === 1 ? 'retry' : 'retries'})`);
      }
      const delay = Math.min(retryDelayMs * 2 ** retry, 60 * retryDelayMs);
      env.host.log.warn({ step: label, err: messageOf(err), delayMs: delay }, 'workflow step failed; retrying');
      await new Promise<void>((resolve) => env.after(delay, resolve));
      if (env.stopped) throw err;
    }
  }
}

function attempt(
  env: CallEnv,
  plan: CallPlan,
  label: string,
  args: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const child = env.childContext();
  return new Promise((resolve, reject) => {
    let done = false;
    const settle = (): boolean => {
      if (done) return false;
      done = true;
      clear();
      env.inFlight.delete(child);
      return true;
    };
    const clear = env.after(plan.timeoutMs, () => {
      if (!settle()) return;
      cancelCall(child);
      reject(new Error(`${label} timed out after ${formatDuration(plan.timeoutMs)}`));
    });
    env.inFlight.add(child);
    let call: Promise<Record<string, unknown>>;
    try {
      call = env.host.callTool(plan, args, child);
    } catch (err) {
      call = Promise.reject(err);
    }
    call.then(
      (result) => {
        if (!settle()) return;
        if (result === null || typeof result !== 'object') reject(new Error(`tool "${plan.tool}" returned no result`));
        else if (result.isError === true)
          reject(new Error(`tool "${plan.tool}" returned an error: ${toolErrorText(result)}`));
        else resolve(result);
      },
      (err) => {
        if (settle()) reject(new Error(`tool "${plan.tool}" failed: ${messageOf(err)}`));
      },
    );
  });
}
