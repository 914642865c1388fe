/** The shapes a running workflow shares with its step helpers (elicitation.ts, for-each.ts). */
import type { CallContext } from '../call-context.ts';
import type { OnErrorPlan, ToolTarget } from './plan.ts';

/** What `.steps.<id>` holds once the step has finished. */
export interface StepRecord {
  status: 'completed' | 'failed' | 'skipped';
  output: unknown;
  /** Why the step failed (status `failed`). */
  error: string | undefined;
  /** A tool step's content array as a map (`text`, `text_1`, `image_0`, `resource`…). */
  content: Record<string, unknown> | undefined;
}

/** The data templates read: `.params`, `.steps`, `.vars`, `.workflow`, and `.forEach` in an iteration. */
export interface TemplateData {
  params: Record<string, unknown>;
  steps: Record<string, StepRecord>;
  vars: Record<string, unknown>;
  workflow: { id: string; start_time: string; step_count: number; status: string; duration_ms: number };
  forEach?: Record<string, unknown>;
}

/** A tool call with its per-attempt deadline and error handling (a tool step, or a forEach's inner step). */
export type CallPlan = ToolTarget & { timeoutMs: number; onError: OnErrorPlan };

/** What step helpers may use of the run. */
export interface RunScope {
  readonly data: TemplateData;
  /** The composite call's own context (elicitation goes to its client). */
  readonly ctx: CallContext;
  /** True once the workflow has finished, failed, timed out or been cancelled: stop quietly. */
  readonly stopped: boolean;
  /** Calls a tool with retries and a deadline per attempt; rejects with the cause when it fails. */
  callTool(plan: CallPlan, label: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Schedules on the host's timers; cleared when the run ends. Returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
  /** Marks every step of the later levels skipped (elicitation `skip_remaining`). */
  skipRemaining(): void;
}
