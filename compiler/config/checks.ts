/** Over 300 lines: the cross-field checks share one positioned `add` and read as one table, section by section; credential checks live in checks-auth.ts. */
import type { StrategyConfig, VmcpConfig } from '../../schemas/vmcp.ts';
import { checkSharedState } from './checks-scale.ts';
import { checkOptimizerKeys } from './checks-optimizer.ts';
import { UNSUPPORTED_KEYS } from '../../schemas/vmcp.ts';
import { parseDuration } from '../../runtime/duration.ts';
import type { Diagnostic, DiagnosticCode, Severity } from '../diagnostics.ts';
import type { ResolvedBackend } from '../resolve/group.ts';
import type { ConfigPath, Locator } from './locate.ts';
import { suggest } from './suggest.ts';
import { canCheckBackendNames, checkGroupBackends } from './checks-group.ts';
import { discoversAuth, type GroupState } from '../resolve/group-state.ts';
import { checkEnvRefs, checkLiteralSecrets, checkStrategy, isLoopback, safeUrl } from './checks-auth.ts';
import { checkInertKeys } from './checks-inert.ts';
import { checkObservability } from './checks-observability.ts';
import { checkOidcExtras, checkPassthroughHeaders } from './checks-features.ts';

/** Inputs of the semantic checks, normalized once by the caller. */
export interface CheckContext {
  file: string;
  locator: Locator;
  /** The environment to check `*Env` references against. */
  env: Readonly<Record<string, string | undefined>>;
  /** `warning` for validate and compile, `error` for serve. */
  envSeverity: Severity;
  /** What is known about `groupRef`'s members (compiler/resolve/group-state.ts). */
  group?: GroupState;
}

/** Cross-field checks that the schema cannot express. Pure: no I/O. */
export function checkSemantics(
  config: VmcpConfig,
  backends: readonly ResolvedBackend[],
  ctx: CheckContext,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (
    code: DiagnosticCode,
    message: string,
    path: ConfigPath,
    hint?: string,
    severity: Severity = 'error',
    anchor: 'key' | 'value' = 'value',
  ) => {
    const s = ctx.locator.at(path, anchor);
    out.push({
      code,
      severity,
      message,
      file: ctx.file,
      line: s.line,
      column: s.column,
      endLine: s.endLine,
      endColumn: s.endColumn,
      ...(hint ? { hint } : {}),
    });
  };
  const names = backends.map((b) => b.name);
  const known = new Set(names);
  const unknownBackend = (name: string, path: ConfigPath, what: string, anchor: 'key' | 'value' = 'value') => {
    // With no backends at all, NO_BACKENDS says it once; a pending group's members are unknown yet.
    if (known.has(name) || !canCheckBackendNames(backends, ctx.group)) return;
    const guess = suggest(name, names);
    add(
      'UNKNOWN_BACKEND',
      `${what} "${name}" names no backend`,
      path,
      guess ? `did you mean "${guess}"?` : `known backends: ${names.join(', ') || '(none)'}`,
      'error',
      anchor,
    );
  };

  checkUnsupported(config, add);
  checkInertKeys(config, add);
  checkObservability(config, add);
  checkSharedState(config, add);
  checkOptimizerKeys(config, add);

  // Group: at least one backend, no duplicates.
  checkGroupBackends(config, backends, ctx.group, add);
  const seen = new Map<string, ResolvedBackend>();
  for (const b of backends) {
    const first = seen.get(b.name);
    if (first) {
      // Inline: the `name:` value; imported: the server's key in mcpServers/servers.
      const s =
        b.origin.file === ctx.file
          ? b.origin.locator.at([...b.origin.path, 'name'])
          : b.origin.locator.at(b.origin.path, 'key');
      const f = first.origin.locator.at([...first.origin.path]);
      out.push({
        code: 'DUPLICATE_BACKEND',
        severity: 'error',
        message: `backend "${b.name}" is declared twice`,
        file: b.origin.file,
        line: s.line,
        column: s.column,
        hint: `the first is at ${first.origin.file}:${f.line}:${f.column}; rename one of them`,
      });
    } else seen.set(b.name, b);
  }

  // Aggregation.
  const agg = config.aggregation;
  const workloads = new Set<string>();
  agg.tools.forEach((t, i) => {
    unknownBackend(t.workload, ['aggregation', 'tools', i, 'workload'], 'aggregation.tools workload');
    if (workloads.has(t.workload))
      add(
        'DUPLICATE_BACKEND',
        `workload "${t.workload}" is configured twice in aggregation.tools`,
        ['aggregation', 'tools', i, 'workload'],
        'merge the two entries into one',
      );
    workloads.add(t.workload);
    for (const [tool, o] of Object.entries(t.overrides)) {
      if (o.name === undefined && o.description === undefined && o.annotations === undefined) {
        add(
          'BAD_VALUE',
          `override for "${tool}" changes nothing`,
          ['aggregation', 'tools', i, 'overrides', tool],
          'set at least one of name, description or annotations',
          'error',
          'key',
        );
      }
    }
  });
  const crc = agg.conflictResolutionConfig;
  const strategyPath = ['aggregation', 'conflictResolution'];
  if (agg.conflictResolution === 'priority') {
    if (crc.priorityOrder.length === 0)
      add(
        'MISSING_KEY',
        'the priority strategy needs conflictResolutionConfig.priorityOrder',
        strategyPath,
        'list the backends, highest priority first',
      );
    crc.priorityOrder.forEach((n, i) =>
      unknownBackend(n, ['aggregation', 'conflictResolutionConfig', 'priorityOrder', i], 'priorityOrder entry'),
    );
    const missing = names.filter((n) => !crc.priorityOrder.includes(n));
    if (crc.priorityOrder.length && missing.length) {
      add(
        'BAD_VALUE',
        `priorityOrder does not rank ${missing.map((m) => `"${m}"`).join(', ')}`,
        ['aggregation', 'conflictResolutionConfig', 'priorityOrder'],
        'as in ToolHive, an unranked backend loses clashes with ranked ones, is kept under the {workload}_ prefix in clashes among unranked ones, and has its prompts prefixed',
        'warning',
      );
    }
    if (agg.defaultToolVisibility === 'deny') {
      crc.priorityOrder.forEach((n, i) => {
        if (!workloads.has(n))
          add(
            'BAD_VALUE',
            `defaultToolVisibility is deny and "${n}" has no aggregation.tools entry, so none of its tools are exposed`,
            ['aggregation', 'conflictResolutionConfig', 'priorityOrder', i],
            `add an aggregation.tools entry with workload: ${n} and a filter`,
          );
      });
    }
  }
  // `manual` without overrides is fine while no names clash (as in ToolHive); the catalog lists each clash.
  if (agg.conflictResolution === 'prefix') checkPrefixFormat(crc.prefixFormat, backends.length, add);

  // Outgoing auth.
  const oa = config.outgoingAuth;
  if (oa.source === 'discovered' && !discoversAuth(ctx.group ?? {}))
    add(
      'UNSUPPORTED',
      'outgoingAuth.source "discovered" reads each member\'s MCPExternalAuthConfig, so it needs groupRef resolved from Kubernetes',
      ['outgoingAuth', 'source'],
      'compile with --group-source kubernetes (and --namespace), or use source: inline and list the strategies',
    );
  checkStrategy(oa.default, ['outgoingAuth', 'default'], add);
  for (const [name, s] of Object.entries(oa.backends)) {
    unknownBackend(name, ['outgoingAuth', 'backends', name], 'outgoingAuth.backends entry', 'key');
    checkStrategy(s, ['outgoingAuth', 'backends', name], add);
  }

  // Incoming auth.
  const ia = config.incomingAuth;
  if (ia.type === 'oidc' && !ia.oidc)
    add(
      'MISSING_KEY',
      'incomingAuth.type is oidc but there is no incomingAuth.oidc block',
      ['incomingAuth', 'type'],
      'add oidc: {issuer, audience}',
    );
  if (ia.oidc) {
    const iss = safeUrl(ia.oidc.issuer);
    if (iss && iss.protocol === 'http:' && !isLoopback(iss.hostname) && !ia.oidc.insecureAllowHttp) {
      add(
        'INSECURE_ISSUER',
        `issuer ${ia.oidc.issuer} uses plain http`,
        ['incomingAuth', 'oidc', 'issuer'],
        'use https, or set insecureAllowHttp: true for a test issuer',
      );
    }
  }
  // Token strategies fetch credentials per HTTP request; token_exchange needs the caller's token.
  const strategies: Array<[string | undefined, StrategyConfig, ConfigPath]> = [
    [undefined, oa.default, ['outgoingAuth', 'default', 'type']],
    ...Object.entries(oa.backends).map(([n, s]): [string, StrategyConfig, ConfigPath] => [
      n,
      s,
      ['outgoingAuth', 'backends', n, 'type'],
    ]),
  ];
  for (const [name, s, path] of strategies) {
    // Without its block, MISSING_STRATEGY_FIELD already points here: one error per key is enough.
    if (s.type === 'token_exchange' ? !s.tokenExchange : s.type === 'client_credentials' ? !s.clientCredentials : true)
      continue;
    const users = backends.filter((b) => (name === undefined ? !oa.backends[b.name] : b.name === name));
    const stdio = users.filter((b) => b.transport === 'stdio');
    if (stdio.length > 0)
      add(
        'BAD_VALUE',
        `outgoing auth ${s.type} needs an HTTP backend, but ${stdio.map((b) => `"${b.name}"`).join(', ')} ${stdio.length > 1 ? 'are' : 'is'} stdio`,
        path,
        'pass credentials to stdio servers through env, or give the stdio backends their own strategy under outgoingAuth.backends',
      );
    if (s.type === 'token_exchange' && ia.type !== 'oidc' && users.length > 0) {
      add(
        'BAD_VALUE',
        "token_exchange exchanges the caller's token, but incomingAuth is not oidc, so there is no caller token",
        path,
        'set incomingAuth.type: oidc, or use client_credentials for a machine identity',
      );
    }
  }
  if (ia.authz?.type === 'cedar' && ia.authz.policies.length === 0)
    add(
      'MISSING_KEY',
      'authz type cedar needs at least one policy',
      ['incomingAuth', 'authz', 'type'],
      'add policies: ["permit(principal, action, resource);"]',
    );

  // Operational.
  const op = config.operational;
  const positive = (value: string, path: ConfigPath, what: string) => {
    const ms = parseDuration(value);
    if (ms !== undefined && ms <= 0)
      add(
        'NON_POSITIVE_DURATION',
        `${what} must be positive, not "${value}"`,
        path,
        'write a duration above zero, such as "30s"',
      );
  };
  positive(op.timeouts.default, ['operational', 'timeouts', 'default'], 'operational.timeouts.default');
  for (const [w, d] of Object.entries(op.timeouts.perWorkload)) {
    unknownBackend(w, ['operational', 'timeouts', 'perWorkload', w], 'timeouts.perWorkload entry', 'key');
    positive(d, ['operational', 'timeouts', 'perWorkload', w], `operational.timeouts.perWorkload.${w}`);
  }
  const fh = op.failureHandling;
  const fhPath = ['operational', 'failureHandling'];
  positive(fh.healthCheckInterval, [...fhPath, 'healthCheckInterval'], 'healthCheckInterval');
  if (fh.statusReportingInterval !== undefined)
    positive(fh.statusReportingInterval, [...fhPath, 'statusReportingInterval'], 'statusReportingInterval');
  const interval = parseDuration(fh.healthCheckInterval) ?? 0;
  const hcTimeout = parseDuration(fh.healthCheckTimeout) ?? 0;
  if (hcTimeout > 0 && interval > 0 && hcTimeout >= interval) {
    add(
      'BAD_VALUE',
      `healthCheckTimeout (${fh.healthCheckTimeout}) must be shorter than healthCheckInterval (${fh.healthCheckInterval})`,
      [...fhPath, 'healthCheckTimeout'],
      'lower the timeout or raise the interval',
    );
  }
  if (fh.unhealthyThreshold < 1)
    add('BAD_VALUE', `unhealthyThreshold must be at least 1, not ${fh.unhealthyThreshold}`, [
      ...fhPath,
      'unhealthyThreshold',
    ]);
  if (fh.circuitBreaker.enabled) {
    if (fh.circuitBreaker.failureThreshold < 1)
      add(
        'BAD_VALUE',
        `circuitBreaker.failureThreshold must be at least 1, not ${fh.circuitBreaker.failureThreshold}`,
        [...fhPath, 'circuitBreaker', 'failureThreshold'],
      );
    const cbt = parseDuration(fh.circuitBreaker.timeout) ?? 0;
    if (cbt < 1000)
      add(
        'NON_POSITIVE_DURATION',
        `circuitBreaker.timeout must be at least 1s, not "${fh.circuitBreaker.timeout}"`,
        [...fhPath, 'circuitBreaker', 'timeout'],
        'a shorter open period makes the breaker thrash; use "30s" or more',
      );
  }

  checkPassthroughHeaders(config, backends, add);
  checkOidcExtras(config, add);
  checkEnvRefs(config, ctx, add);
  checkLiteralSecrets(config, add);
  return out;
}

export type Add = (
  code: DiagnosticCode,
  message: string,
  path: ConfigPath,
  hint?: string,
  severity?: Severity,
  anchor?: 'key' | 'value',
) => void;

function checkUnsupported(config: VmcpConfig, add: Add): void {
  const raw = config as unknown as Record<string, unknown>;
  for (const u of UNSUPPORTED_KEYS) {
    if (raw[u.path] === undefined) continue;
    add(
      'UNSUPPORTED',
      `${u.path}: ${u.what} ${u.fatal ? 'is not supported by vmcp yet' : 'is accepted but not active in vmcp yet'}`,
      [u.path],
      u.fatal ? `remove ${u.path} to compile this config` : undefined,
      u.fatal ? 'error' : 'warning',
      'key',
    );
  }
  config.backends.forEach((b, i) => {
    const r = b as Record<string, unknown>;
    for (const k of ['type'])
      if (r[k] !== undefined)
        add(
          'UNSUPPORTED',
          `backends[${i}].${k} is not supported by vmcp yet`,
          ['backends', i, k],
          `remove ${k}`,
          'error',
          'key',
        );
  });
}

function checkPrefixFormat(format: string, backendCount: number, add: Add): void {
  const path = ['aggregation', 'conflictResolutionConfig', 'prefixFormat'];
  const placeholders = [...format.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
  const bad = placeholders.filter((p) => p !== 'workload');
  if (bad.length)
    add(
      'BAD_VALUE',
      `prefixFormat has unknown placeholder ${bad.map((b) => `{${b}}`).join(', ')}`,
      path,
      `the only placeholder is {workload}; ToolHive would keep ${bad.map((b) => `{${b}}`).join(', ')} as written in every prefixed name`,
    );
  if (/[^A-Za-z0-9._{}-]/.test(format.replace(/\{workload\}/g, '')))
    add(
      'BAD_VALUE',
      `prefixFormat "${format}" makes tool names with characters MCP clients reject`,
      path,
      'use letters, digits, "_", "-" or "." around {workload}',
    );
  if (!placeholders.includes('workload') && backendCount > 1) {
    add(
      'PREFIX_COLLISION',
      `prefixFormat "${format}" has no {workload}, so every backend gets the same prefix and same-named tools collide`,
      path,
      'use "{workload}_" or "{workload}."',
    );
  }
}
