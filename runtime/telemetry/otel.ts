/**
 * OpenTelemetry for the gateway (a plugin: bundled only when the config has a `telemetry` block).
 * One SERVER span per MCP request, named `{mcp.method.name} {target}`, and one CLIENT span per
 * backend call, with the OpenTelemetry MCP semantic-convention attributes and ToolHive's backend
 * attributes; workflow and step spans under a composite's request. W3C trace context comes from the
 * caller (header or `params._meta`) and goes on to every backend. OTLP/HTTP export is batched and
 * never blocks a call; a collector that cannot be reached costs one warning per minute, not an error.
 * With `metricsEnabled`, `mcp.server.operation.duration` and `mcp.client.operation.duration`
 * histograms are exported too. No global OpenTelemetry state is registered.
 */
import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  type Histogram,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { readFileSync } from 'node:fs';
import { StartupError } from '../env.ts';
import type { CompiledGateway, CompiledTelemetry, TransportKind } from '../compiled-gateway.ts';
import type { Logger } from '../log.ts';
import type { Ending, Observer, RequestSpan, RequestStart, UpstreamSpan, WorkflowEvent } from '../observe.ts';
import type { ObserverFactory } from '../plugins.ts';
import type { Json } from '../raw-json.ts';
import { isToolError } from '../tool-error.ts';

/** How often a failing exporter may warn. */
const WARN_EVERY_MS = 60_000;
/** Metric export interval. */
const METRIC_INTERVAL_MS = 15_000;

/** `${env:NAME}` references in exporter headers, resolved from the environment at start-up. */
function resolveEnv(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? '');
}

/** Reads the collector's CA bundle; a file that cannot be read stops the start with its path. */
function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new StartupError(`telemetry.caCertPath: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Wraps an exporter so a failed export is a rate-limited warning, never an error or a retry storm. */
function warnOnFailure<T extends { export(items: any, done: (r: { code: number; error?: Error }) => void): void }>(
  exporter: T,
  what: string,
  endpoint: string,
  log: Logger,
): T {
  let lastWarn = -Infinity;
  const original = exporter.export.bind(exporter);
  exporter.export = (items, done) =>
    original(items, (result) => {
      if (result.code !== ExportResultCode.SUCCESS && Date.now() - lastWarn > WARN_EVERY_MS) {
        lastWarn = Date.now();
        log.warn(
          { endpoint, error: result.error?.message },
          `telemetry: exporting ${what} to the collector failed; calls are unaffected (next warning in a minute at most)`,
        );
      }
      done(result);
    });
  return exporter;
}

/** The OTel MCP semantic-convention attributes of a request. */
function requestAttributes(s: RequestStart): Attributes {
  const a: Attributes = {
    'mcp.method.name': s.method,
    'network.transport': s.remoteAddress === undefined ? 'pipe' : 'tcp',
    'mcp.protocol.version': s.modern ? '2026-07-28' : '2025-11-25',
  };
  if (s.sessionId !== undefined) a['mcp.session.id'] = s.sessionId;
  if (s.requestId !== undefined && s.requestId !== null) a['jsonrpc.request.id'] = String(s.requestId);
  if (s.target !== undefined) {
    if (s.targetKind === 'tool' || s.targetKind === 'composite') a['gen_ai.tool.name'] = s.target;
    else if (s.targetKind === 'prompt') a['gen_ai.prompt.name'] = s.target;
    else a['mcp.resource.uri'] = s.target;
  }
  if (s.backend !== undefined) a['target.workload_name'] = s.backend;
  if (s.principal) a['enduser.id'] = s.principal.claims.sub === undefined ? '' : String(s.principal.claims.sub);
  if (s.remoteAddress !== undefined) a['client.address'] = s.remoteAddress;
  return a;
}

function endSpan(span: Span, e: Ending): void {
  if (e.outcome !== 'success') {
    span.setAttribute('error.type', e.errorType ?? e.outcome);
    span.setStatus({ code: SpanStatusCode.ERROR, ...(e.message ? { message: e.message.slice(0, 500) } : {}) });
  }
  span.end();
}

/** The W3C `traceparent` of a span (what a backend receives). */
function traceparentOf(span: Span): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 1).toString(16).padStart(2, '0')}`;
}

/** The telemetry observer: traces and (optionally) OTLP metrics. */
export class OtelObserver implements Observer {
  private readonly tracer;
  private readonly provider: BasicTracerProvider | undefined;
  private readonly meters: MeterProvider | undefined;
  private readonly serverDuration: Histogram | undefined;
  private readonly clientDuration: Histogram | undefined;
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(
    cfg: CompiledTelemetry,
    log: Logger,
    env: NodeJS.ProcessEnv = process.env,
    /** Tests inject an exporter; production exports over OTLP/HTTP. */
    spanExporter?: SpanExporter,
  ) {
    const headers = Object.fromEntries(Object.entries(cfg.headers ?? {}).map(([k, v]) => [k, resolveEnv(v, env)]));
    // ToolHive's environmentVariables: the named variables' values, read now, as attributes.
    const fromEnv: Record<string, string> = {};
    for (const name of cfg.environmentVariables ?? [])
      if (env[name] !== undefined) fromEnv[`environment.${name}`] = env[name]!;
    const resource = resourceFromAttributes({
      'service.name': cfg.serviceName,
      ...(cfg.serviceVersion ? { 'service.version': cfg.serviceVersion } : {}),
      ...fromEnv,
      ...(cfg.customAttributes ?? {}),
    });
    // A private CA for the collector, read at start-up (a missing file fails the start with its path).
    const httpAgentOptions = cfg.caCertPath ? { ca: readCa(cfg.caCertPath) } : undefined;
    const exporterOptions = (signal: string) => ({
      url: `${base}/v1/${signal}`,
      headers,
      ...(httpAgentOptions ? { httpAgentOptions } : {}),
    });
    const base = cfg.endpoint.replace(/\/+$/, '');
    if (cfg.tracingEnabled) {
      const exporter =
        spanExporter ?? warnOnFailure(new OTLPTraceExporter(exporterOptions('traces')), 'traces', base, log);
      this.provider = new BasicTracerProvider({
        resource,
        sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(cfg.samplingRate) }),
        spanProcessors: [
          // The SDK's batch of 512 spans stays: it sends one batch per collector round trip, so
          // smaller batches (128 measured 10–15 % less CPU per call) would cap a remote
          // collector's intake at a quarter (bench/README.md, "Observability").
          new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000, maxQueueSize: 4096 }),
        ],
      });
      this.tracer = this.provider.getTracer('vmcp');
    } else this.tracer = trace.getTracer('vmcp-noop');
    if (cfg.metricsEnabled) {
      const exporter = warnOnFailure(new OTLPMetricExporter(exporterOptions('metrics')), 'metrics', base, log);
      this.meters = new MeterProvider({
        resource,
        readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: METRIC_INTERVAL_MS })],
      });
      const meter = this.meters.getMeter('vmcp');
      this.serverDuration = meter.createHistogram('mcp.server.operation.duration', {
        unit: 's',
        description: 'Duration of MCP requests served by the gateway',
      });
      this.clientDuration = meter.createHistogram('mcp.client.operation.duration', {
        unit: 's',
        description: 'Duration of MCP requests the gateway made to backends',
      });
    }
  }

  request(start: RequestStart): RequestSpan {
    const carrier = { traceparent: start.traceparent, tracestate: start.tracestate };
    const parent: Context =
      start.traceparent !== undefined
        ? this.propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter)
        : ROOT_CONTEXT;
    const attributes = requestAttributes(start);
    const span = this.tracer.startSpan(
      start.target === undefined ? start.method : `${start.method} ${start.target}`,
      { kind: SpanKind.SERVER, attributes },
      parent,
    );
    const began = performance.now();
    const within = trace.setSpan(ROOT_CONTEXT, span);
    const server = this.serverDuration;
    return {
      upstream: (backend, transport, method, name) => this.upstream(within, backend, transport, method, name),
      workflow: (e) => this.workflow(within, e),
      end: (e) => {
        // MCP semantic conventions: a tool result with isError is an error of type tool_error.
        if (
          e.outcome === 'success' &&
          start.method === 'tools/call' &&
          e.result !== undefined &&
          isToolError(e.result as Json)
        )
          e = { outcome: 'failure', errorType: 'tool_error' };
        endSpan(span, e);
        server?.record((performance.now() - began) / 1000, {
          'mcp.method.name': start.method,
          ...(e.outcome !== 'success' ? { 'error.type': e.errorType ?? e.outcome } : {}),
        });
      },
    };
  }

  private upstream(
    parent: Context,
    backend: string,
    transport: TransportKind,
    method: string,
    name: string,
  ): UpstreamSpan {
    const span = this.tracer.startSpan(
      `${method} ${name}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'mcp.method.name': method,
          'target.workload_name': backend,
          'target.transport_type': transport,
          'network.transport': transport === 'stdio' ? 'pipe' : 'tcp',
          ...(method === 'tools/call' ? { 'gen_ai.tool.name': name } : {}),
        },
      },
      parent,
    );
    const began = performance.now();
    const client = this.clientDuration;
    return {
      // An unsampled span still carries the caller's trace id on (flags 00), as W3C asks.
      traceparent: traceparentOf(span),
      end: (e) => {
        endSpan(span, e);
        client?.record((performance.now() - began) / 1000, {
          'mcp.method.name': method,
          'target.workload_name': backend,
          ...(e.outcome !== 'success' ? { 'error.type': e.errorType ?? e.outcome } : {}),
        });
      },
    };
  }

  /** Workflow and step spans, written when each ends (their start is known from their length). */
  private workflow(parent: Context, e: WorkflowEvent): void {
    const startTime = performance.timeOrigin + performance.now() - e.seconds * 1000;
    const name = e.step === undefined ? `workflow ${e.workflow}` : `workflow.step ${e.step}`;
    const span = this.tracer.startSpan(
      name,
      {
        kind: SpanKind.INTERNAL,
        startTime,
        attributes: {
          'vmcp.workflow.name': e.workflow,
          ...(e.step !== undefined ? { 'vmcp.workflow.step': e.step } : {}),
          'vmcp.outcome': e.outcome,
        },
      },
      parent,
    );
    endSpan(span, { outcome: e.outcome, ...(e.message ? { message: e.message } : {}) });
  }

  async close(): Promise<void> {
    await Promise.all([this.provider?.shutdown().catch(() => {}), this.meters?.shutdown().catch(() => {})]);
  }
}

/** The plugin the generated module hands to the runtime. */
export const otelTelemetry: ObserverFactory = (gw: CompiledGateway, log: Logger) =>
  new OtelObserver(gw.telemetry!, log.child({ component: 'telemetry' }));
