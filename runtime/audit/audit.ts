/**
 * The audit log (a plugin: bundled only when the config has an `audit` block). One JSON line per
 * audited event, in ToolHive's format (pkg/audit: `AuditEvent.LogTo` through slog's JSON handler at
 * its audit level), so the same log pipelines read both:
 *
 *   {"time":…,"level":"INFO+2","msg":"audit_event","audit_id":…,"type":"mcp_tool_call","logged_at":…,
 *    "outcome":"success","component":…,"source":{"type":"network","value":"10.0.0.7","extra":{…}},
 *    "subjects":{"user":…,"user_id":…},"target":{…},"metadata":{"extra":{"duration_ms":3,…}},"data":{…}}
 *
 * Event types are ToolHive's (`mcp_initialize`, `mcp_tool_call`, `mcp_tools_list`, …, and its vMCP
 * composer's `vmcp_workflow_*`), plus `auth_failure` and `vmcp_session_start`/`vmcp_session_end` for
 * what the front ends report. Outcomes are ToolHive's too: `success | failure | denied | error`; a
 * Cedar refusal is the request's own event with `denied`. A filtered-out event type costs a map
 * lookup and two set lookups, no JSON work. The caller's bearer token is never serialized.
 */
import { randomUUID } from 'node:crypto';
import type { CompiledAudit, CompiledGateway } from '../compiled-gateway.ts';
import type { Logger } from '../log.ts';
import type {
  Ending,
  GatewayEvent,
  Observer,
  RequestSpan,
  RequestStart,
  UpstreamSpan,
  WorkflowEvent,
} from '../observe.ts';
import type { ObserverFactory, Principal } from '../plugins.ts';
import type { Json } from '../raw-json.ts';
import {
  EVENT_TYPES,
  requestTarget,
  shortText,
  sourceOf,
  subjectsOf,
  traceIdOf,
  WORKFLOW_TYPES,
} from './event-fields.ts';
import { eventData, REDACTED } from './scrub.ts';
import { isToolError } from '../tool-error.ts';
import { AuditSink, FLUSH_MS, openAuditFile } from './sink.ts';

const NOOP_UPSTREAM: UpstreamSpan = { end() {} };
const NOOP_SPAN: RequestSpan = { upstream: () => NOOP_UPSTREAM, end() {} };

type Fields = Record<string, unknown>;

/** What an event says besides its type and outcome. */
interface EventBody {
  source: Fields;
  subjects: Record<string, string>;
  target?: Record<string, string>;
  extra?: Fields;
  /** The serialized `{request?, response?}` object. */
  data?: string;
  /** Whose token must never appear in the line. */
  principal?: Principal;
}

/** Options for tests: the clock and the audit id. */
export interface AuditClock {
  /** Wall-clock milliseconds, for `time` / `logged_at`. */
  now(): number;
  /** Monotonic milliseconds, for durations. */
  monotonic(): number;
  newId(): string;
}

const SYSTEM_CLOCK: AuditClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  newId: () => randomUUID(),
};

/** The audit observer: decides which events to write and writes each as one line to its sink. */
export class AuditLog implements Observer {
  private readonly include: ReadonlySet<string> | undefined;
  private readonly exclude: ReadonlySet<string>;
  /** True when some workflow event type is audited (a composite's request needs a span then). */
  readonly workflows: boolean;

  constructor(
    readonly cfg: CompiledAudit,
    private readonly sink: AuditSink,
    readonly clock: AuditClock = SYSTEM_CLOCK,
  ) {
    this.include = cfg.eventTypes.length > 0 ? new Set(cfg.eventTypes) : undefined;
    this.exclude = new Set(cfg.excludeEventTypes);
    this.workflows = WORKFLOW_TYPES.some((t) => this.audits(t));
  }

  /** ToolHive's `ShouldAuditEvent`: the exclusions win, then the inclusion list when there is one. */
  audits(type: string): boolean {
    return !this.exclude.has(type) && (this.include === undefined || this.include.has(type));
  }

  request(start: RequestStart): RequestSpan {
    const type = EVENT_TYPES.get(start.method) ?? 'mcp_request';
    const own = this.audits(type);
    const composite = start.targetKind === 'composite' && this.workflows;
    if (!own && !composite) return NOOP_SPAN;
    return new AuditSpan(this, start, type, own, composite);
  }

  event(e: GatewayEvent): void {
    const type =
      e.type === 'auth_failure'
        ? 'auth_failure'
        : e.type === 'session_start'
          ? 'vmcp_session_start'
          : 'vmcp_session_end';
    if (!this.audits(type)) return;
    const extra: Fields = {};
    if (e.reason !== undefined) extra.reason = shortText(e.reason);
    this.write(type, e.type === 'auth_failure' ? 'denied' : 'success', {
      source: sourceOf(e.remoteAddress, e.sessionId !== undefined ? { session_id: e.sessionId } : {}),
      subjects: subjectsOf(e.principal, this.cfg.claims),
      target: { type: 'endpoint' },
      extra,
      principal: e.principal,
    });
  }

  /** Writes one event line. */
  write(type: string, outcome: string, e: EventBody): void {
    const { target, extra, data, principal } = e;
    const at = new Date(this.clock.now()).toISOString();
    const event: Fields = {
      time: at,
      level: 'INFO+2', // slog's name for ToolHive's LevelAudit (slog.Level(2))
      msg: 'audit_event',
      audit_id: this.clock.newId(),
      type,
      logged_at: at,
      outcome,
      component: this.cfg.component,
      source: e.source,
      subjects: e.subjects,
    };
    if (target !== undefined) event.target = target;
    if (extra !== undefined) event.metadata = { extra };
    let line = JSON.stringify(event);
    if (data !== undefined) line = `${line.slice(0, -1)},"data":${data}}`;
    // Last line of defence: the caller's token never reaches the log, wherever it hid.
    const token = principal?.token;
    if (token !== undefined && token.length >= 8 && line.includes(token)) line = line.replaceAll(token, REDACTED);
    this.sink.write(`${line}\n`);
  }

  async close(): Promise<void> {
    await this.sink.close();
  }
}

/** One request being audited. */
class AuditSpan implements RequestSpan {
  private readonly began: number;
  private subjectsCache: Record<string, string> | undefined;
  private workflowId: string | undefined;
  private steps = 0;

  constructor(
    private readonly audit: AuditLog,
    private readonly start: RequestStart,
    private readonly type: string,
    private readonly own: boolean,
    composite: boolean,
  ) {
    this.began = audit.clock.monotonic();
    if (composite && audit.audits('vmcp_workflow_started')) this.workflowStarted();
  }

  upstream(): UpstreamSpan {
    return NOOP_UPSTREAM;
  }

  private subjects(): Record<string, string> {
    this.subjectsCache ??= subjectsOf(this.start.principal, this.audit.cfg.claims);
    return this.subjectsCache;
  }

  private body(target: Record<string, string>, extra: Fields, data?: string): EventBody {
    return { source: this.source(), subjects: this.subjects(), target, extra, data, principal: this.start.principal };
  }

  private source(): Fields {
    const s = this.start;
    const extra: Record<string, string> = {};
    if (s.requestId !== undefined && s.requestId !== null) extra.request_id = String(s.requestId);
    if (s.sessionId !== undefined) extra.session_id = s.sessionId;
    return sourceOf(s.remoteAddress, extra);
  }

  /** Fields every event of this request carries in `metadata.extra`. */
  private commonExtra(ms: number): Fields {
    const s = this.start;
    const extra: Fields = {
      duration_ms: ms,
      transport: s.remoteAddress !== undefined ? 'http' : 'stdio',
      mcp_version: s.modern ? '2026-07-28' : '2025-11-25',
    };
    const traceId = traceIdOf(s.traceparent);
    if (traceId !== undefined) extra.trace_id = traceId;
    return extra;
  }

  private elapsedMs(): number {
    return Math.floor(this.audit.clock.monotonic() - this.began);
  }

  end(e: Ending): void {
    if (!this.own) return;
    const s = this.start;
    const cfg = this.audit.cfg;
    const target = requestTarget(s, this.type);

    let { outcome, errorType } = e;
    const result = e.result as Json | undefined;
    if (
      cfg.detectApplicationErrors &&
      outcome === 'success' &&
      s.method === 'tools/call' &&
      result &&
      isToolError(result)
    ) {
      outcome = 'failure'; // ToolHive says `application_error`; this gateway's outcomes are the four of the issue
      errorType = 'tool_error';
    }
    const extra = this.commonExtra(this.elapsedMs());
    if (s.backend !== undefined) extra.backend_name = s.backend;
    if (errorType !== undefined) extra.error_type = errorType;
    if (e.message !== undefined && e.outcome !== 'success') extra.error_message = shortText(e.message);

    const data = eventData(cfg, s.params, result, extra);
    this.audit.write(this.type, outcome, this.body(target, extra, data));
  }

  workflow(e: WorkflowEvent): void {
    const ms = Math.round(e.seconds * 1000);
    if (e.step !== undefined) {
      const type = e.outcome === 'success' ? 'vmcp_workflow_step_completed' : 'vmcp_workflow_step_failed';
      this.steps++;
      if (!this.audit.audits(type)) return;
      const extra = this.commonExtra(ms);
      if (e.message !== undefined && e.outcome !== 'success') extra.error_message = shortText(e.message);
      const target = { workflow_id: this.idOfRun(), workflow_name: e.workflow, step_id: e.step, type: 'workflow_step' };
      this.audit.write(type, e.outcome, this.body(target, extra));
      return;
    }
    const type =
      e.outcome === 'success'
        ? 'vmcp_workflow_completed'
        : e.message?.includes('workflow timed out')
          ? 'vmcp_workflow_timed_out'
          : 'vmcp_workflow_failed';
    if (!this.audit.audits(type)) return;
    const extra = this.commonExtra(ms);
    extra.step_count = this.steps;
    if (e.message !== undefined && e.outcome !== 'success') extra.error_message = shortText(e.message);
    const target = { workflow_id: this.idOfRun(), workflow_name: e.workflow, type: 'workflow' };
    this.audit.write(type, e.outcome, this.body(target, extra));
  }

  /** ToolHive's `LogWorkflowStarted`: the workflow's arguments as request data, when opted in. */
  private workflowStarted(): void {
    const s = this.start;
    const cfg = this.audit.cfg;
    const target = { workflow_id: this.idOfRun(), workflow_name: s.target ?? '', type: 'workflow' };
    const extra = this.commonExtra(0);
    const data = eventData(
      { ...cfg, includeResponseData: false },
      (s.params as { arguments?: unknown } | undefined)?.arguments,
      undefined,
      extra,
    );
    this.audit.write('vmcp_workflow_started', 'success', this.body(target, extra, data));
  }

  /** One id for every event of this run (ToolHive's `workflow_id`). */
  private idOfRun(): string {
    this.workflowId ??= this.audit.clock.newId();
    return this.workflowId;
  }
}

/** The audit-log plugin: stderr, or `audit.logFile` opened for appending at start-up. */
export const auditLog: ObserverFactory = (gw: CompiledGateway, log: Logger): Observer => {
  const cfg = gw.audit;
  if (cfg === undefined) return { request: () => NOOP_SPAN };
  const sink =
    cfg.logFile !== undefined
      ? openAuditFile(cfg.logFile, log)
      : new AuditSink(process.stderr, log, false, undefined, FLUSH_MS);
  return new AuditLog(cfg, sink);
};
