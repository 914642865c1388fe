/**
 * Over 300 lines: one table, the fate of every key of the schema, and the few lines that walk it.
 *
 * No accepted key without effect (issue 15). This walks every key of the zod schema
 * (schemas/vmcp.ts with composite.ts) and asserts that each one is either
 * - READ: a module of the compiler or runtime reads it (the module's source contains the access), or
 * - REFUSED: setting it yields an UNSUPPORTED diagnostic at its line (a config is loaded to prove it).
 * A key in neither table fails the test with what to do.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VmcpConfigSchema } from '../../../schemas/vmcp.ts';
import { HEAD, load } from './helpers.ts';

const ROOT = join(import.meta.dirname, '../../..');

/** Every key path of the schema: `backends[].url`, `outgoingAuth.backends.*.type`; containers are covered by their keys. */
function leafPaths(): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (s: any, path: string): boolean => {
    const def = s._zod.def;
    switch (def.type) {
      case 'optional':
      case 'default':
      case 'prefault':
      case 'nullable':
      case 'readonly':
        return walk(def.innerType, path);
      case 'pipe':
        return walk(def.in, path);
      case 'lazy':
        if (seen.has(s)) return false;
        seen.add(s);
        return walk(def.getter(), path);
      case 'array':
        return walk(def.element, `${path}[]`);
      case 'record':
        return walk(def.valueType, `${path}.*`);
      case 'union':
        return def.options.map((o: unknown) => walk(o, path)).some(Boolean);
      case 'object':
        for (const [k, v] of Object.entries(def.shape)) {
          const p = path ? `${path}.${k}` : k;
          if (!walk(v, p) && !out.includes(p)) out.push(p);
        }
        return true;
      default:
        return false;
    }
  };
  walk(VmcpConfigSchema, '');
  return out;
}

/** Paths whose keys are the same schema as another's: per-backend strategies, and the forEach inner step (ToolHive's one step type). */
const ALIASES: Array<[from: string, to: string]> = [
  ['outgoingAuth.backends.*.', 'outgoingAuth.default.'],
  ['compositeTools[].steps[].step.', 'compositeTools[].steps[].'],
];
const canonical = (p: string) =>
  ALIASES.reduce((acc, [from, to]) => (acc.startsWith(from) ? to + acc.slice(from.length) : acc), p);

/**
 * READ: key path (or `prefix.*` for every key under it) → the module (or folder) that reads it, and
 * optionally the text of the access when the last segment alone would be ambiguous.
 */
const READ: Array<[paths: string[], module: string, access?: string]> = [
  [['optimizer.enabled', 'optimizer.maxToolsToReturn'], 'compiler/emit/optimizer.ts'],
  [
    ['optimizer.embeddingURL', 'optimizer.embeddingBackend', 'optimizer.hybridSearchRatio'],
    'compiler/emit/optimizer.ts',
  ],
  [['optimizer.embeddingDimension'], 'compiler/config/checks-optimizer.ts', "'embeddingDimension'"],
  [['optimizer.persistPath'], 'compiler/config/checks-optimizer.ts', "'persistPath'"],
  [['optimizer.ftsDBPath'], 'compiler/config/checks-optimizer.ts', "'ftsDBPath'"],
  [
    [
      'embeddingService',
      'embeddingProvider',
      'embeddingModel',
      'embeddingServiceTimeout',
      'embeddingHeaders',
      'hybridSearchSemanticRatio',
      'semanticDistanceThreshold',
    ].map((k) => `optimizer.${k}`),
    'compiler/emit/optimizer.ts',
  ],
  [
    ['provider', 'address', 'db', 'keyPrefix', 'passwordEnv', 'tls'].map((k) => `sessionStorage.${k}`),
    'compiler/emit/shared-state.ts',
  ],
  [['sessionStorage.passwordRef.name', 'sessionStorage.passwordRef.key'], 'compiler/config/checks-scale.ts'],
  [['rateLimiting.onStoreError'], 'compiler/emit/shared-state.ts'],
  [['rateLimiting.tools[].name'], 'compiler/emit/shared-state.ts', 't.name'],
  [
    ['global', 'shared', 'perUser', 'tools[].global', 'tools[].shared', 'tools[].perUser'].flatMap((b) => [
      `rateLimiting.${b}.maxTokens`,
      `rateLimiting.${b}.refillPeriod`,
    ]),
    'compiler/emit/shared-state.ts',
  ],
  [
    [
      'endpoint',
      'serviceName',
      'serviceVersion',
      'tracingEnabled',
      'metricsEnabled',
      'samplingRate',
      'headers',
      'insecure',
      'environmentVariables',
      'customAttributes',
      'caCertPath',
    ].map((k) => `telemetry.${k}`),
    'compiler/emit/observability.ts',
  ],
  [
    [
      'enabled',
      'component',
      'eventTypes',
      'excludeEventTypes',
      'includeRequestData',
      'includeResponseData',
      'detectApplicationErrors',
      'maxDataSize',
      'logFile',
      'claims',
    ].map((k) => `audit.${k}`),
    'compiler/emit/observability.ts',
  ],
  [['$schema'], 'compiler/config/schema-issues.ts', "'$schema'"], // editors read it; the loader skips it in suggestions
  [['name'], 'compiler/emit/gateway.ts', 'config.name'],
  [['backendsFrom'], 'compiler/resolve/group.ts'],
  [
    ['name', 'transport', 'command', 'args', 'env', 'cwd', 'url', 'headers', 'required', 'sessionAffinity'].map(
      (k) => `backends[].${k}`,
    ),
    'compiler/resolve/group.ts',
  ],
  [['backends[].description', 'backends[].metadata', 'metadata'], 'compiler/emit/manifest.ts'],
  [['incomingAuth.type'], 'compiler/emit/gateway.ts', 'ia.type'],
  [
    ['issuer', 'audience', 'resource', 'jwksUrl', 'scopes', 'insecureAllowHttp', 'allowedAlgorithms', 'clockSkew'].map(
      (k) => `incomingAuth.oidc.${k}`,
    ),
    'compiler/emit/gateway.ts',
  ],
  // `true` is what vmcp does anyway (no address filter on OIDC fetches); `false` is warned (REFUSED below).
  [
    ['incomingAuth.oidc.protectedResourceAllowPrivateIp', 'incomingAuth.oidc.jwksAllowPrivateIp'],
    'compiler/config/checks-inert.ts',
  ],
  [
    ['type', 'policies', 'entitiesJson', 'groupClaimName', 'roleClaimName', 'groupEntityType'].map(
      (k) => `incomingAuth.authz.${k}`,
    ),
    'compiler/emit/gateway.ts',
  ],
  [['outgoingAuth.source'], 'compiler/config/checks.ts', 'oa.source'], // inline is the behaviour; discovered is refused
  [['outgoingAuth.default.type'], 'compiler/emit/gateway.ts', 's.type'],
  [
    ['headerName', 'headerValue', 'headerValueEnv'].map((k) => `outgoingAuth.default.headerInjection.${k}`),
    'runtime/auth/out/header-injection.ts',
  ],
  [
    ['tokenUrl', 'clientId', 'clientSecretEnv', 'audience', 'scopes', 'subjectTokenType'].map(
      (k) => `outgoingAuth.default.tokenExchange.${k}`,
    ),
    'runtime/auth/out/token-exchange.ts',
  ],
  // A literal secret is refused (BAD_VALUE): it would land in the bundle.
  [
    ['outgoingAuth.default.tokenExchange.clientSecret'],
    'compiler/config/checks-auth.ts',
    'tokenExchange?.clientSecret',
  ],
  [
    ['tokenUrl', 'clientId', 'clientSecretEnv', 'audience', 'scopes'].map(
      (k) => `outgoingAuth.default.clientCredentials.${k}`,
    ),
    'runtime/auth/out/client-credentials.ts',
  ],
  [['aggregation.conflictResolution', 'aggregation.nameLimit'], 'compiler/resolve/'],
  [
    ['aggregation.conflictResolutionConfig.prefixFormat', 'aggregation.conflictResolutionConfig.priorityOrder'],
    'compiler/resolve/',
  ],
  [
    [
      'aggregation.tools[].workload',
      'aggregation.tools[].filter',
      'aggregation.tools[].excludeAll',
      'aggregation.excludeAllTools',
      'aggregation.defaultToolVisibility',
    ],
    'compiler/resolve/tool-rules.ts',
  ],
  [
    ['aggregation.tools[].overrides.*.name', 'aggregation.tools[].overrides.*.description'],
    'compiler/resolve/tool-rules.ts',
  ],
  [['aggregation.tools[].overrides.*.annotations.*'], 'compiler/resolve/tool-rules.ts', 'annotations'],
  // Explicit annotations are spread over the derived ones ({...derived, ...explicit}), each key checked against the steps.
  [['compositeTools[].annotations.*'], 'compiler/composite/composite-checks.ts', '...explicit'],
  [['compositeTools[].*'], 'compiler/composite/'],
  [['operational.timeouts.default', 'operational.timeouts.perWorkload'], 'compiler/emit/gateway.ts'],
  [
    ['healthCheckInterval', 'healthCheckTimeout', 'unhealthyThreshold', 'partialFailureMode'].map(
      (k) => `operational.failureHandling.${k}`,
    ),
    'compiler/emit/gateway.ts',
  ],
  [['operational.failureHandling.circuitBreaker.*'], 'compiler/emit/gateway.ts'],
  [['operational.drift', 'operational.logLevel'], 'compiler/emit/gateway.ts'],
  [['operational.limits.*'], 'compiler/emit/gateway.ts'],
  // Issue 15 parts 1 and 4.
  [['groupRef'], 'compiler/resolve/group.ts', 'groupRef'],
  [['passthroughHeaders'], 'compiler/emit/gateway.ts', 'config.passthroughHeaders'],
  [['incomingAuth.oidc.introspectionUrl'], 'compiler/emit/gateway.ts', 'o.introspectionUrl'],
  // The client credentials authenticate the introspection call (as in ToolHive, a JWT check needs none).
  [['incomingAuth.oidc.clientId'], 'compiler/emit/gateway.ts', 'o.clientId'],
  [['incomingAuth.oidc.clientSecretEnv'], 'compiler/emit/gateway.ts', 'o.clientSecretEnv'],
  [['incomingAuth.oidc.caBundlePath'], 'compiler/emit/gateway.ts', 'o.caBundlePath'],
  [['backends[].caBundlePath'], 'compiler/emit/gateway.ts', 'caBundlePath'],
];

/** The runtime side of the operational keys the compiler only copies: the copy must be used. */
const RUNTIME_USES: Array<[module: string, access: string]> = [
  ['runtime/backend/supervisor.ts', 'healthCheckTimeoutMs'],
  ['runtime/index.ts', 'gateway.operational.logLevel'],
  ['compiler/emit/gateway.ts', 'normalizeSubjectTokenType'],
];

/**
 * REFUSED: key path (or `prefix.*`) → a config that sets it (the key is found by its last
 * segment, after the line named by `after` when given) and the severity of its UNSUPPORTED.
 */
const REFUSED: Array<{ paths: string[]; yaml: string; key: string; severity: 'error' | 'warning' }> = [
  {
    paths: ['backends[].type'],
    yaml: 'name: gw\nbackends:\n  - name: a\n    transport: sse\n    url: https://a.example.com/sse\n    type: entry\n',
    key: 'type: entry',
    severity: 'error',
  },
  {
    paths: ['incomingAuth.authz.primaryUpstreamProvider'],
    yaml: `${HEAD}incomingAuth:\n  type: anonymous\n  authz:\n    type: none\n    primaryUpstreamProvider: google\n`,
    key: 'primaryUpstreamProvider',
    severity: 'error',
  },
  {
    paths: ['incomingAuth.oidc.protectedResourceAllowPrivateIp'],
    yaml: `${HEAD}incomingAuth:\n  type: oidc\n  oidc:\n    issuer: https://id.example.com\n    audience: gw\n    protectedResourceAllowPrivateIp: false\n`,
    key: 'protectedResourceAllowPrivateIp',
    severity: 'warning',
  },
  {
    paths: ['incomingAuth.oidc.jwksAllowPrivateIp'],
    yaml: `${HEAD}incomingAuth:\n  type: oidc\n  oidc:\n    issuer: https://id.example.com\n    audience: gw\n    jwksAllowPrivateIp: false\n`,
    key: 'jwksAllowPrivateIp',
    severity: 'warning',
  },
  {
    paths: ['outgoingAuth.default.tokenExchange.subjectProviderName'],
    yaml: `${HEAD}outgoingAuth:\n  default:\n    type: unauthenticated\n    tokenExchange:\n      tokenUrl: https://sts.example.com\n      subjectProviderName: google\n`,
    key: 'subjectProviderName',
    severity: 'error',
  },
  ...(['upstreamInject', 'awsSts', 'obo', 'xaa'] as const).map((k) => ({
    paths: [`outgoingAuth.default.${k}`],
    yaml: `${HEAD}outgoingAuth:\n  default:\n    type: unauthenticated\n    ${k}: {}\n`,
    key: k,
    severity: 'error' as const,
  })),
  {
    paths: ['aggregation.tools[].toolConfigRef'],
    yaml: `${HEAD}aggregation:\n  tools:\n    - workload: a\n      toolConfigRef: {name: github-tools}\n`,
    key: 'toolConfigRef',
    severity: 'error',
  },
  {
    paths: ['operational.failureHandling.statusReportingInterval'],
    yaml: `${HEAD}operational:\n  failureHandling:\n    statusReportingInterval: 30s\n`,
    key: 'statusReportingInterval',
    severity: 'warning',
  },
  // Kept for ToolHive configs, but vmcp has no such switch: each warns at its key (issue 16).
  ...(
    [
      ['enablePrometheusMetricsPath', 'false'],
      ['metricsOnTransportPort', 'false'],
      ['prometheusPort', '9090'],
      ['useLegacyAttributes', 'true'],
    ] as const
  ).map(([k, v]) => ({
    paths: [`telemetry.${k}`],
    yaml: `${HEAD}telemetry:\n  endpoint: otel.example.com:4318\n  tracingEnabled: true\n  ${k}: ${v}\n`,
    key: k,
    severity: 'warning' as const,
  })),
  {
    paths: ['audit.maxDelegationDepth'],
    yaml: `${HEAD}audit:\n  enabled: true\n  maxDelegationDepth: 3\n`,
    key: 'maxDelegationDepth',
    severity: 'warning',
  },
  {
    paths: ['compositeToolRefs'],
    yaml: `${HEAD}compositeToolRefs: [{name: x}]\n`,
    key: 'compositeToolRefs',
    severity: 'error',
  },
  { paths: ['codeMode'], yaml: `${HEAD}codeMode: {}\n`, key: 'codeMode', severity: 'error' },
];

const sources = new Map<string, string>();
/** The text of a module, or of every .ts file of a folder (path ending in /). */
function source(module: string): string {
  let text = sources.get(module);
  if (text === undefined) {
    const abs = join(ROOT, module);
    text = module.endsWith('/')
      ? readdirSync(abs)
          .filter((f) => f.endsWith('.ts') && statSync(join(abs, f)).isFile())
          .map((f) => readFileSync(join(abs, f), 'utf8'))
          .join('\n')
      : readFileSync(abs, 'utf8');
    sources.set(module, text);
  }
  return text;
}

/** True when `text` reads `key`: `.key`, `?.key`, `'key'`, `"key"` or `key:` (destructuring, literal maps). */
function reads(text: string, key: string): boolean {
  const k = key.replace(/[$]/g, '\\$');
  return new RegExp(`(\\.|['"\`])${k}\\b|\\b${k}\\s*[:,}]`).test(text);
}

const matches = (pattern: string, path: string) =>
  pattern.endsWith('.*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path;
const lastSegment = (path: string) => path.split('.').at(-1)!.replace('[]', '');

/** Where `path` is classified, or undefined. */
function classify(path: string): 'read' | 'refused' | undefined {
  const p = canonical(path);
  if (REFUSED.some((e) => e.paths.some((q) => matches(q, p)))) return 'refused';
  if (READ.some(([paths]) => paths.some((q) => matches(q, p)))) return 'read';
  return undefined;
}

/** 1-based line of the first line containing `needle`. */
const lineOf = (yaml: string, needle: string) => yaml.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('the schema walk: no accepted key without effect', () => {
  const paths = leafPaths();

  it('finds every key, composite tools and unsupported keys included', () => {
    expect(paths.length).toBeGreaterThan(150);
    for (const p of [
      'backends[].url',
      'outgoingAuth.backends.*.tokenExchange.subjectTokenType',
      'compositeTools[].steps[].step.tool',
    ])
      expect(paths).toContain(p);
  });

  it('every key is read, or refused with UNSUPPORTED', () => {
    const unclassified = paths.filter((p) => classify(p) === undefined);
    expect(
      unclassified,
      'these schema keys have no effect anywhere: make the compiler or runtime read each one and add it to READ in ' +
        'test/compiler/config/schema-walk.test.ts, or report it as UNSUPPORTED at its line (compiler/config/checks-inert.ts) and add it to REFUSED',
    ).toEqual([]);
  });

  it('no table entry names a key the schema does not have', () => {
    const canonicalPaths = paths.map(canonical);
    const patterns = [...READ.flatMap(([p]) => p), ...REFUSED.flatMap((e) => e.paths)];
    expect(patterns.filter((q) => !canonicalPaths.some((p) => matches(q, p)))).toEqual([]);
  });

  // Each key is checked against the first READ entry that names it.
  const readRows = [...new Set(paths.map(canonical))]
    .filter((p) => classify(p) === 'read')
    .map((p) => {
      const [, module, access] = READ.find(([patterns]) => patterns.some((q) => matches(q, p)))!;
      return { path: p, module, access };
    });
  it.each(readRows)('$path is read by $module', ({ path, module, access }) => {
    const text = source(module);
    if (access !== undefined) expect(text.includes(access), `${module} should contain ${access}`).toBe(true);
    else expect(reads(text, lastSegment(path)), `${module} should read .${lastSegment(path)}`).toBe(true);
  });

  it.each(RUNTIME_USES)('%s uses %s', (module, access) => {
    expect(source(module)).toContain(access);
  });

  it.each(REFUSED)('$paths: UNSUPPORTED ($severity) at the line of $key', ({ yaml, key, severity }) => {
    const line = lineOf(yaml, key);
    const found = load(yaml).diagnostics.filter((d) => d.code === 'UNSUPPORTED' && d.line === line);
    expect(found.map((d) => d.severity)).toEqual([severity]);
  });
});
