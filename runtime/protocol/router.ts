/**
 * Routes downstream requests: lists from the compiled catalog, everything else to one backend
 * under its original name, with one map lookup. Results pass through without re-validation.
 * Composite tools are handed to the workflow engine, whose steps come back here to be routed and
 * authorized like direct calls.
 *
 * Over 300 lines: every method's dispatch, its authorization decision and the one upstream call path (direct calls and workflow steps alike) stay in one class, so a step can never be routed or authorized differently from a direct call.
 */
import type { Catalog } from '../catalog.ts';
import { rateLimitedError } from '../shared/rate-limited.ts';
import type { RateLimiter } from '../shared/rate-limit.ts';
import { CALL_TOOL, FIND_TOOL } from '../optimizer/names.ts';
import type { Optimizer } from '../optimizer/optimizer.ts';
import { LOG_LEVELS, type CallContext } from '../call-context.ts';
import { ERR, RpcError } from '../jsonrpc.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Authorizer, AuthzAction, AuthzResourceType, WorkflowEngine } from '../plugins.ts';
import type { CompositePlan, ToolTarget } from '../composite/plan.ts';
import type { WorkflowHost } from '../composite/engine.ts';
import type { Observer, RequestStart } from '../observe.ts';
import { SUCCESS, endingOf } from '../observers.ts';
import type { CompiledGateway, CompiledRateLimits, Route } from '../compiled-gateway.ts';
import { RawJson, type Json } from '../raw-json.ts';
import type { Backend } from '../backend/supervisor.ts';

/** The methods whose results are served from the compiled catalog. */
const LISTS: Record<string, 'tools' | 'prompts' | 'resources' | 'resourceTemplates'> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/list': 'resources',
  'resources/templates/list': 'resourceTemplates',
};
const ENVELOPE_PREFIX = 'io.modelcontextprotocol/';
/** Longest URI matched against resource templates (exact URIs of any length are looked up as usual). */
export const MAX_TEMPLATE_URI_LENGTH = 2048;
/** The level the gateway returns backends to when no session asks for one any more. */
const RESTING_LOG_LEVEL = LOG_LEVELS.indexOf('info');

/** Dispatches one request and returns its serialized `result`, or throws RpcError. */
export class Router {
  private readonly tools: Map<string, Route>;
  private readonly prompts: Map<string, Route>;
  private readonly resources: Map<string, Route>;
  private readonly templates: Array<{ re: RegExp; backend: number; uriTemplate: string }>;
  /** The most verbose log level any session asked for (index into LOG_LEVELS); undefined: none asked. */
  private upstreamLogLevel: number | undefined;
  /** Composite tools by name; empty when the config has none. */
  private readonly composites: Map<string, CompositePlan>;

  constructor(
    private readonly gw: CompiledGateway,
    private readonly backends: Backend[],
    readonly catalog: Catalog,
    private readonly metrics: Metrics,
    /** Picks the upstream for a call: the shared backend, or the caller's session-scoped one. */
    private readonly pick: (index: number, ctx: CallContext) => Backend = (i) => backends[i],
    /** The authorization policy; checked before the name is looked up, so a denial reveals nothing. */
    private readonly authz?: Authorizer,
    /** Runs composite tools: the engine and what it needs besides this router (clock, ids, log). */
    private readonly workflows?: { engine: WorkflowEngine; host: Omit<WorkflowHost, 'callTool'> },
    /** Sees every request and upstream call (metrics, tracing, audit). */
    private readonly observer?: Observer,
    /** Token buckets on tools/call (rateLimiting), taken after authorization, for tools that exist. */
    private readonly rateLimit?: { limiter: RateLimiter; limits: CompiledRateLimits },
    /** find_tool / call_tool in place of the tool list (optimizer). */
    readonly optimizer?: Optimizer,
  ) {
    const l = rateLimit?.limits;
    this.limitsUsers = !!l && (l.perUser !== undefined || Object.values(l.tools).some((t) => t.perUser !== undefined));
    this.composites = new Map((gw.composites ?? []).map((p) => [p.name, p]));
    this.tools = new Map(Object.entries(gw.tools));
    this.prompts = new Map(Object.entries(gw.prompts));
    this.resources = new Map(Object.entries(gw.resources));
    this.templates = gw.resourceTemplates.map((t) => ({
      re: new RegExp(t.pattern),
      backend: t.backend,
      uriTemplate: t.uriTemplate,
    }));
  }

  /** Handles `method`; `modern` selects 2026-07-28 result shapes (resultType, cache hints). */
  async dispatch(method: string, params: any, ctx: CallContext, modern: boolean): Promise<Json> {
    // call_tool is the real call from here on: authorization, limits, audit and metrics see the real name.
    if (this.optimizer !== undefined && method === 'tools/call' && params?.name === CALL_TOOL) {
      params = this.optimizer.unwrap(params);
      ctx.viaCallTool = true;
    }
    const observer = this.observer;
    if (observer === undefined) return this.route(method, params, ctx, modern);
    const span = observer.request(this.describe(method, params, ctx, modern));
    ctx.span = span;
    try {
      const json = await this.route(method, params, ctx, modern);
      span.end({ outcome: 'success', result: json });
      return json;
    } catch (err) {
      span.end(endingOf(err));
      throw err;
    }
  }

  /** What a request names in the catalog, for observers: only names the catalog has become labels. */
  private describe(method: string, params: any, ctx: CallContext, modern: boolean): RequestStart {
    const meta = params?._meta;
    const start: RequestStart = {
      method,
      modern,
      requestId: ctx.requestId,
      sessionId: ctx.sessionId,
      principal: ctx.principal,
      remoteAddress: ctx.remoteAddress,
      traceparent: ctx.traceparent ?? (typeof meta?.traceparent === 'string' ? meta.traceparent : undefined),
      tracestate: ctx.tracestate ?? (typeof meta?.tracestate === 'string' ? meta.tracestate : undefined),
      params,
    };
    const routed = (kind: RequestStart['targetKind'], key: string, route: Route | undefined) => {
      if (!route) return;
      start.target = key;
      start.targetKind = kind;
      start.backend = this.gw.backends[route.backend]?.name;
      start.original = route.name;
    };
    if (method === 'tools/call') {
      const name = params?.name;
      if (typeof name !== 'string') return start;
      routed('tool', name, this.tools.get(name));
      if (start.target === undefined && this.composites.has(name)) {
        start.target = name;
        start.targetKind = 'composite';
      }
    } else if (method === 'prompts/get' && typeof params?.name === 'string') {
      routed('prompt', params.name, this.prompts.get(params.name));
    } else if (method === 'resources/read' && typeof params?.uri === 'string') {
      const uri = params.uri;
      routed('resource', uri, this.resources.get(uri));
      if (start.target === undefined && uri.length <= MAX_TEMPLATE_URI_LENGTH) {
        const t = this.templates.find((x) => x.re.test(uri));
        if (t) {
          // The template, not the URI, is the label: URIs are unbounded.
          start.target = t.uriTemplate;
          start.targetKind = 'resourceTemplate';
          start.backend = this.gw.backends[t.backend]?.name;
          start.original = t.uriTemplate;
        }
      }
    }
    return start;
  }

  private async route(method: string, params: any, ctx: CallContext, modern: boolean): Promise<Json> {
    const list = LISTS[method];
    // Lists are complete in one page (no nextCursor is ever sent), so any cursor is not ours.
    if (list !== undefined && typeof params?.cursor === 'string')
      throw new RpcError(
        ERR.INVALID_PARAMS,
        `Invalid params: unknown cursor for ${method} (vmcp returns the whole list in one page)`,
      );
    if (list !== undefined) {
      if (list === 'tools' && this.optimizer) return this.optimizer.listResult(modern);
      return this.authz ? this.catalog.listFor(list, modern, ctx.principal) : this.catalog.listResult(list, modern);
    }
    // find_tool answers only with tools the caller may use: it needs no permission of its own.
    if (this.optimizer && method === 'tools/call' && params?.name === FIND_TOOL)
      return this.findTool(params, ctx, modern);
    if (this.authz) this.authorize(method, params, ctx);
    switch (method) {
      case 'tools/call': {
        const route = this.tools.get(params?.name);
        const plan = route ? undefined : this.composites.get(params?.name);
        if (!route && !plan) {
          if (ctx.viaCallTool && this.optimizer) this.optimizer.callNotFound++;
          throw new RpcError(ERR.INVALID_PARAMS, `Tool ${params?.name} not found`);
        }
        if (this.rateLimit) await this.takeToken(params.name, ctx);
        if (plan) return this.runComposite(plan, params, ctx, modern);
        if (!route) throw new RpcError(ERR.INVALID_PARAMS, `Tool ${params?.name} not found`);
        return this.forward(
          route.backend,
          'tools/call',
          'tools',
          route.name,
          { ...params, name: route.name },
          ctx,
          modern,
        );
      }
      case 'prompts/get': {
        const route = this.prompts.get(params?.name);
        if (!route) throw new RpcError(ERR.INVALID_PARAMS, `Prompt ${params?.name} not found`);
        return this.forward(
          route.backend,
          'prompts/get',
          'prompts',
          route.name,
          { ...params, name: route.name },
          ctx,
          modern,
        );
      }
      case 'resources/read': {
        const uri = params?.uri;
        const exact = this.resources.get(uri);
        if (exact)
          return this.forward(
            exact.backend,
            method,
            'resources',
            exact.name,
            { ...params, uri: exact.name },
            ctx,
            modern,
          );
        // Template regexes backtrack on long inputs: a URI no template could sensibly match is refused first.
        if (typeof uri === 'string' && uri.length > MAX_TEMPLATE_URI_LENGTH)
          throw new RpcError(
            ERR.INVALID_PARAMS,
            `Invalid params: the resource URI is ${uri.length} characters long; vmcp matches templates against URIs of at most ${MAX_TEMPLATE_URI_LENGTH}`,
            { uri: uri.slice(0, 100) },
          );
        const t = typeof uri === 'string' ? this.templates.find((x) => x.re.test(uri)) : undefined;
        if (!t) throw new RpcError(-32002, `Resource ${uri} not found`, { uri });
        return this.forward(t.backend, method, 'resourceTemplates', t.uriTemplate, { ...params }, ctx, modern);
      }
      case 'completion/complete':
        return this.complete(params, ctx, modern);
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const route = this.resources.get(params?.uri);
        if (!route) throw new RpcError(-32002, `Resource ${params?.uri} not found`);
        return this.forward(
          route.backend,
          method,
          'resources',
          route.name,
          { ...params, uri: route.name },
          ctx,
          modern,
        );
      }
      case 'ping':
        return modern ? '{"resultType":"complete"}' : '{}';
      default:
        throw new RpcError(ERR.METHOD_NOT_FOUND, `Method not found: ${method}`);
    }
  }

  /** find_tool: the optimizer's ranking, cut to what this caller may see. */
  private async findTool(params: any, ctx: CallContext, modern: boolean): Promise<Json> {
    const found = await this.optimizer!.find(params?.arguments, this.catalog.visibleToolNames(ctx.principal));
    const result: Record<string, unknown> = {
      content: [{ type: 'text', text: JSON.stringify(found) }],
      structuredContent: found,
    };
    if (modern) result.resultType = 'complete';
    return JSON.stringify(result);
  }

  /** Calls refused by a rate limit, by exposed tool and refusing bucket (bounded by the catalog). */
  readonly rateLimited = new Map<string, number>();
  /** True when some bucket is per caller: only then is the caller's key passed on. */
  private readonly limitsUsers: boolean;

  /** Takes a token for a call of `tool`, or throws ToolHive's rate-limit error (-32029, HTTP 429). */
  private async takeToken(tool: string, ctx: CallContext): Promise<void> {
    const taken = this.rateLimit!.limiter.take(tool, this.limitsUsers ? ctx.principal?.key : undefined);
    const refusal = taken instanceof Promise ? await taken : taken;
    if (!refusal) return;
    const key = `${tool}\u0000${refusal.scope}`;
    this.rateLimited.set(key, (this.rateLimited.get(key) ?? 0) + 1);
    throw rateLimitedError(refusal, tool);
  }

  /**
   * Runs a composite tool. The caller was authorized for the composite above; each step that calls an
   * advertised tool is authorized again, as a direct call to it would be, so a workflow never lets a
   * caller do what it could not do itself. A tool hidden by `filter` has no advertised name: only
   * composites reach it, and the composite's permission governs it.
   */
  private async runComposite(plan: CompositePlan, params: any, ctx: CallContext, modern: boolean): Promise<Json> {
    const wf = this.workflows;
    if (!wf) throw new RpcError(ERR.INTERNAL, `composite tool ${plan.name}: the bundle has no workflow engine`);
    const host: WorkflowHost = {
      ...wf.host,
      callTool: (target, args, stepCtx) => this.callStep(target, args, stepCtx),
    };
    const result = await wf.engine(plan, params?.arguments ?? {}, ctx, host, params?._meta?.progressToken);
    if (modern && result.resultType === undefined) result.resultType = 'complete';
    return JSON.stringify(result);
  }

  /** One workflow step: authorized and routed like a direct `tools/call`, with the caller's context. */
  private async callStep(target: ToolTarget, args: Record<string, unknown>, ctx: CallContext): Promise<any> {
    if (this.authz && target.exposed !== undefined)
      this.authorize('tools/call', { name: target.exposed, arguments: args }, ctx);
    const result = await this.upstream(
      target.backend,
      'tools/call',
      'tools',
      target.name,
      { name: target.name, arguments: args },
      ctx,
    );
    return result instanceof RawJson ? result.parse() : (result ?? {});
  }

  /** Throws FORBIDDEN unless the policy allows this call; unknown names are judged like known ones. */
  private authorize(method: string, params: any, ctx: CallContext): void {
    let action: AuthzAction;
    let type: AuthzResourceType;
    let id: unknown;
    let args: Record<string, unknown> | undefined;
    if (method === 'tools/call') [action, type, id, args] = ['call_tool', 'Tool', params?.name, params?.arguments];
    else if (method === 'prompts/get')
      [action, type, id, args] = ['get_prompt', 'Prompt', params?.name, params?.arguments];
    else if (method === 'resources/read' || method === 'resources/subscribe' || method === 'resources/unsubscribe')
      [action, type, id] = ['read_resource', 'Resource', params?.uri];
    else if (method === 'completion/complete' && params?.ref?.type === 'ref/prompt')
      [action, type, id] = ['get_prompt', 'Prompt', params.ref.name];
    else if (method === 'completion/complete' && params?.ref?.type === 'ref/resource')
      [action, type, id] = ['read_resource', 'Resource', params.ref.uri];
    else return;
    if (typeof id !== 'string') return; // malformed: the handler below answers with the protocol's error
    const a = args !== null && typeof args === 'object' && !Array.isArray(args) ? args : undefined;
    if (!this.authz!.isAllowed(ctx.principal, action, type, id, a)) {
      throw new RpcError(
        ERR.FORBIDDEN,
        `Forbidden: the authorization policy does not allow ${action} on ${type} "${id}"`,
      );
    }
  }

  /** Records a session's level; when the most verbose wanted level changes, fans it out upstream. */
  setUpstreamLogLevel(levels: Iterable<number>): void {
    let min: number | undefined;
    for (const l of levels) if (min === undefined || l < min) min = l;
    // The last session that asked for a level is gone: relax backends we made verbose back to info.
    if (min === undefined && this.upstreamLogLevel !== undefined) min = RESTING_LOG_LEVEL;
    if (min === undefined || min === this.upstreamLogLevel) return;
    this.upstreamLogLevel = min;
    for (const b of this.backends) {
      if (b.state === 'ready' && b.capabilities.logging)
        b.call('logging/setLevel', { level: LOG_LEVELS[min] }).catch(() => {});
    }
  }

  /** Re-sends the wanted log level to a backend that (re)connected. */
  replayLogLevel(b: Backend): void {
    if (this.upstreamLogLevel !== undefined && b.capabilities.logging)
      b.call('logging/setLevel', { level: LOG_LEVELS[this.upstreamLogLevel] }).catch(() => {});
  }

  private complete(params: any, ctx: CallContext, modern: boolean): Promise<Json> {
    const ref = params?.ref;
    if (ref?.type === 'ref/prompt') {
      const route = this.prompts.get(ref.name);
      if (!route) throw new RpcError(ERR.INVALID_PARAMS, `Prompt ${ref.name} not found`);
      return this.forward(
        route.backend,
        'completion/complete',
        'prompts',
        route.name,
        { ...params, ref: { ...ref, name: route.name } },
        ctx,
        modern,
      );
    }
    if (ref?.type === 'ref/resource') {
      const t = this.gw.resourceTemplates.find((x) => x.uriTemplate === ref.uri);
      const exact = this.resources.get(ref.uri);
      const backend = t?.backend ?? exact?.backend;
      if (backend === undefined) throw new RpcError(ERR.INVALID_PARAMS, `Resource template ${ref.uri} not found`);
      return this.forward(backend, 'completion/complete', 'resourceTemplates', ref.uri, params, ctx, modern);
    }
    throw new RpcError(ERR.INVALID_PARAMS, 'completion/complete: unknown ref type');
  }

  private async forward(
    index: number,
    method: string,
    kind: string,
    name: string,
    params: any,
    ctx: CallContext,
    modern: boolean,
  ): Promise<Json> {
    let token: string | number | undefined;
    const meta = params._meta;
    if (meta !== undefined) {
      token = meta.progressToken;
      // The envelope keys are the downstream era's business; backends speak 2025-11-25.
      const upMeta: Record<string, unknown> = {};
      for (const k in meta) if (k !== 'progressToken' && !k.startsWith(ENVELOPE_PREFIX)) upMeta[k] = meta[k];
      params._meta = Object.keys(upMeta).length > 0 ? upMeta : undefined;
    }
    if (modern) {
      delete params.inputResponses;
      delete params.requestState;
    }
    const result = await this.upstream(index, method, kind, name, params, ctx, token);
    if (result instanceof RawJson) {
      // Relayed as bytes; the 2026 stamps go first, so a value the backend set itself still wins.
      if (!modern) return result;
      return result.withLeadingFields(
        method === 'resources/read'
          ? '"resultType":"complete","ttlMs":0,"cacheScope":"private"'
          : '"resultType":"complete"',
      );
    }
    if (modern && result && typeof result === 'object' && result.resultType === undefined) {
      result.resultType = 'complete';
      if (method === 'resources/read' && result.ttlMs === undefined) {
        result.ttlMs = 0;
        result.cacheScope = 'private';
      }
    }
    return JSON.stringify(result ?? {});
  }

  /** Calls the upstream of backend `index` (as picked for the caller), counting it in the metrics. */
  private async upstream(
    index: number,
    method: string,
    kind: string,
    name: string,
    params: any,
    ctx: CallContext,
    token?: string | number,
  ): Promise<any> {
    const b = this.pick(index, ctx);
    const up = ctx.span?.upstream(b.name, b.cfg.transport, method, name);
    // W3C trace context travels in params._meta (MCP's place for it; stdio has no headers).
    if (up?.traceparent !== undefined) params._meta = { ...params._meta, traceparent: up.traceparent };
    const started = performance.now();
    let failed = true;
    try {
      const result = await b.call(method, params, ctx, token, `${kind}:${name}`);
      failed = false;
      up?.end(SUCCESS);
      return result;
    } catch (err) {
      up?.end(endingOf(err));
      throw err;
    } finally {
      this.metrics.observe(index, (performance.now() - started) / 1000, failed);
    }
  }
}
