/**
 * Test doubles for the workflow engine: a hand-driven clock (Timers + now), a host whose tool calls
 * are answered by the test (each call a deferred, or a scripted answer), and plan builders that
 * parse templates with the compiler's parser so tests read like workflow files.
 */
import { parseTemplate } from '../../../compiler/composite/template-parse.ts';
import type { CallContext } from '../../../runtime/call-context.ts';
import type { WorkflowHost } from '../../../runtime/composite/engine.ts';
import type {
  CompositePlan,
  ElicitationStepPlan,
  Expansion,
  ForEachStepPlan,
  OnErrorPlan,
  StepPlan,
  ToolStepPlan,
} from '../../../runtime/composite/plan.ts';
import type { Logger } from '../../../runtime/log.ts';
import type { Timers } from '../../../runtime/protocol/timers.ts';

/** A clock that moves only when the test says so. */
export class FakeClock implements Timers {
  now = 1_700_000_000_000;
  /** Every delay asked for, in order. */
  readonly requested: number[] = [];
  private queue: Array<{ at: number; seq: number; fn: () => void }> = [];
  private seq = 0;

  after(ms: number, fn: () => void): () => void {
    this.requested.push(ms);
    const entry = { at: this.now + ms, seq: this.seq++, fn };
    this.queue.push(entry);
    return () => {
      this.queue = this.queue.filter((e) => e !== entry);
    };
  }

  /** Timers not yet fired nor cancelled. */
  get pending(): number {
    return this.queue.length;
  }

  /** Moves time forward, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await flush();
      const due = this.queue.filter((e) => e.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.queue = this.queue.filter((e) => e !== due);
      this.now = due.at;
      due.fn();
    }
    this.now = end;
    await flush();
  }
}

/** Lets every pending promise callback run (no real time passes). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** One tool call the host received. */
export interface FakeCall {
  tool: string;
  args: Record<string, unknown>;
  ctx: CallContext;
  resolve(result: Record<string, unknown>): void;
  reject(err: unknown): void;
  settled: boolean;
  /** How many times the engine cancelled this call's context. */
  cancels: number;
}

/** Answers a call at once (a result, or throw to fail); return undefined to leave it to the test. */
export type Script = (tool: string, args: Record<string, unknown>, n: number) => Record<string, unknown> | undefined;

export interface FakeHost extends WorkflowHost {
  clock: FakeClock;
  calls: FakeCall[];
  logs: Array<{ level: string; msg: string; fields: Record<string, unknown> }>;
  /** Calls not yet answered. */
  open(): FakeCall[];
}

export function fakeHost(script?: Script): FakeHost {
  const clock = new FakeClock();
  const calls: FakeCall[] = [];
  const logs: FakeHost['logs'] = [];
  const logger = (level: string) => (fields: Record<string, unknown>, msg: string) => logs.push({ level, msg, fields });
  const log: Logger = {
    debug: logger('debug'),
    info: logger('info'),
    warn: logger('warn'),
    error: logger('error'),
    child: () => log,
    level: 30,
  };
  let ids = 0;
  return {
    clock,
    calls,
    logs,
    timers: clock,
    log,
    now: () => clock.now,
    newId: () => `wf-${++ids}`,
    open: () => calls.filter((c) => !c.settled),
    callTool(target, args, ctx) {
      return new Promise((resolve, reject) => {
        const call: FakeCall = {
          tool: target.name,
          args,
          ctx,
          settled: false,
          cancels: 0,
          resolve: (r) => {
            call.settled = true;
            resolve(r);
          },
          reject: (e) => {
            call.settled = true;
            reject(e);
          },
        };
        // What an upstream does: it owns the child's onCancel while the call is in flight.
        ctx.onCancel = () => {
          call.cancels++;
          call.reject(new Error('request cancelled by the client'));
        };
        calls.push(call);
        if (!script) return;
        try {
          const answer = script(target.name, args, calls.filter((c) => c.tool === target.name).length);
          if (answer) call.resolve(answer);
        } catch (err) {
          call.reject(err);
        }
      });
    },
  };
}

/** A CallToolResult with structuredContent (and its JSON as text, as servers send it). */
export function ok(structured: Record<string, unknown>): Record<string, unknown> {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

/** A CallToolResult with text only. */
export function text(...texts: string[]): Record<string, unknown> {
  return { content: texts.map((t) => ({ type: 'text', text: t })) };
}

/** The client side of the composite call. */
export function parentContext(opts: { elicit?: (params: any) => Promise<unknown> } = {}) {
  const notes: Array<{ method: string; params: any }> = [];
  const requests: Array<{ method: string; params: any }> = [];
  const ctx: CallContext = {
    notify: (method, params) => notes.push({ method, params }),
    principal: { sub: 'alice' } as any,
  };
  if (opts.elicit) {
    const elicit = opts.elicit;
    ctx.clientCapabilities = { elicitation: {} };
    ctx.request = (method, params) => {
      requests.push({ method, params });
      return elicit(params);
    };
  }
  return { ctx, notes, requests };
}

/** An argument tree from a plain value: strings with `{{` are templates. */
export function expansion(v: unknown): Expansion {
  if (typeof v === 'string') return v.includes('{{') ? { tpl: parseTemplate(v) } : { lit: v };
  if (Array.isArray(v)) return { arr: v.map(expansion) };
  if (v !== null && typeof v === 'object')
    return { obj: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expansion(x)])) };
  return { lit: v };
}

const ABORT: OnErrorPlan = { action: 'abort', retryCount: 0, retryDelayMs: 1000 };
const MIN = 60_000;

type StepOpts = { dependsOn?: string[]; condition?: string; timeoutMs?: number; onError?: Partial<OnErrorPlan> };

function common(id: string, o: StepOpts & { defaultResults?: unknown }) {
  return {
    id,
    dependsOn: o.dependsOn ?? [],
    condition: o.condition === undefined ? undefined : parseTemplate(o.condition),
    timeoutMs: o.timeoutMs ?? 5 * MIN,
    onError: { ...ABORT, ...o.onError },
    defaultResults: o.defaultResults,
  };
}

export function toolStep(
  id: string,
  tool: string,
  args: unknown = {},
  o: StepOpts & { defaultResults?: unknown } = {},
): ToolStepPlan {
  return { ...common(id, o), type: 'tool', tool, backend: 0, name: tool, arguments: expansion(args) };
}

export function elicitStep(
  id: string,
  message: string,
  o: StepOpts & Partial<Pick<ElicitationStepPlan, 'onDecline' | 'onCancel' | 'schema'>> = {},
): ElicitationStepPlan {
  return {
    ...common(id, o),
    type: 'elicitation',
    message: parseTemplate(message),
    schema: o.schema ?? { type: 'object', properties: { ok: { type: 'boolean' } } },
    onDecline: o.onDecline,
    onCancel: o.onCancel,
  };
}

export function forEachStep(
  id: string,
  collection: string,
  inner: { tool: string; args: unknown; timeoutMs?: number; onError?: Partial<OnErrorPlan> },
  o: StepOpts & { itemVar?: string; maxParallel?: number; maxIterations?: number } = {},
): ForEachStepPlan {
  return {
    ...common(id, o),
    type: 'forEach',
    collection: parseTemplate(collection),
    itemVar: o.itemVar ?? 'item',
    maxParallel: o.maxParallel ?? 10,
    maxIterations: o.maxIterations ?? 100,
    step: {
      tool: inner.tool,
      backend: 0,
      name: inner.tool,
      arguments: expansion(inner.args),
      timeoutMs: inner.timeoutMs ?? 5 * MIN,
      onError: { ...ABORT, ...inner.onError },
    },
  };
}

/** A plan whose levels follow dependsOn (steps listed in an order where dependencies come first). */
export function workflow(steps: StepPlan[], extra: Partial<CompositePlan> = {}): CompositePlan {
  const level = new Map<string, number>();
  for (const s of steps) level.set(s.id, Math.max(-1, ...s.dependsOn.map((d) => level.get(d)!)) + 1);
  const levels: number[][] = [];
  steps.forEach((s, i) => {
    const l = level.get(s.id)!;
    levels[l] ??= [];
    levels[l].push(i);
  });
  return {
    name: 'wf',
    parameters: { type: 'object', properties: {} },
    timeoutMs: 30 * MIN,
    steps,
    levels,
    maxParallel: 10,
    resultStep: steps.length - 1,
    ...extra,
  };
}
