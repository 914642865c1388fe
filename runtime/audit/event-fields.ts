/**
 * The vocabulary of an audit event, taken from ToolHive's pkg/audit (mcp_events.go, auditor.go,
 * workflow_auditor.go): event types by MCP method, target types, and how a caller becomes
 * `subjects`, where a request came from becomes `source`, and what it named becomes `target.name`.
 */
import type { RequestStart } from '../observe.ts';
import type { Principal } from '../plugins.ts';
import { isSecretKey, REDACTED, scrubString } from './scrub.ts';

type Fields = Record<string, unknown>;

/** ToolHive's event type of each MCP method (pkg/audit/auditor.go `mapMCPMethodToEventType`); others are `mcp_request`. */
export const EVENT_TYPES: ReadonlyMap<string, string> = new Map([
  ['initialize', 'mcp_initialize'],
  ['tools/call', 'mcp_tool_call'],
  ['tools/list', 'mcp_tools_list'],
  ['resources/read', 'mcp_resource_read'],
  ['resources/list', 'mcp_resources_list'],
  ['prompts/get', 'mcp_prompt_get'],
  ['prompts/list', 'mcp_prompts_list'],
  ['notifications/message', 'mcp_notification'],
  ['ping', 'mcp_ping'],
  ['logging/setLevel', 'mcp_logging'],
  ['completion/complete', 'mcp_completion'],
  ['notifications/roots/list_changed', 'mcp_roots_list_changed'],
]);

/** ToolHive's target type per event type (`extractTarget`); everything else is an `endpoint`. */
const TARGET_TYPES: ReadonlyMap<string, string> = new Map([
  ['mcp_tool_call', 'tool'],
  ['mcp_resource_read', 'resource'],
  ['mcp_prompt_get', 'prompt'],
]);

/** The `vmcp_workflow_*` event types this gateway writes (the names of ToolHive's vMCP composer). */
export const WORKFLOW_TYPES = [
  'vmcp_workflow_started',
  'vmcp_workflow_completed',
  'vmcp_workflow_failed',
  'vmcp_workflow_timed_out',
  'vmcp_workflow_step_completed',
  'vmcp_workflow_step_failed',
] as const;

/** Every event type this gateway can write: what `audit.eventTypes` and `excludeEventTypes` may name. */
export const AUDIT_EVENT_TYPES: readonly string[] = [
  ...EVENT_TYPES.values(),
  'mcp_request',
  ...WORKFLOW_TYPES,
  'auth_failure',
  'vmcp_session_start',
  'vmcp_session_end',
];

/** Longest requested name or URI, error message or reason kept in an event. */
export const MAX_TEXT = 256;

/** The subjects of an event (ToolHive's `extractSubjectsFromIdentity`, plus `iss` and the configured claims). */
export function subjectsOf(p: Principal | undefined, claims: readonly string[]): Record<string, string> {
  const s: Record<string, string> = {};
  if (p !== undefined) {
    const c = p.claims ?? {};
    if (p.sub) s.user_id = p.sub;
    const user = [c.name, c.preferred_username, c.email].find((v) => typeof v === 'string' && v !== '');
    if (user !== undefined) s.user = user as string;
    if (p.iss) s.iss = p.iss;
    for (const k of ['client_name', 'client_version'])
      if (typeof c[k] === 'string' && c[k] !== '') s[k] = c[k] as string;
    for (const k of claims) {
      const v = c[k];
      if (v === undefined || k in s) continue;
      s[k] = isSecretKey(k) ? REDACTED : scrubString(typeof v === 'string' ? v : JSON.stringify(v));
    }
  }
  if (s.user === undefined) s.user = 'anonymous';
  return s;
}

/** ToolHive's event source: the caller's address over HTTP, `local` over stdio. */
export function sourceOf(remoteAddress: string | undefined, extra: Record<string, string>): Fields {
  return remoteAddress !== undefined
    ? { type: 'network', value: remoteAddress, extra }
    : { type: 'local', value: 'stdio', extra };
}

/** The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`), when it is a valid one. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  if (traceparent === undefined) return undefined;
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/.exec(traceparent.trim());
  return m && !/^0+$/.test(m[1]) ? m[1] : undefined;
}

/** `s` cut to MAX_TEXT characters and scrubbed of credentials. */
export function shortText(s: string): string {
  return scrubString(s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);
}

/** The name or URI the client asked for (bounded), else the catalog's. */
function requestedName(start: RequestStart): string | undefined {
  const p = start.params as { name?: unknown; uri?: unknown } | undefined;
  const asked = start.method === 'resources/read' ? p?.uri : p?.name;
  if (typeof asked === 'string') return asked.length > MAX_TEXT ? `${asked.slice(0, MAX_TEXT)}…` : asked;
  return start.target;
}

/** ToolHive's target of a request (`type`, `method`, `name`), plus where vmcp routed it. */
export function requestTarget(s: RequestStart, eventType: string): Record<string, string> {
  const target: Record<string, string> = { type: TARGET_TYPES.get(eventType) ?? 'endpoint', method: s.method };
  const name = requestedName(s);
  if (name !== undefined) target.name = name;
  if (s.backend !== undefined) target.backend = s.backend;
  if (s.original !== undefined) target.original_name = s.original;
  if (s.targetKind === 'resourceTemplate' && s.target !== undefined) target.uri_template = s.target;
  if (s.targetKind === 'composite') target.composite = 'true';
  return target;
}
