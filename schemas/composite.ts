import { z } from 'zod';

/**
 * The `compositeTools[]` schema: ToolHive's workflow config (pkg/vmcp/config CompositeToolConfig and
 * WorkflowStepConfig, camelCase), strict like the rest of vmcp.yaml. Templates, limits and everything
 * that needs the pinned catalog are checked by the compiler (compiler/composite/), not here. Built by
 * a factory because the duration and annotation schemas live in vmcp.ts, which imports this file.
 */

/** The step kinds ToolHive knows. */
export const STEP_TYPES = ['tool', 'elicitation', 'forEach'] as const;

/** What an elicitation step does when the user declines or cancels. */
const elicitationResponse = z.strictObject({
  action: z
    .enum(['abort', 'continue', 'skip_remaining'])
    .default('abort')
    .meta({ description: 'abort the workflow, continue with {action}, or skip_remaining steps.' }),
});

/** Any JSON value (arguments, defaultResults, defaults). */
const json = z.unknown();

/** Builds the composite tool schema around vmcp.ts's duration and annotation schemas. */
export function compositeToolSchema(duration: z.ZodType<string>, annotations: z.ZodType) {
  const onError = z.strictObject({
    action: z
      .enum(['abort', 'continue', 'retry'])
      .default('abort')
      .meta({ description: 'abort the workflow, continue with defaultResults, or retry.' }),
    retryCount: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'Retries after the first attempt (action retry); at most 10.' }),
    retryDelay: duration
      .default('1s')
      .meta({ description: 'The first retry delay; each later one doubles, capped at 60 times this.' }),
    maxRetries: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'The older name of retryCount in ToolHive examples; read as retryCount.' }),
  });

  const common = {
    id: z.string().min(1).meta({ description: 'The step id, unique in the workflow; templates read .steps.<id>.' }),
    type: z.enum(STEP_TYPES).default('tool'),
    tool: z.string().optional().meta({ description: 'An advertised tool name, or backend.originalName.' }),
    arguments: z
      .record(z.string(), json)
      .optional()
      .meta({ description: 'Tool arguments; strings with {{ }} are templates, at any depth.' }),
    condition: z
      .string()
      .optional()
      .meta({ description: 'A template rendering true or false; false skips the step (output: defaultResults).' }),
    dependsOn: z.array(z.string()).default([]),
    onError: onError.optional(),
    timeout: duration.optional().meta({ description: 'Per attempt; default 5m (elicitation: at most 10m).' }),
    defaultResults: json
      .optional()
      .meta({ description: 'The output of the step when it is skipped or fails under onError: continue.' }),
    message: z.string().optional().meta({ description: 'Elicitation: the question (a template).' }),
    schema: z
      .record(z.string(), json)
      .optional()
      .meta({ description: 'Elicitation: the JSON Schema of the answer (at most 100 KB, depth 10).' }),
    onDecline: elicitationResponse.optional(),
    onCancel: elicitationResponse.optional(),
    collection: z.string().optional().meta({ description: 'forEach: a template rendering a JSON array.' }),
    itemVar: z
      .string()
      .optional()
      .meta({ description: 'forEach: the item is read as .forEach.<itemVar> (default item).' }),
    maxParallel: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'forEach: iterations at once (default 10, cap 50).' }),
    maxIterations: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'forEach: most items (default 100, cap 1000).' }),
  };
  // The inner step of a forEach has the same keys (ToolHive uses one type); its id is optional here.
  const innerStep = z.strictObject({ ...common, id: common.id.optional() });
  const step = z.strictObject({
    ...common,
    step: innerStep.optional().meta({ description: 'forEach: the tool step run once per item.' }),
  });

  const outputType = z.enum(['string', 'number', 'integer', 'boolean', 'object', 'array']);
  const outputProperty: z.ZodType<OutputPropertyInput> = z.lazy(() =>
    z.strictObject({
      type: outputType,
      description: z.string().optional(),
      value: z.string().optional().meta({ description: 'A template; coerced to type.' }),
      properties: z.record(z.string(), outputProperty).optional(),
      default: json.optional().meta({ description: 'Used when the value renders empty or cannot be coerced.' }),
    }),
  );

  return z.strictObject({
    name: z.string().min(1).meta({ description: 'The advertised tool name.' }),
    description: z.string(),
    parameters: z
      .record(z.string(), json)
      .optional()
      .meta({ description: 'The JSON Schema (type: object) of the arguments; defaults are applied before the run.' }),
    timeout: duration.default('30m').meta({ description: 'The whole workflow’s deadline.' }),
    steps: z.array(step),
    output: z
      .strictObject({ properties: z.record(z.string(), outputProperty), required: z.array(z.string()).optional() })
      .optional()
      .meta({ description: 'The structured result; without it, the last step’s output.' }),
    annotations: annotations.optional(),
    failureMode: z
      .enum(['abort', 'continue'])
      .optional()
      .meta({ description: 'In ToolHive examples but not in its config: no effect (set onError per step).' }),
  });
}

/** An output property as written. */
export interface OutputPropertyInput {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  description?: string;
  value?: string;
  properties?: Record<string, OutputPropertyInput>;
  default?: unknown;
}
