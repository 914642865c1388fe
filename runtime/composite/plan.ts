/**
 * A composite tool as compiled: the data contract between the compiler (compiler/composite/) and the
 * workflow engine (engine.ts). Everything here is settled at compile time: step tools are resolved
 * to routes, templates are parsed into data, the DAG is cut into levels, and defaults and limits
 * are applied. The engine interprets this shape and nothing else.
 */
import type { Template } from './template-ast.ts';

/** A value with templates at any depth (step arguments). Strings without `{{` are literals. */
export type Expansion =
  | { lit: unknown }
  | { tpl: Template }
  | { obj: Record<string, Expansion> }
  | { arr: Expansion[] };

/** What a failing step does: stop the workflow, go on with `defaultResults`, or retry. */
export interface OnErrorPlan {
  action: 'abort' | 'continue' | 'retry';
  /** Retries after the first attempt (action retry; at most 10). */
  retryCount: number;
  /** The first retry's delay; each later one doubles, capped at 60 times this. */
  retryDelayMs: number;
}

/** What an elicitation step does on decline or cancel. */
export type ElicitationAction = 'abort' | 'continue' | 'skip_remaining';

/** The tool a step calls, resolved at compile time. */
export interface ToolTarget {
  /** The tool as written in the config (for messages). */
  tool: string;
  /**
   * The advertised name when the tool is advertised: the step is authorized like a direct call to
   * it. Absent for a tool hidden by `filter`, which only composites may call.
   */
  exposed?: string;
  /** Index into `CompiledGateway.backends`. */
  backend: number;
  /** The tool's name at its backend. */
  name: string;
  /** The step's arguments: an `obj` expansion (or `{ lit: {} }`). */
  arguments: Expansion;
}

interface StepCommon {
  id: string;
  dependsOn: string[];
  /** Renders to `true` or `false` (any case); false skips the step (its output: `defaultResults`). */
  condition?: Template;
  /** Per attempt (per iteration for forEach), in milliseconds. */
  timeoutMs: number;
  onError: OnErrorPlan;
  /** The step's output when it is skipped, or fails under `onError: continue`. */
  defaultResults?: unknown;
}

/** Calls one backend tool. */
export interface ToolStepPlan extends StepCommon, ToolTarget {
  type: 'tool';
}

/** Asks the user (elicitation/create) and waits for the answer. */
export interface ElicitationStepPlan extends StepCommon {
  type: 'elicitation';
  message: Template;
  /** The requested schema, sent as `requestedSchema`. */
  schema: Record<string, unknown>;
  /** Unset: a decline fails the step. */
  onDecline?: ElicitationAction;
  /** Unset: a cancel (or a timeout, or a client that cannot elicit) fails the step. */
  onCancel?: ElicitationAction;
}

/** Runs an inner tool step once per item of a collection. */
export interface ForEachStepPlan extends StepCommon {
  type: 'forEach';
  /** Renders to a JSON array (or a JSON string holding one). */
  collection: Template;
  /** The name the item is read under: `.forEach.<itemVar>`. */
  itemVar: string;
  maxParallel: number;
  maxIterations: number;
  /** The inner step; its timeout and onError apply per iteration. */
  step: ToolTarget & { timeoutMs: number; onError: OnErrorPlan };
}

export type StepPlan = ToolStepPlan | ElicitationStepPlan | ForEachStepPlan;

/** One property of the workflow's output. */
export interface OutputPropertyPlan {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  /** A template; absent for an object built from `properties`. */
  value?: Template;
  /** Nested properties of an object built field by field. */
  properties?: Record<string, OutputPropertyPlan>;
  /** Used when the value renders empty or cannot be coerced to `type`. */
  default?: unknown;
}

/** The workflow's result, built from templates and coerced to the declared types. */
export interface OutputPlan {
  properties: Record<string, OutputPropertyPlan>;
  required: string[];
}

/** One composite tool. */
export interface CompositePlan {
  /** The advertised tool name. */
  name: string;
  /** The parameters' JSON Schema (`default`s are applied before the run). */
  parameters: Record<string, unknown>;
  /** The whole workflow's deadline, in milliseconds. */
  timeoutMs: number;
  steps: StepPlan[];
  /** Indexes into `steps`, by DAG level: every step's dependencies are in earlier levels. */
  levels: number[][];
  /** Steps of one level running at once. */
  maxParallel: number;
  /** Without it, the workflow returns the output of `steps[resultStep]` (the last step written). */
  output?: OutputPlan;
  resultStep: number;
}
