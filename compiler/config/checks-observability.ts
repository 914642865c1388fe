/**
 * Checks of ToolHive's `telemetry` and `audit` blocks, as vmcp implements them (issue 16). What
 * vmcp does differently from ToolHive is reported at the key: it serves /metrics on its own port
 * always, emits the MCP semantic-convention attribute names only, and writes no delegation chains.
 * Pure.
 */
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import { AUDIT_EVENT_TYPES } from '../../runtime/audit/event-fields.ts';
import type { Add } from './checks.ts';

/** The OTLP base URL of a ToolHive endpoint: `host:port[/path]`, with `insecure` choosing http. */
export function otlpBaseUrl(endpoint: string, insecure: boolean | undefined): string {
  const bare = endpoint.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return `${insecure ? 'http' : 'https'}://${bare}`;
}

/** The sampling rate as a number, or undefined when the text is not one in [0, 1]. */
export function samplingRateOf(v: number | string | undefined): number | undefined {
  if (v === undefined) return 0.05;
  const n = typeof v === 'number' ? v : Number(v.trim());
  return Number.isFinite(n) && n >= 0 && n <= 1 && !(typeof v === 'string' && v.trim() === '') ? n : undefined;
}

export function checkObservability(config: VmcpConfig, add: Add): void {
  const t = config.telemetry;
  if (t) {
    if (t.endpoint !== undefined && !t.tracingEnabled && !t.metricsEnabled)
      add(
        'BAD_VALUE',
        'telemetry.endpoint is set but tracingEnabled and metricsEnabled are both false, so nothing would be exported',
        ['telemetry', 'endpoint'],
        'set tracingEnabled: true and/or metricsEnabled: true, or remove the endpoint (ToolHive refuses this too)',
        'error',
      );
    if ((t.tracingEnabled || t.metricsEnabled) && !t.endpoint)
      add(
        'MISSING_KEY',
        'telemetry: tracing or metrics are enabled but no endpoint is set',
        ['telemetry'],
        'add endpoint: <collector host>:4318 (OTLP/HTTP), with insecure: true for plain http',
        'error',
      );
    if (samplingRateOf(t.samplingRate) === undefined)
      add(
        'BAD_VALUE',
        `telemetry.samplingRate ${JSON.stringify(t.samplingRate)} is not a ratio between 0 and 1`,
        ['telemetry', 'samplingRate'],
        'write a number such as 0.05 (5% of new traces) or 1.0 (all)',
        'error',
      );
    if (t.enablePrometheusMetricsPath === false)
      add(
        'UNSUPPORTED',
        'telemetry.enablePrometheusMetricsPath: false has no effect; vmcp always serves Prometheus metrics at /metrics',
        ['telemetry', 'enablePrometheusMetricsPath'],
        'remove the key; restrict /metrics at the network if it must not be reachable',
        'warning',
        'key',
      );
    if (t.metricsOnTransportPort === false)
      add(
        'UNSUPPORTED',
        'telemetry.metricsOnTransportPort: false has no effect; vmcp serves /metrics on the same port as /mcp',
        ['telemetry', 'metricsOnTransportPort'],
        'remove the key',
        'warning',
        'key',
      );
    if (t.prometheusPort !== undefined)
      add(
        'UNSUPPORTED',
        'telemetry.prometheusPort: vmcp serves /metrics on the gateway port, not a port of its own',
        ['telemetry', 'prometheusPort'],
        'scrape http://<gateway>/metrics and remove prometheusPort',
        'warning',
        'key',
      );
    if (t.useLegacyAttributes === true)
      add(
        'UNSUPPORTED',
        "telemetry.useLegacyAttributes: vmcp emits only the OpenTelemetry MCP semantic-convention attribute names, not ToolHive's legacy ones",
        ['telemetry', 'useLegacyAttributes'],
        'move dashboards to the semantic-convention names (mcp.method.name, gen_ai.tool.name, …) and remove the key',
        'warning',
        'key',
      );
  }
  const a = config.audit;
  if (a) {
    for (const k of ['eventTypes', 'excludeEventTypes'] as const)
      (a[k] ?? []).forEach((type, i) => {
        if (!AUDIT_EVENT_TYPES.includes(type))
          add(
            'BAD_ENUM',
            `audit.${k}[${i}]: unknown event type "${type}"`,
            ['audit', k, i],
            `use one of ${AUDIT_EVENT_TYPES.join(', ')}`,
            'error',
          );
      });
    if (a.maxDataSize !== undefined && a.maxDataSize <= 0)
      add(
        'BAD_VALUE',
        'audit.maxDataSize must be a positive number of bytes',
        ['audit', 'maxDataSize'],
        'e.g. 1024',
        'error',
      );
    if (a.maxDelegationDepth !== undefined)
      add(
        'UNSUPPORTED',
        'audit.maxDelegationDepth: vmcp does not record delegation chains (act claims) in audit events',
        ['audit', 'maxDelegationDepth'],
        'remove the key',
        'warning',
        'key',
      );
  }
}
