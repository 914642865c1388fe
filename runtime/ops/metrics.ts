/** Prometheus text metrics: calls, errors and a latency histogram per backend. */

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Series {
  calls: number;
  errors: number;
  sum: number;
  counts: number[];
}

/** Per-backend counters; `observe` bumps one bucket (cumulated at render) and allocates nothing. */
export class Metrics {
  private readonly series: Series[];
  startedAt = Date.now();

  constructor(private readonly names: string[]) {
    this.series = names.map(() => ({ calls: 0, errors: 0, sum: 0, counts: BUCKETS.map(() => 0) }));
  }

  /** Records one call to backend `index` that took `seconds`. */
  observe(index: number, seconds: number, failed: boolean): void {
    const s = this.series[index];
    s.calls++;
    if (failed) s.errors++;
    s.sum += seconds;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    if (i < BUCKETS.length) s.counts[i]++; // beyond the last bucket: only +Inf (= calls) counts it
  }

  /** Renders the Prometheus exposition text; `gauges` adds per-backend up/restarts values. */
  render(gauges: Array<{ up: number; restarts: number }>): string {
    const out: string[] = [
      '# HELP vmcp_backend_calls_total Calls forwarded to a backend.',
      '# TYPE vmcp_backend_calls_total counter',
    ];
    const label = (i: number) => `backend="${this.names[i].replace(/["\\\n]/g, '_')}"`;
    this.series.forEach((s, i) => out.push(`vmcp_backend_calls_total{${label(i)}} ${s.calls}`));
    out.push(
      '# HELP vmcp_backend_errors_total Forwarded calls that ended in an error.',
      '# TYPE vmcp_backend_errors_total counter',
    );
    this.series.forEach((s, i) => out.push(`vmcp_backend_errors_total{${label(i)}} ${s.errors}`));
    out.push(
      '# HELP vmcp_backend_call_duration_seconds Latency of forwarded calls.',
      '# TYPE vmcp_backend_call_duration_seconds histogram',
    );
    this.series.forEach((s, i) => {
      let cumulative = 0;
      BUCKETS.forEach((b, j) =>
        out.push(`vmcp_backend_call_duration_seconds_bucket{${label(i)},le="${b}"} ${(cumulative += s.counts[j])}`),
      );
      out.push(`vmcp_backend_call_duration_seconds_bucket{${label(i)},le="+Inf"} ${s.calls}`);
      out.push(`vmcp_backend_call_duration_seconds_sum{${label(i)}} ${s.sum}`);
      out.push(`vmcp_backend_call_duration_seconds_count{${label(i)}} ${s.calls}`);
    });
    out.push('# HELP vmcp_backend_up 1 when the backend is connected and healthy.', '# TYPE vmcp_backend_up gauge');
    gauges.forEach((g, i) => out.push(`vmcp_backend_up{${label(i)}} ${g.up}`));
    out.push(
      '# HELP vmcp_backend_restarts_total Reconnects and child restarts.',
      '# TYPE vmcp_backend_restarts_total counter',
    );
    gauges.forEach((g, i) => out.push(`vmcp_backend_restarts_total{${label(i)}} ${g.restarts}`));
    out.push(
      '# HELP vmcp_uptime_seconds Seconds since start.',
      '# TYPE vmcp_uptime_seconds gauge',
      `vmcp_uptime_seconds ${(Date.now() - this.startedAt) / 1000}`,
    );
    return `${out.join('\n')}\n`;
  }
}
