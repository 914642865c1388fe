import { z } from 'zod';
import { isDuration } from '../runtime/duration.ts';
import { parseByteSize } from '../runtime/limits.ts';
import { compositeToolSchema } from './composite.ts';

/**
 * The `vmcp.yaml` schema: camelCase, strict (unknown keys are errors), and a superset of
 * ToolHive vMCP's CLI config for the features both support. Defaults are applied here and
 * nowhere else. `schemas/vmcp.schema.json` is generated from this file (`npm run schema`).
 */

/** Custom issue codes are carried in `params.code` so the loader can map them to diagnostics. */
const withCode = (code: string, message: string) => ({ message, params: { code } });

const duration = z
  .string()
  .refine(isDuration, withCode('BAD_DURATION', 'not a duration'))
  .meta({ description: 'A Go-style duration such as "30s", "1m30s" or "500ms".' });

/** The duration schema instance, exported so diagnostics can recognise duration fields. */
export const DURATION = duration;

const httpUrl = z
  .string()
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    },
    withCode('BAD_URL', 'not an http(s) URL'),
  )
  .meta({ description: 'An absolute http:// or https:// URL.' });

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, withCode('BAD_VALUE', 'not an environment variable name'))
  .meta({ description: 'The name of an environment variable, resolved at start-up.' });

const backendName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, withCode('BAD_VALUE', 'not a valid backend name'))
  .meta({ description: 'Backend (workload) name: letters, digits, ".", "_" or "-", at most 63 characters.' });

const stringMap = z.record(z.string(), z.string());

const caBundlePath = z.string().min(1, withCode('BAD_VALUE', 'caBundlePath must not be empty')).optional();

/** An HTTP header name (RFC 9110 token), as written in passthroughHeaders. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, withCode('BAD_VALUE', 'not an HTTP header name'));

/** Accepted for ToolHive compatibility but not implemented; the validator reports UNSUPPORTED. */
const unsupported = (what: string) =>
  z
    .unknown()
    .optional()
    .meta({ description: `Not supported by vmcp yet: ${what}.` });

const backendCommon = {
  name: backendName,
  description: z.string().optional(),
  metadata: stringMap.optional(),
  /** Whether /readyz waits for this backend (default true). */
  required: z.boolean().default(true).meta({ description: 'Whether /readyz waits for this backend.' }),
  sessionAffinity: z.enum(['shared', 'per-session']).default('shared').meta({
    description:
      'per-session: one upstream connection per client session (2025 era), for backends whose tools send sampling, elicitation or roots requests.',
  }),
};

const stdioBackend = z.strictObject({
  ...backendCommon,
  transport: z.literal('stdio'),
  command: z.string().min(1, withCode('BAD_VALUE', 'command must not be empty')),
  args: z.array(z.string()).default([]),
  env: stringMap.optional().meta({ description: 'Extra environment; values may use ${env:NAME}.' }),
  cwd: z.string().optional(),
});

const httpBackend = (transport: 'sse' | 'streamable-http') =>
  z.strictObject({
    ...backendCommon,
    transport: z.literal(transport),
    url: httpUrl,
    headers: stringMap.optional().meta({ description: 'Extra request headers; values may use ${env:NAME}.' }),
    type: unsupported('ToolHive "entry" backends'),
    caBundlePath: caBundlePath.meta({
      description:
        'A PEM CA bundle added to the trusted roots for this https backend; read when the gateway starts (may use ${env:NAME}).',
    }),
  });

/** One backend of the group. */
export const BackendSchema = z.discriminatedUnion('transport', [
  stdioBackend,
  httpBackend('sse'),
  httpBackend('streamable-http'),
]);

const oidc = z.strictObject({
  issuer: httpUrl,
  audience: z.string().min(1),
  resource: z.string().optional(),
  jwksUrl: httpUrl.optional(),
  clientId: z.string().optional(),
  clientSecretEnv: envName.optional(),
  scopes: z.array(z.string()).default([]),
  insecureAllowHttp: z.boolean().default(false),
  allowedAlgorithms: z.array(z.string()).optional(),
  clockSkew: duration.default('30s'),
  introspectionUrl: httpUrl.optional().meta({
    description:
      'RFC 7662 token introspection endpoint: bearer tokens that are not JWTs are checked there (clientId and clientSecretEnv authenticate the call).',
  }),
  // ToolHive refuses private addresses for OIDC fetches unless one of these is true; vmcp never does.
  protectedResourceAllowPrivateIp: z.boolean().optional().meta({
    description:
      'true: what vmcp does anyway (it does not refuse private addresses); false is warned as having no effect.',
  }),
  jwksAllowPrivateIp: z.boolean().optional().meta({
    description:
      'true: what vmcp does anyway (it does not refuse private addresses); false is warned as having no effect.',
  }),
  caBundlePath: caBundlePath.meta({
    description:
      'A PEM CA bundle added to the trusted roots for discovery, JWKS and introspection fetches; read when the gateway starts.',
  }),
});

const authz = z.strictObject({
  type: z.enum(['cedar', 'none']),
  policies: z.array(z.string()).default([]),
  entitiesJson: z.string().default('[]'),
  primaryUpstreamProvider: unsupported('upstream providers'),
  groupClaimName: z.string().optional(),
  roleClaimName: z.string().optional(),
  groupEntityType: z.string().optional(),
});

const incomingAuth = z.strictObject({
  type: z.enum(['anonymous', 'oidc', 'local']),
  oidc: oidc.optional(),
  authz: authz.optional(),
});

const headerInjection = z.strictObject({
  headerName: z.string().min(1),
  headerValue: z.string().optional(),
  headerValueEnv: envName.optional(),
});

const tokenExchange = z.strictObject({
  tokenUrl: httpUrl,
  clientId: z.string().optional(),
  clientSecret: z.string().optional(),
  clientSecretEnv: envName.optional(),
  audience: z.string().optional(),
  scopes: z.array(z.string()).default([]),
  subjectTokenType: z.string().default('urn:ietf:params:oauth:token-type:access_token').meta({
    description:
      "An RFC 8693 token type URN, or ToolHive's short forms access_token, id_token and jwt (compiled to their URNs).",
  }),
  subjectProviderName: unsupported('subject providers'),
});

const clientCredentials = z.strictObject({
  tokenUrl: httpUrl,
  clientId: z.string().min(1),
  clientSecretEnv: envName,
  audience: z.string().optional(),
  scopes: z.array(z.string()).default([]),
});

/** An outgoing auth strategy, nested as ToolHive writes it: `{type, headerInjection: {...}}`. */
export const StrategySchema = z.strictObject({
  type: z.enum([
    'unauthenticated',
    'header_injection',
    'token_exchange',
    'client_credentials',
    'upstream_inject',
    'aws_sts',
    'obo',
    'xaa',
  ]),
  headerInjection: headerInjection.optional(),
  tokenExchange: tokenExchange.optional(),
  clientCredentials: clientCredentials.optional(),
  upstreamInject: unsupported('upstream_inject'),
  awsSts: unsupported('aws_sts'),
  obo: unsupported('obo'),
  xaa: unsupported('xaa'),
});

const outgoingAuth = z.strictObject({
  source: z.enum(['inline', 'discovered']).default('inline'),
  default: StrategySchema.prefault({ type: 'unauthenticated' }),
  backends: z.record(z.string(), StrategySchema).default({}),
});

const annotations = z.strictObject({
  title: z.string().optional(),
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});

const toolOverride = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  annotations: annotations.optional(),
});

const workloadTools = z.strictObject({
  workload: backendName,
  filter: z.array(z.string()).optional(),
  excludeAll: z.boolean().default(false),
  overrides: z.record(z.string(), toolOverride).default({}),
  toolConfigRef: unsupported('Kubernetes tool config references'),
});

const aggregation = z.strictObject({
  conflictResolution: z.enum(['prefix', 'priority', 'manual']).default('prefix'),
  conflictResolutionConfig: z
    .strictObject({
      prefixFormat: z.string().default('{workload}_'),
      priorityOrder: z.array(z.string()).default([]),
    })
    .prefault({}),
  tools: z.array(workloadTools).default([]),
  excludeAllTools: z.boolean().default(false),
  defaultToolVisibility: z.enum(['allow', 'deny']).default('allow'),
  nameLimit: z.number().int().min(1).max(128).default(64),
});

/** One composite tool (a workflow over the backends' tools): see composite.ts. */
const compositeTool = compositeToolSchema(duration, annotations);

const circuitBreaker = z.strictObject({
  enabled: z.boolean().default(false),
  failureThreshold: z.number().int().default(5),
  timeout: duration.default('60s'),
});

const failureHandling = z.strictObject({
  healthCheckInterval: duration.default('30s'),
  healthCheckTimeout: duration.default('10s'),
  statusReportingInterval: duration.optional().meta({
    description: 'ToolHive reports status to Kubernetes on this timer; vmcp serves /status on demand (warned).',
  }),
  unhealthyThreshold: z.number().int().default(3),
  partialFailureMode: z.enum(['fail', 'best_effort']).default('fail'),
  circuitBreaker: circuitBreaker.prefault({}),
});

const byteSize = z
  .union([z.string(), z.number().int()])
  .refine(
    (v) => (parseByteSize(v) ?? 0) > 0,
    withCode('BAD_VALUE', 'not a positive byte size such as "32MB", "512KiB" or 1048576'),
  )
  .meta({ description: 'A byte size: "32MB", "512KiB", "1GiB", or a number of bytes.' });
const positiveInt = z.number().int().positive();

const limits = z
  .strictObject({
    maxMessageSize: byteSize.default('32MiB').meta({
      description:
        'Largest upstream message (a stdio line, an HTTP body or an SSE event); a bigger one fails its call.',
    }),
    maxSessions: positiveInt
      .default(10_000)
      .meta({ description: '2025-era sessions held at once; initialize beyond it gets 503 with Retry-After.' }),
    maxSessionsPerClient: positiveInt.default(1_000).meta({
      description: 'Sessions held at once by one caller: an authenticated subject, or a remote address when anonymous.',
    }),
    sessionIdleTimeout: duration
      .default('30m')
      .meta({ description: 'A session with no request and no open stream for this long is dropped.' }),
    sessionMaxAge: duration.default('24h').meta({
      description:
        'With VMCP_SESSION_KEY (replicas): how long a session id stays valid after initialize, on every replica; then the client gets 404 and starts a new session.',
    }),
    maxScopedUpstreams: positiveInt.default(64).meta({
      description:
        'Per-session and per-subject upstream connections (sessionAffinity per-session, token_exchange) held at once; the least recently used idle one is closed.',
    }),
    maxParkedCalls: positiveInt
      .default(1_000)
      .meta({ description: "2026-era calls waiting for the client's input (input_required) held at once." }),
    maxStreamBuffer: byteSize.default('8MiB').meta({
      description: 'Bytes buffered for one client SSE stream before a client that stopped reading is cut off.',
    }),
  })
  .meta({ description: 'Resource bounds that keep one client or one backend from exhausting the gateway.' });

const operational = z.strictObject({
  logLevel: z
    .enum(['debug', 'info', 'warn', 'error'])
    .optional()
    .meta({ description: 'The runtime log level (default info); the env variable VMCP_LOG_LEVEL overrides it.' }),
  timeouts: z
    .strictObject({ default: duration.default('30s'), perWorkload: z.record(z.string(), duration).default({}) })
    .prefault({}),
  failureHandling: failureHandling.prefault({}),
  drift: z.enum(['fail', 'warn', 'block-changed']).default('block-changed'),
  limits: limits.prefault({}),
});

/** A token bucket, as ToolHive's rateLimiting writes it: `maxTokens` calls, refilled evenly over `refillPeriod`. */
const bucket = z
  .strictObject({
    maxTokens: positiveInt.meta({ description: 'Bucket capacity: calls allowed in a burst.' }),
    refillPeriod: duration.meta({ description: 'Time to refill an empty bucket completely, e.g. "1m".' }),
  })
  .meta({ description: 'A token bucket: maxTokens calls, refilled evenly over refillPeriod.' });

const rateLimiting = z
  .strictObject({
    global: bucket.optional().meta({ description: 'One bucket for every tools/call on the gateway.' }),
    shared: bucket.optional().meta({ description: 'Deprecated ToolHive alias of global.' }),
    perUser: bucket.optional().meta({
      description: 'One bucket per authenticated caller (iss, sub), for every tools/call. Anonymous callers have none.',
    }),
    tools: z
      .array(
        z.strictObject({
          name: z.string().min(1).meta({ description: 'An exposed tool or composite tool name.' }),
          global: bucket.optional(),
          shared: bucket.optional().meta({ description: 'Deprecated ToolHive alias of global.' }),
          perUser: bucket.optional(),
        }),
      )
      .optional()
      .meta({ description: 'Buckets for one tool, on top of the gateway-wide ones.' }),
    onStoreError: z.enum(['allow', 'deny']).default('allow').meta({
      description:
        'With sessionStorage redis: what a tools/call gets when Redis cannot answer. allow (ToolHive: the call proceeds, logged) or deny (the call is refused with the rate-limit error).',
    }),
  })
  .meta({
    description:
      'Token-bucket limits on tools/call (ToolHive rateLimiting). Shared by every replica with sessionStorage redis; per replica otherwise.',
  });

const sessionStorage = z
  .strictObject({
    provider: z.enum(['memory', 'redis']).meta({
      description:
        'memory: nothing is shared (the default). redis: session revocation and rate limits shared by every replica.',
    }),
    address: z
      .string()
      .regex(/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, withCode('BAD_VALUE', 'not a host:port address'))
      .optional()
      .meta({ description: 'Redis host:port (required for provider redis).' }),
    db: z.number().int().min(0).default(0).meta({ description: 'Redis database number.' }),
    keyPrefix: z.string().max(128).default('').meta({ description: 'Prefix of every Redis key vmcp writes.' }),
    passwordRef: z.strictObject({ name: z.string(), key: z.string() }).optional().meta({
      description:
        "ToolHive operator's Secret reference; vmcp reads the password from the env variable named by passwordEnv, where the Kubernetes manifests mount that Secret key.",
    }),
    passwordEnv: envName.default('THV_SESSION_REDIS_PASSWORD').meta({
      description:
        'Env variable holding the Redis password (ToolHive injects THV_SESSION_REDIS_PASSWORD). Unset: no AUTH.',
    }),
    tls: z.boolean().default(false).meta({ description: 'Connect to Redis over TLS (system roots).' }),
  })
  .meta({ description: 'Where state shared by replicas lives (ToolHive sessionStorage).' });

const telemetry = z.strictObject({
  endpoint: z.string().optional(),
  serviceName: z.string().optional(),
  serviceVersion: z.string().optional(),
  tracingEnabled: z.boolean().optional(),
  metricsEnabled: z.boolean().optional(),
  // ToolHive's struct has a string; its loader test writes 0.75.
  samplingRate: z.union([z.number().min(0).max(1), z.string()]).optional(),
  headers: stringMap.optional(),
  insecure: z.boolean().optional(),
  enablePrometheusMetricsPath: z.boolean().optional(),
  useLegacyAttributes: z.boolean().optional(),
  metricsOnTransportPort: z.boolean().optional(),
  prometheusPort: z.number().int().optional(),
  environmentVariables: z.array(z.string()).optional(),
  customAttributes: stringMap.optional(),
  caCertPath: z.string().optional(),
});

const optimizer = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'false turns the optimizer off (the block may stay).' }),
    maxToolsToReturn: z.number().int().min(1).max(50).default(8).meta({ description: 'Most tools find_tool returns.' }),
    hybridSearchSemanticRatio: z
      .union([z.number().min(0).max(1), z.string()])
      .optional()
      .meta({
        description:
          'With an embedding service: the weight of semantic similarity against lexical rank (0 lexical only, 1 semantic only; default 0.5).',
      }),
    // ToolHive's examples write it as a string ("0.8") as well as a number.
    semanticDistanceThreshold: z
      .union([z.number().min(0).max(2), z.string()])
      .optional()
      .meta({
        description:
          'With an embedding service: tools whose cosine distance to the query is above this are not matched semantically (default 1).',
      }),
    embeddingService: httpUrl.optional().meta({
      description: 'Base URL of an embedding service (TEI or OpenAI-compatible). Without it, search is lexical only.',
    }),
    embeddingProvider: z.enum(['tei', 'openai']).optional().meta({
      description:
        'The embedding API: tei (POST /embed) or openai (POST /v1/embeddings; key from OPENAI_API_KEY). Default tei.',
    }),
    embeddingModel: z.string().min(1).optional().meta({ description: 'The model name sent to the embedding service.' }),
    embeddingServiceTimeout: duration.optional().meta({
      description: 'How long a query embedding may take at run time before search falls back to lexical (default 2s).',
    }),
    embeddingHeaders: stringMap.optional().meta({
      description: 'Extra request headers for the embedding service (values may be ${env:NAME} references).',
    }),
    // Older ToolHive releases' names, read with a DEPRECATED_KEY warning (compiler/config/checks-optimizer.ts).
    embeddingURL: httpUrl.optional().meta({ description: 'Older ToolHive name of embeddingService.' }),
    embeddingBackend: z.enum(['ollama', 'openai-compatible', 'vllm', 'placeholder']).optional().meta({
      description:
        'Older ToolHive setting: ollama, openai-compatible and vllm are read as embeddingProvider openai (their /v1/embeddings API); placeholder as no embedding service.',
    }),
    embeddingDimension: z.number().int().positive().optional().meta({
      description: 'Older ToolHive setting; vmcp takes the dimension from the vectors the service returns.',
    }),
    hybridSearchRatio: z
      .union([z.number().min(0).max(100), z.string()])
      .optional()
      .meta({
        description: 'Older ToolHive name of hybridSearchSemanticRatio (0..1, or a percentage 0..100).',
      }),
    persistPath: z
      .string()
      .optional()
      .meta({ description: 'Older ToolHive setting; vmcp compiles the index into the bundle.' }),
    ftsDBPath: z
      .string()
      .optional()
      .meta({ description: 'Older ToolHive setting; vmcp compiles the index into the bundle.' }),
  })
  .meta({
    description:
      'Replace the advertised tools with find_tool and call_tool, searching an index built by vmcp compile (ToolHive optimizer).',
  });

const audit = z.strictObject({
  enabled: z.boolean().optional(),
  component: z.string().optional(),
  eventTypes: z.array(z.string()).optional(),
  excludeEventTypes: z.array(z.string()).optional(),
  includeRequestData: z.boolean().optional(),
  includeResponseData: z.boolean().optional(),
  detectApplicationErrors: z.boolean().optional(),
  maxDataSize: z.number().int().optional(),
  maxDelegationDepth: z.number().int().optional(),
  logFile: z.string().optional(),
  claims: z
    .array(z.string())
    .optional()
    .meta({ description: 'vmcp: token claims recorded in subjects besides sub, iss, name and email (e.g. groups).' }),
});

/** The whole `vmcp.yaml`. */
export const VmcpConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: backendName.meta({ description: 'The gateway name; also names the bundle (dist/<name>.vmcp.mjs).' }),
    groupRef: z.string().optional().meta({ description: 'The group name (ToolHive: the thv group).' }),
    backendsFrom: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .meta({ description: 'Client config files (mcpServers / servers) whose servers join the group.' }),
    backends: z.array(BackendSchema).default([]),
    incomingAuth: incomingAuth.prefault({ type: 'anonymous' }),
    outgoingAuth: outgoingAuth.prefault({}),
    aggregation: aggregation.prefault({}),
    compositeTools: z.array(compositeTool).optional(),
    operational: operational.prefault({}),
    telemetry: telemetry.optional(),
    audit: audit.optional(),
    metadata: stringMap.optional().meta({
      description: 'Free-form labels; copied into the manifest beside the bundle (dist/<name>.manifest.json).',
    }),
    compositeToolRefs: unsupported('Kubernetes composite tool references'),
    optimizer: optimizer.optional(),
    codeMode: unsupported('code mode'),
    sessionStorage: sessionStorage.optional(),
    rateLimiting: rateLimiting.optional(),
    passthroughHeaders: z.array(headerName).max(64).optional().meta({
      description:
        'Client request headers forwarded to HTTP backends on each call (an allowlist; credentials, hop-by-hop and MCP headers are refused).',
    }),
  })
  .meta({ title: 'vmcp.yaml', description: 'Configuration of a vmcp compiled Virtual MCP Server.' });

/** The config after defaults, as every later phase sees it. */
export type VmcpConfig = z.output<typeof VmcpConfigSchema>;
/** One backend after defaults. */
export type BackendConfig = z.output<typeof BackendSchema>;
/** One outgoing auth strategy after defaults. */
export type StrategyConfig = z.output<typeof StrategySchema>;
/** One composite tool after defaults. */
export type CompositeToolConfig = NonNullable<VmcpConfig['compositeTools']>[number];
/** One workflow step after defaults. */
export type StepConfig = CompositeToolConfig['steps'][number];
/** The config as written (before defaults). */
export type VmcpConfigInput = z.input<typeof VmcpConfigSchema>;

/** Keys that are accepted for compatibility but not implemented, with whether they are fatal. */
export const UNSUPPORTED_KEYS: ReadonlyArray<{ path: string; fatal: boolean; what: string }> = [
  { path: 'compositeToolRefs', fatal: true, what: 'Kubernetes composite tool references' },
  { path: 'codeMode', fatal: true, what: 'code mode' },
];
