/**
 * The workflow engine: runs one composite call over a compiled `CompositePlan`. Steps run level by
 * level (a level's steps start together, at most `maxParallel` at once); each tool call gets a child
 * CallContext so the client's cancellation, notifications and elicitation flow through to the
 * backend, and so the engine can cancel one call on a deadline. Failures become an `isError` result
 * naming the workflow, the step and the cause; only bad arguments and cancellation reject. Every
 * timer is scheduled on the host's `Timers` and cleared when the run ends. The hot path reuses the
 * template data object (no cloning per step) and does no JSON round trips.
 *
 * Over 300 lines: one run is one state machine (levels, steps, deadlines, cancellation, records and what observers are told), kept in one class so no transition is split from the state it changes.
 */
import { type CallContext, cancelCall, cancelledError } from '../call-context.ts';
import type { Logger } from '../log.ts';
import type { Timers } from '../protocol/timers.ts';
import { runBounded } from './bounded.ts';
import { runElicitation } from './elicitation.ts';
import { formatDuration, messageOf, WorkflowError } from './errors.ts';
import { evaluateCondition, expandArguments } from './expand.ts';
import { runForEach } from './for-each.ts';
import { buildOutput } from './output.ts';
import { prepareParams } from './params.ts';
import type { Outcome } from '../observe.ts';
import type { CompositePlan, StepPlan, ToolTarget } from './plan.ts';
import type { CallPlan, RunScope, StepRecord, TemplateData } from './run-scope.ts';
import { contentToMap, failureResult, workflowResult } from './step-result.ts';
import { callWithRetry } from './tool-call.ts';

/** What the engine needs from the gateway. */
export interface WorkflowHost {
  /** Calls one tool as the caller would (routing, authorization, credentials). Resolves to the MCP CallToolResult object; throws (RpcError or Error) when the call fails. */
  callTool(target: ToolTarget, args: Record<string, unknown>, ctx: CallContext): Promise<Record<string, unknown>>;
  timers: Timers;
  /** Wall clock, ms since epoch (for .workflow.start_time / duration_ms). */
  now(): number;
  newId(): string;
  log: Logger;
}

/** Runs one composite call. Resolves to the CallToolResult object to return to the client. Throws RpcError(INVALID_PARAMS) for bad arguments; when ctx is cancelled it stops every in-flight step and rejects. */
export function runWorkflow(
  plan: CompositePlan,
  args: unknown,
  ctx: CallContext,
  host: WorkflowHost,
  progressToken?: string | number,
): Promise<Record<string, unknown>> {
  try {
    if (ctx.cancelled) return Promise.reject(cancelledError());
    const params = prepareParams(plan.name, plan.parameters, args);
    return new WorkflowRun(plan, params, ctx, host, progressToken).start();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The longest delay a timer can take. */
const MAX_DELAY = 2_147_483_647;

class WorkflowRun implements RunScope {
  readonly data: TemplateData;
  stopped = false;
  private readonly startedAt: number;
  /** Child contexts of the tool calls in flight (cancelled when the run stops). */
  readonly inFlight = new Set<CallContext>();
  private readonly timers = new Set<() => void>();
  /** Steps started and not finished, in start order (the workflow timeout names the first). */
  private readonly running = new Set<string>();
  /** When each step started (only kept when the host observes). */
  private readonly stepStarted = new Map<string, number>();
  private skipping = false;
  private progress = 0;
  private resolveRun!: (result: Record<string, unknown>) => void;
  private rejectRun!: (err: unknown) => void;
  private previousOnCancel: (() => void) | undefined;
  private readonly onParentCancel = (): void => {
    const previous = this.previousOnCancel;
    if (!this.stopped) {
      this.finish();
      this.report('error');
      this.host.log.info({ workflow: this.plan.name, workflowId: this.data.workflow.id }, 'workflow cancelled');
      this.rejectRun(cancelledError());
    }
    previous?.();
  };
  // Shared by every child context: a step's notifications and server→client requests reach the client.
  private readonly notifyParent: CallContext['notify'];
  private readonly requestParent: CallContext['request'];

  constructor(
    private readonly plan: CompositePlan,
    params: Record<string, unknown>,
    readonly ctx: CallContext,
    readonly host: WorkflowHost,
    private readonly progressToken: string | number | undefined,
  ) {
    this.startedAt = host.now();
    this.data = {
      params,
      steps: Object.create(null),
      vars: {},
      workflow: {
        id: host.newId(),
        start_time: new Date(this.startedAt).toISOString(),
        step_count: plan.steps.length,
        status: 'running',
        duration_ms: 0,
      },
    };
    this.notifyParent = (method, p) => ctx.notify(method, p);
    const request = ctx.request;
    this.requestParent = request ? (method, p) => request.call(ctx, method, p) : undefined;
  }

  start(): Promise<Record<string, unknown>> {
    const outcome = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.resolveRun = resolve;
      this.rejectRun = reject;
    });
    this.previousOnCancel = this.ctx.onCancel;
    this.ctx.onCancel = this.onParentCancel;
    const limit = this.plan.timeoutMs;
    this.after(limit, () => this.failAt(this.firstRunning(), `the workflow timed out after ${formatDuration(limit)}`));
    this.runLevels().then(
      () => this.complete(),
      (err) => this.failAt(undefined, messageOf(err)),
    );
    return outcome;
  }

  after(ms: number, fn: () => void): () => void {
    // Node fires a delay above 2^31-1 ms at once; a very long deadline is clamped to ~24.8 days instead.
    const cancel = this.host.timers.after(Math.min(ms, MAX_DELAY), () => {
      this.timers.delete(cancel);
      fn();
    });
    this.timers.add(cancel);
    return () => {
      if (this.timers.delete(cancel)) cancel();
    };
  }

  skipRemaining(): void {
    this.skipping = true;
  }

  private async runLevels(): Promise<void> {
    const { steps, levels, maxParallel } = this.plan;
    for (const level of levels) {
      if (this.stopped) return;
      if (this.skipping) {
        for (const i of level) this.record(steps[i], 'skipped', steps[i].defaultResults);
      } else if (level.length === 1) {
        await this.runStep(steps[level[0]]);
      } else {
        await runBounded(
          level.length,
          maxParallel,
          (k) => this.runStep(steps[level[k]]),
          () => this.stopped,
        );
      }
    }
  }

  /** Runs one step to its record; never rejects (a failure that aborts stops the run). */
  private async runStep(step: StepPlan): Promise<void> {
    this.running.add(step.id);
    if (this.ctx.span?.workflow) this.stepStarted.set(step.id, this.host.now());
    this.data.workflow.duration_ms = this.host.now() - this.startedAt;
    try {
      if (step.condition && !evaluateCondition(step.condition, this.data, step.id)) {
        this.record(step, 'skipped', step.defaultResults);
      } else if (step.type === 'tool') {
        const args = expandArguments(step.arguments, this.data, step.id);
        const result = await this.callTool(step, `step "${step.id}"`, args);
        if (this.stopped) return;
        const content = contentToMap(result.content);
        const structured = result.structuredContent;
        this.record(step, 'completed', structured != null ? structured : content, undefined, content);
      } else {
        const output = step.type === 'elicitation' ? await runElicitation(this, step) : await runForEach(this, step);
        if (this.stopped) return;
        this.record(step, 'completed', output);
      }
    } catch (err) {
      if (this.stopped) return;
      const cause = messageOf(err);
      if (err instanceof WorkflowError || step.onError.action !== 'continue') return this.failAt(step.id, cause);
      this.host.log.warn({ workflow: this.plan.name, step: step.id, err: cause }, 'step failed; the workflow goes on');
      this.record(step, 'failed', step.defaultResults, cause);
    } finally {
      this.running.delete(step.id);
    }
  }

  private record(
    step: StepPlan,
    status: StepRecord['status'],
    output: unknown,
    error?: string,
    content?: StepRecord['content'],
  ): void {
    this.data.steps[step.id] = { status, output, error, content };
    const span = this.ctx.span;
    if (span?.workflow) {
      const began = this.stepStarted.get(step.id);
      span.workflow({
        workflow: this.plan.name,
        step: step.id,
        outcome: status === 'failed' ? 'failure' : 'success',
        seconds: began === undefined ? 0 : (this.host.now() - began) / 1000,
        ...(error !== undefined ? { message: error } : {}),
      });
    }
    if (this.progressToken === undefined) return;
    this.ctx.notify('notifications/progress', {
      progressToken: this.progressToken,
      progress: ++this.progress,
      total: this.plan.steps.length,
      message: `step "${step.id}" ${status}`,
    });
  }

  callTool(plan: CallPlan, label: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    return callWithRetry(this, plan, label, args);
  }

  /** A context for one attempt of a step's call: the client's, with a cancel of its own. */
  childContext(): CallContext {
    const { ctx } = this;
    const child: CallContext = {
      notify: this.notifyParent,
      clientCapabilities: ctx.clientCapabilities,
      principal: ctx.principal,
      forwardHeaders: ctx.forwardHeaders,
      sessionId: ctx.sessionId,
      logLevel: ctx.logLevel,
      // Steps' upstream calls are observed as part of the composite's request (metrics, trace).
      span: ctx.span,
      requestId: ctx.requestId,
      remoteAddress: ctx.remoteAddress,
    };
    if (this.requestParent) child.request = this.requestParent;
    return child;
  }

  private firstRunning(): string | undefined {
    for (const id of this.running) return id;
    return undefined;
  }

  private complete(): void {
    if (this.stopped) return;
    const workflow = this.data.workflow;
    workflow.status = 'completed';
    workflow.duration_ms = this.host.now() - this.startedAt;
    let output: unknown;
    try {
      output = this.plan.output
        ? buildOutput(this.plan.output, this.data)
        : this.data.steps[this.plan.steps[this.plan.resultStep].id]?.output;
    } catch (err) {
      return this.failAt(undefined, `its output cannot be built: ${messageOf(err)}`);
    }
    this.finish();
    this.report('success');
    this.resolveRun(workflowResult(output));
  }

  private failAt(stepId: string | undefined, cause: string): void {
    if (this.stopped) return;
    this.data.workflow.status = 'failed';
    const text = stepId
      ? `workflow "${this.plan.name}" failed at step "${stepId}": ${cause}`
      : `workflow "${this.plan.name}" failed: ${cause}`;
    this.finish();
    this.report('failure', stepId, text);
    this.host.log.warn({ workflow: this.plan.name, workflowId: this.data.workflow.id, step: stepId }, text);
    this.resolveRun(failureResult(text));
  }

  /** Tells the observer how the run ended (and which step failed it, as a failed step). */
  private report(outcome: Outcome, failedStep?: string, message?: string): void {
    const span = this.ctx.span;
    if (!span?.workflow) return;
    const seconds = (this.host.now() - this.startedAt) / 1000;
    const why = message !== undefined ? { message } : {};
    if (failedStep !== undefined) {
      const began = this.stepStarted.get(failedStep);
      span.workflow({
        workflow: this.plan.name,
        step: failedStep,
        outcome: 'failure',
        seconds: began === undefined ? 0 : (this.host.now() - began) / 1000,
        ...why,
      });
    }
    span.workflow({ workflow: this.plan.name, outcome, seconds, ...why });
  }

  /** Ends the run: the parent's cancel hook restored, every timer cleared, every call in flight cancelled. */
  private finish(): void {
    this.stopped = true;
    if (this.ctx.onCancel === this.onParentCancel) this.ctx.onCancel = this.previousOnCancel;
    for (const cancel of [...this.timers]) cancel();
    this.timers.clear();
    const inFlight = [...this.inFlight];
    this.inFlight.clear();
    for (const child of inFlight) cancelCall(child);
  }
}
