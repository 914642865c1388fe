/**
 * Per-request Prometheus series: requests by method, catalog item and outcome, their latency, and
 * upstream errors by type. An `Observer` fed by the router, always on (it allocates one small object
 * per request). Cardinality is bounded by the compiled catalog: an item label is only ever a name the
 * catalog has (the router leaves `target` unset otherwise), a method label only a method MCP defines.
 */
import type { Ending, Observer, RequestSpan, RequestStart, UpstreamSpan, WorkflowEvent } from '../observe.ts';

/** Latency buckets in seconds, shared by every histogram here. */
export const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Methods reported under their own name; anything else is `other` (a client picks the method). */
const METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'logging/setLevel',
  'server/discover',
  'subscriptions/listen',
]);

/** A histogram plus the count of each outcome. */
class Series {
  readonly outcomes = new Map<string, number>();
  sum = 0;
  count = 0;
  readonly buckets = BUCKETS.map(() => 0);

  observe(seconds: number, outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    this.count++;
    this.sum += seconds;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    if (i < BUCKETS.length) this.buckets[i]++;
  }
}

/** A label value escaped for the exposition format. */
export function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Writes a histogram family's samples for one label set (`labels` without braces). */
export function histogramLines(
  out: string[],
  name: string,
  labels: string,
  buckets: readonly number[],
  sum: number,
  count: number,
): void {
  let cumulative = 0;
  const sep = labels ? `${labels},` : '';
  BUCKETS.forEach((b, j) => out.push(`${name}_bucket{${sep}le="${b}"} ${(cumulative += buckets[j])}`));
  out.push(`${name}_bucket{${sep}le="+Inf"} ${count}`);
  out.push(`${name}_sum${labels ? `{${labels}}` : ''} ${sum}`);
  out.push(`${name}_count${labels ? `{${labels}}` : ''} ${count}`);
}

/** Requests, upstream errors and workflows, as Prometheus series. */
export class RequestMetrics implements Observer {
  /** Key: method \0 kind \0 name. */
  private readonly requests = new Map<string, Series>();
  /** Key: backend \0 error type. */
  private readonly upstreamErrors = new Map<string, number>();
  /** Upstream calls in flight, per backend. */
  private readonly inflight = new Map<string, number>();
  /** Key: workflow; and workflow \0 step for steps. */
  private readonly workflows = new Map<string, Series>();
  private readonly steps = new Map<string, Series>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  request(start: RequestStart): RequestSpan {
    const method = METHODS.has(start.method) ? start.method : 'other';
    const key = `${method}\u0000${start.target === undefined ? '' : (start.targetKind ?? '')}\u0000${start.target ?? ''}`;
    const began = this.now();
    let ended = false;
    return {
      upstream: (backend) => this.upstream(backend),
      workflow: (e) => this.workflow(e),
      end: (e: Ending) => {
        if (ended) return;
        ended = true;
        let s = this.requests.get(key);
        if (s === undefined) this.requests.set(key, (s = new Series()));
        s.observe((this.now() - began) / 1000, e.outcome);
      },
    };
  }

  private upstream(backend: string): UpstreamSpan {
    this.inflight.set(backend, (this.inflight.get(backend) ?? 0) + 1);
    let ended = false;
    return {
      end: (e: Ending) => {
        if (ended) return;
        ended = true;
        this.inflight.set(backend, (this.inflight.get(backend) ?? 1) - 1);
        if (e.outcome !== 'success') {
          const k = `${backend}\u0000${e.errorType ?? 'unknown'}`;
          this.upstreamErrors.set(k, (this.upstreamErrors.get(k) ?? 0) + 1);
        }
      },
    };
  }

  private workflow(e: WorkflowEvent): void {
    const table = e.step === undefined ? this.workflows : this.steps;
    const key = e.step === undefined ? e.workflow : `${e.workflow}\u0000${e.step}`;
    let s = table.get(key);
    if (s === undefined) table.set(key, (s = new Series()));
    s.observe(e.seconds, e.outcome);
  }

  /** Upstream calls in flight to `backend` right now. */
  inflightTo(backend: string): number {
    return this.inflight.get(backend) ?? 0;
  }

  /** Appends the exposition text of every family here. */
  render(out: string[]): void {
    const reqLabels = (key: string) => {
      const [method, kind, name] = key.split('\u0000');
      return `method="${labelValue(method)}",kind="${labelValue(kind)}",name="${labelValue(name)}"`;
    };
    out.push(
      '# HELP vmcp_requests_total MCP requests served, by method, catalog item and outcome.',
      '# TYPE vmcp_requests_total counter',
    );
    for (const [key, s] of this.requests)
      for (const [outcome, n] of s.outcomes)
        out.push(`vmcp_requests_total{${reqLabels(key)},outcome="${outcome}"} ${n}`);
    out.push(
      '# HELP vmcp_request_duration_seconds Time to answer an MCP request, by method and catalog item.',
      '# TYPE vmcp_request_duration_seconds histogram',
    );
    for (const [key, s] of this.requests)
      histogramLines(out, 'vmcp_request_duration_seconds', reqLabels(key), s.buckets, s.sum, s.count);
    out.push(
      '# HELP vmcp_backend_request_errors_total Upstream calls that failed, by backend and error type.',
      '# TYPE vmcp_backend_request_errors_total counter',
    );
    for (const [key, n] of this.upstreamErrors) {
      const [backend, type] = key.split('\u0000');
      out.push(`vmcp_backend_request_errors_total{backend="${labelValue(backend)}",type="${labelValue(type)}"} ${n}`);
    }
    out.push(
      '# HELP vmcp_workflow_executions_total Composite tool runs, by workflow and outcome.',
      '# TYPE vmcp_workflow_executions_total counter',
    );
    for (const [wf, s] of this.workflows)
      for (const [outcome, n] of s.outcomes)
        out.push(`vmcp_workflow_executions_total{workflow="${labelValue(wf)}",outcome="${outcome}"} ${n}`);
    out.push(
      '# HELP vmcp_workflow_duration_seconds Composite tool run time, by workflow.',
      '# TYPE vmcp_workflow_duration_seconds histogram',
    );
    for (const [wf, s] of this.workflows)
      histogramLines(out, 'vmcp_workflow_duration_seconds', `workflow="${labelValue(wf)}"`, s.buckets, s.sum, s.count);
    out.push(
      '# HELP vmcp_workflow_step_executions_total Composite tool steps, by workflow, step and outcome.',
      '# TYPE vmcp_workflow_step_executions_total counter',
    );
    for (const [key, s] of this.steps) {
      const [wf, step] = key.split('\u0000');
      for (const [outcome, n] of s.outcomes)
        out.push(
          `vmcp_workflow_step_executions_total{workflow="${labelValue(wf)}",step="${labelValue(step)}",outcome="${outcome}"} ${n}`,
        );
    }
  }
}
