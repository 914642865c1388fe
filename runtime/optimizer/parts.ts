/** The optimizer's two tool definitions and its histograms (runtime/optimizer/optimizer.ts). */
import { CALL_TOOL, FIND_TOOL } from './names.ts';

export const FIND_TOOL_DEF = {
  name: FIND_TOOL,
  description:
    'Find the tools that can do a task. Describe the task in plain words (and optionally a few keywords); returns the best matching tools with their input schemas. Then call one with call_tool.',
  inputSchema: {
    type: 'object',
    properties: {
      tool_description: { type: 'string', description: 'What you want to do, in plain words.' },
      tool_keywords: {
        type: 'array',
        items: { type: 'string' },
        description: 'Optional keywords to narrow the search.',
      },
    },
    required: ['tool_description'],
  },
  outputSchema: {
    type: 'object',
    properties: {
      tools: { type: 'array', items: { type: 'object' } },
      token_metrics: {
        type: 'object',
        properties: {
          baseline_tokens: { type: 'integer' },
          returned_tokens: { type: 'integer' },
          savings_percent: { type: 'number' },
        },
      },
    },
    required: ['tools', 'token_metrics'],
  },
  annotations: { title: 'Find tools', readOnlyHint: true, openWorldHint: false },
};

export const CALL_TOOL_DEF = {
  name: CALL_TOOL,
  description: 'Call a tool that find_tool returned, by its name, with the parameters its input schema asks for.',
  inputSchema: {
    type: 'object',
    properties: {
      tool_name: { type: 'string', description: 'The name of the tool, as find_tool returned it.' },
      parameters: { type: 'object', description: "The tool's arguments.", additionalProperties: true },
    },
    required: ['tool_name'],
  },
  annotations: { title: 'Call a tool' },
};

/** A Prometheus histogram with fixed bounds. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const i = this.bounds.findIndex((b) => v <= b);
    if (i >= 0) this.counts[i]++;
  }
  lines(out: string[], name: string, help: string): void {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    let cumulative = 0;
    this.bounds.forEach((b, j) => out.push(`${name}_bucket{le="${b}"} ${(cumulative += this.counts[j])}`));
    out.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
  }
}

export const SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
