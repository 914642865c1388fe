/**
 * The parts of a step every kind shares: ToolHive's limits, timeouts, onError (retries clamped
 * as ToolHive does, with a warning), forEach caps, and the output schema a step offers to the
 * templates that read it. Pure.
 */
import type { StepConfig } from '../../schemas/vmcp.ts';
import type { OnErrorPlan } from '../../runtime/composite/plan.ts';
import { parseDuration } from '../../runtime/duration.ts';
import type { ConfigPath } from '../config/locate.ts';
import type { TemplateContext } from './compile-template.ts';
import type { ResolvedTool } from './resolve-tool.ts';
import type { SchemaLike } from './template-check.ts';

/** ToolHive's step limits. */
export const STEP_LIMITS = {
  timeoutMs: 5 * 60_000,
  elicitationMaxMs: 10 * 60_000,
  maxRetries: 10,
  retryDelayMs: 1000,
  forEachParallel: 10,
  forEachParallelCap: 50,
  forEachIterations: 100,
  forEachIterationsCap: 1000,
  schemaBytes: 100 * 1024,
  schemaDepth: 10,
} as const;

/** The inner step of a forEach, as written. */
export type InnerStep = NonNullable<StepConfig['step']>;

/** The output schema a step offers to later templates (null: unknown). */
export function stepOutputSchema(step: StepConfig, tool: ResolvedTool | undefined): SchemaLike | null {
  const declared = (tool?.pinned.outputSchema as SchemaLike | undefined) ?? null;
  if (step.type === 'tool') return declared;
  if (step.type === 'elicitation') {
    const content = (step.schema as SchemaLike | undefined) ?? {};
    return { type: 'object', properties: { action: { type: 'string' }, content }, additionalProperties: false };
  }
  const iteration: SchemaLike = {
    type: 'object',
    properties: {
      index: { type: 'integer' },
      item: {},
      status: { type: 'string' },
      output: declared ?? {},
      error: { type: 'string' },
    },
    additionalProperties: false,
  };
  return {
    type: 'object',
    properties: {
      iterations: { type: 'array', items: iteration },
      count: { type: 'integer' },
      completed: { type: 'integer' },
      failed: { type: 'integer' },
    },
    additionalProperties: false,
  };
}

/** A forEach bound: its default when unset, ToolHive's cap (with a warning) when over it. */
export function capped(
  v: number | undefined,
  dflt: number,
  cap: number,
  path: ConfigPath,
  key: string,
  ctx: TemplateContext,
): number {
  if (v === undefined) return dflt;
  if (v <= cap) return v;
  ctx.rep.at(
    'COMPOSITE_LIMIT',
    `${key} ${v} is over ToolHive's cap of ${cap}; ${cap} is used`,
    path,
    `write ${key}: ${cap} or less`,
    'warning',
  );
  return cap;
}

/** A step's timeout per attempt: 5m by default; an elicitation waits at most 10m. */
export function timeoutOf(step: StepConfig | InnerStep, path: ConfigPath, ctx: TemplateContext): number {
  const ms =
    step.timeout === undefined ? STEP_LIMITS.timeoutMs : (parseDuration(step.timeout) ?? STEP_LIMITS.timeoutMs);
  if (step.type === 'elicitation' && ms > STEP_LIMITS.elicitationMaxMs) {
    ctx.rep.at(
      'COMPOSITE_LIMIT',
      `an elicitation waits at most 10m (ToolHive's cap), not ${step.timeout}`,
      [...path, 'timeout'],
      'write timeout: 10m or less',
      'warning',
    );
    return STEP_LIMITS.elicitationMaxMs;
  }
  return ms;
}

/** onError with its defaults; retry needs a retryCount (at most 10, clamped); maxRetries is read as retryCount. */
export function onErrorOf(oe: StepConfig['onError'], path: ConfigPath, ctx: TemplateContext): OnErrorPlan {
  if (!oe) return { action: 'abort', retryCount: 0, retryDelayMs: STEP_LIMITS.retryDelayMs };
  let count = oe.retryCount;
  if (oe.maxRetries !== undefined) {
    count ??= oe.maxRetries;
    ctx.rep.at(
      'DEPRECATED_KEY',
      'onError.maxRetries is the name older ToolHive examples use; vmcp reads it as retryCount',
      [...path, 'maxRetries'],
      'rename maxRetries to retryCount',
      'warning',
      true,
    );
  }
  if (oe.action === 'retry') {
    if (!count) {
      ctx.rep.at(
        'STEP_RETRY',
        'onError.action is retry, but retryCount is missing or 0',
        [...path, 'action'],
        'add retryCount: 3 (at most 10)',
      );
    } else if (count > STEP_LIMITS.maxRetries) {
      ctx.rep.at(
        'STEP_RETRY',
        `retryCount ${count} is over ToolHive's limit of 10; 10 retries are made`,
        [...path, 'retryCount'],
        'write retryCount: 10 or less',
        'warning',
      );
      count = STEP_LIMITS.maxRetries;
    }
  }
  return {
    action: oe.action,
    retryCount: oe.action === 'retry' ? (count ?? 0) : 0,
    retryDelayMs: parseDuration(oe.retryDelay) ?? STEP_LIMITS.retryDelayMs,
  };
}

/** The nesting depth of a JSON value (an elicitation schema). */
export function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  return 1 + Math.max(0, ...Object.values(v).map(depthOf));
}
