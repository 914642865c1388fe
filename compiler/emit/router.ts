import {
  IndentationText,
  NewLineKind,
  Project,
  QuoteKind,
  StructureKind,
  type CodeBlockWriter,
  type ImportDeclarationStructure,
} from 'ts-morph';
import { compareStrings, sortKeysDeep } from '../../runtime/canonical.ts';
import type { CompiledGateway, TransportKind } from '../../runtime/compiled-gateway.ts';

/** Where each runtime plugin lives and what it exports: the generated module imports only those used. */
const TRANSPORT_MODULES: Record<TransportKind, { file: string; name: string }> = {
  stdio: { file: 'transports/stdio.ts', name: 'stdioTransport' },
  sse: { file: 'transports/sse.ts', name: 'sseTransport' },
  'streamable-http': { file: 'transports/streamable-http.ts', name: 'streamableHttpTransport' },
};
const AUTH_MODULES: Record<string, { file: string; name: string }> = {
  unauthenticated: { file: 'auth/out/unauthenticated.ts', name: 'unauthenticated' },
  header_injection: { file: 'auth/out/header-injection.ts', name: 'headerInjection' },
  token_exchange: { file: 'auth/out/token-exchange.ts', name: 'tokenExchange' },
  client_credentials: { file: 'auth/out/client-credentials.ts', name: 'clientCredentials' },
};
/** Incoming verifier and authorizer modules: jose and cedar-wasm are bundled only through these. */
const INCOMING_MODULES = {
  oidc: { file: 'auth/in/oidc.ts', name: 'oidcAuth' },
  local: { file: 'auth/in/local.ts', name: 'localAuth' },
};
const AUTHZ_MODULE = { file: 'auth/authz/cedar.ts', name: 'cedarAuthorizer' };
/** Observers beyond the built-in metrics: OpenTelemetry and the audit log, each only when configured. */
const OBSERVER_MODULES = {
  telemetry: { file: 'telemetry/otel.ts', name: 'otelTelemetry' },
  audit: { file: 'audit/audit.ts', name: 'auditLog' },
};
/** Rate limits kept in memory, or the Redis store (which keeps them itself): each only when configured. */
const SHARED_STATE_MODULES = {
  rateLimiter: { file: 'shared/rate-limit.ts', name: 'memoryRateLimiter' },
  sharedStore: { file: 'shared/redis.ts', name: 'redisStore' },
} as const;
/** find_tool / call_tool and the search index code: bundled only with an enabled optimizer. */
const OPTIMIZER_MODULE = { file: 'optimizer/optimizer.ts', name: 'optimizer' };
/** The workflow engine: bundled only when the config has composite tools. */
const COMPOSITES_MODULE = { file: 'composite/engine.ts', name: 'runWorkflow' };

/** True when the runtime has an implementation of this outgoing auth strategy to bundle. */
export function hasRuntimeAuth(type: string): boolean {
  return Object.hasOwn(AUTH_MODULES, type);
}

/** What the generated module pulls in from the runtime, derived from the gateway data. */
export interface RuntimeImports {
  transports: TransportKind[];
  outgoingAuth: string[];
  /** 'oidc' when tokens are verified; 'local' when every caller is the local OS user. */
  incomingAuth?: 'oidc' | 'local';
  /** 'cedar' when an authorization policy applies. */
  authz?: 'cedar';
  /** Observer plugins: 'telemetry' (OpenTelemetry) and 'audit', when configured. */
  observers?: Array<'telemetry' | 'audit'>;
  /** 'workflows' when the config has composite tools. */
  composites?: 'workflows';
  /** 'rateLimiter' for in-memory rate limits; 'sharedStore' for sessionStorage redis (which also keeps the limits). */
  sharedState?: 'rateLimiter' | 'sharedStore';
  /** 'optimizer' with an enabled optimizer block. */
  optimizer?: 'optimizer';
}

/** The transports and auth strategies a gateway uses, sorted. */
export function runtimeImports(gateway: CompiledGateway): RuntimeImports {
  const uniq = (xs: string[]) => [...new Set(xs)].sort(compareStrings);
  return {
    transports: uniq(gateway.backends.map((b) => b.transport)) as TransportKind[],
    outgoingAuth: uniq(gateway.backends.map((b) => b.auth.type)),
    ...(gateway.incomingAuth?.type === 'oidc' || gateway.incomingAuth?.type === 'local'
      ? { incomingAuth: gateway.incomingAuth.type }
      : {}),
    ...(gateway.incomingAuth?.authz ? { authz: 'cedar' as const } : {}),
    ...(gateway.composites?.length ? { composites: 'workflows' as const } : {}),
    ...(gateway.optimizer ? { optimizer: 'optimizer' as const } : {}),
    ...(gateway.sharedStore
      ? { sharedState: 'sharedStore' as const }
      : gateway.rateLimits
        ? { sharedState: 'rateLimiter' as const }
        : {}),
    ...(gateway.telemetry || gateway.audit
      ? {
          observers: [
            ...(gateway.telemetry ? ['telemetry' as const] : []),
            ...(gateway.audit ? ['audit' as const] : []),
          ],
        }
      : {}),
  };
}

/**
 * Emits the routing module: data tables plus imports of only the runtime pieces this config needs.
 * `runtimeDir` is the import prefix of runtime/ as seen from the module (e.g. "./runtime").
 * Built as one ts-morph structure and printed once; no logic is generated.
 */
export function emitRouter(gateway: CompiledGateway, runtimeDir: string): string {
  const imports = runtimeImports(gateway);
  const project = new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: {
      indentationText: IndentationText.TwoSpaces,
      quoteKind: QuoteKind.Single,
      newLineKind: NewLineKind.LineFeed,
    },
  });
  const transportEntries = imports.transports.map((t) => ({ key: t, ...TRANSPORT_MODULES[t] }));
  const authEntries = imports.outgoingAuth.filter((a) => AUTH_MODULES[a]).map((a) => ({ key: a, ...AUTH_MODULES[a] }));
  const inEntries = [
    ...(imports.incomingAuth ? [{ key: 'incomingAuth', ...INCOMING_MODULES[imports.incomingAuth] }] : []),
    ...(imports.authz ? [{ key: 'authz', ...AUTHZ_MODULE }] : []),
    ...(imports.composites ? [{ key: 'composites', ...COMPOSITES_MODULE }] : []),
    ...(imports.sharedState ? [{ key: imports.sharedState, ...SHARED_STATE_MODULES[imports.sharedState] }] : []),
    ...(imports.optimizer ? [{ key: 'optimizer', ...OPTIMIZER_MODULE }] : []),
  ];
  const observerEntries = (imports.observers ?? []).map((k) => OBSERVER_MODULES[k]);
  const observers = observerEntries.length ? `, observers: [${observerEntries.map((e) => e.name).join(', ')}]` : '';
  const plugins = `{ transports: { ${transportEntries.map((e) => `${quoteKey(e.key)}: ${e.name}`).join(', ')} }, outgoingAuth: { ${authEntries.map((e) => `${e.key}: ${e.name}`).join(', ')} }${inEntries.map((e) => `, ${e.key}: ${e.name}`).join('')}${observers} }`;
  const file = project.createSourceFile(`${gateway.name}.router.ts`, {
    leadingTrivia: `// Generated by vmcp ${gateway.vmcpVersion} from ${gateway.name}'s vmcp.yaml and vmcp.lock.json. Do not edit.\n`,
    statements: [
      importOf(`${runtimeDir}/index.ts`, 'startGateway'),
      ...[...transportEntries, ...authEntries, ...inEntries, ...observerEntries].map((e) =>
        importOf(`${runtimeDir}/${e.file}`, e.name),
      ),
      { ...importOf(`${runtimeDir}/compiled-gateway.ts`, 'CompiledGateway'), isTypeOnly: true },
      // Written at statement level: a variable initializer would inherit a hanging indent.
      (w) => {
        w.blankLine().write('export const GATEWAY: CompiledGateway = ');
        writeLiteral(w, sortKeysDeep(gateway));
        w.write(';').blankLine().write(`await startGateway(GATEWAY, ${plugins});`);
      },
    ],
  });
  return file.getFullText();
}

function importOf(moduleSpecifier: string, name: string): ImportDeclarationStructure {
  return { kind: StructureKind.ImportDeclaration, moduleSpecifier, namedImports: [name] };
}

function quoteKey(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : singleQuoted(k);
}

/** A JSON value as a TypeScript literal through the writer, so indentation and quotes follow the settings. */
function writeLiteral(w: CodeBlockWriter, v: unknown): void {
  const items: Array<[string | undefined, unknown]> = Array.isArray(v)
    ? v.map((x) => [undefined, x])
    : v && typeof v === 'object'
      ? Object.entries(v)
      : [];
  if (typeof v === 'string') w.write(singleQuoted(v));
  else if (!v || typeof v !== 'object') w.write(JSON.stringify(v));
  else if (items.length === 0) w.write(Array.isArray(v) ? '[]' : '{}');
  else {
    w.write(Array.isArray(v) ? '[' : '{').newLine();
    w.indent(() => {
      for (const [key, x] of items) {
        if (key !== undefined) w.write(`${quoteKey(key)}: `);
        writeLiteral(w, x);
        w.write(',').newLine();
      }
    });
    w.write(Array.isArray(v) ? ']' : '}');
  }
}

/** 'text' with JSON's escapes (control characters, backslash), but single quotes: "it's" → 'it\'s'. */
function singleQuoted(s: string): string {
  const inner = JSON.stringify(s)
    .slice(1, -1)
    .replace(/\\(.)/g, (m, c: string) => (c === '"' ? '"' : m));
  return `'${inner.replace(/'/g, "\\'")}'`;
}
