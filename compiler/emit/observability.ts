/**
 * ToolHive's `telemetry` and `audit` blocks compiled for the runtime: absent when the block does not
 * turn anything on, so the bundle carries no OpenTelemetry or audit code for it. Exporter header
 * values keep their `${env:NAME}` references (resolved at start-up, never stored). Pure.
 */
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import type { CompiledAudit, CompiledTelemetry } from '../../runtime/compiled-gateway.ts';
import { otlpBaseUrl, samplingRateOf } from '../config/checks-observability.ts';

/** Default bytes of request or response data an audit event keeps (ToolHive's default). */
export const DEFAULT_AUDIT_DATA_BYTES = 1024;

export function compileTelemetry(config: VmcpConfig): CompiledTelemetry | undefined {
  const t = config.telemetry;
  if (!t?.endpoint || !(t.tracingEnabled || t.metricsEnabled)) return undefined;
  return {
    endpoint: otlpBaseUrl(t.endpoint, t.insecure),
    serviceName: t.serviceName ?? config.name,
    ...(t.serviceVersion ? { serviceVersion: t.serviceVersion } : {}),
    tracingEnabled: t.tracingEnabled === true,
    metricsEnabled: t.metricsEnabled === true,
    samplingRate: samplingRateOf(t.samplingRate) ?? 0.05,
    ...(t.headers && Object.keys(t.headers).length ? { headers: t.headers } : {}),
    ...(t.customAttributes && Object.keys(t.customAttributes).length ? { customAttributes: t.customAttributes } : {}),
    ...(t.environmentVariables?.length ? { environmentVariables: t.environmentVariables } : {}),
    ...(t.caCertPath ? { caCertPath: t.caCertPath } : {}),
  };
}

export function compileAudit(config: VmcpConfig): CompiledAudit | undefined {
  const a = config.audit;
  if (!a?.enabled) return undefined;
  return {
    component: a.component ?? config.name,
    eventTypes: a.eventTypes ?? [],
    excludeEventTypes: a.excludeEventTypes ?? [],
    includeRequestData: a.includeRequestData === true,
    includeResponseData: a.includeResponseData === true,
    detectApplicationErrors: a.detectApplicationErrors === true,
    maxDataSize: a.maxDataSize ?? DEFAULT_AUDIT_DATA_BYTES,
    ...(a.logFile ? { logFile: a.logFile } : {}),
    claims: a.claims ?? [],
  };
}
