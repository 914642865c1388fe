import { compareStrings, sha256, stableJson } from '../runtime/canonical.ts';
import type { CompiledGateway } from '../runtime/types.ts';
import { bundleRouter, NODE_TARGET, type BundleOutput } from './bundle.ts';
import { loadConfig, type ConfigContext, type ValidConfig } from './config/validate.ts';
import { sortDiagnostics, type Diagnostic } from './diagnostics.ts';
import { buildGateway } from './emit/gateway.ts';
import { emitRouter, hasRuntimeAuth, runtimeImports } from './emit/router.ts';
import { LOCKFILE_VERSION, absentBackend, serializeLock, type Lockfile } from './lock.ts';
import { buildCatalog, type Catalog } from './resolve/catalog.ts';
import { checkLockFreshness, parseLock } from './resolve/lock-check.ts';
import { introspectionTargets, secretValues } from './resolve/targets.ts';
import { addIntrospectionCredentials } from './resolve/introspect-credentials.ts';
import { checkPolicies } from './auth/cedar-check.ts';
import type { IntrospectResult, IntrospectTarget } from './resolve/introspect.ts';
import { VMCP_VERSION } from './version.ts';

/** Everything `compile` needs, normalized once by the CLI. */
export interface CompileContext extends ConfigContext {
  file: string;
  text: string;
  /** The current lock file's text, if there is one. */
  lockText?: string;
  frozen: boolean;
  allowMissing: boolean;
  /** Connects to the backends (the only network step); injected so the pipeline stays testable. */
  introspect: (targets: IntrospectTarget[]) => Promise<IntrospectResult[]>;
}

/** The artifacts of one compile, as bytes to write. */
export interface CompileOutput {
  valid: ValidConfig;
  lock: Lockfile;
  lockText: string;
  catalog: Catalog;
  gateway: CompiledGateway;
  routerSource: string;
  bundle: BundleOutput;
  manifest: Manifest;
  manifestText: string;
}

/** `dist/<name>.manifest.json`: what a reviewer and `vmcp verify` need to know about a bundle. */
export interface Manifest {
  manifestVersion: 1;
  name: string;
  vmcpVersion: string;
  nodeTarget: string;
  inputs: { config: string; lock: string };
  bundle: { file: string; sha256: string; bytes: number };
  backends: Array<{ name: string; transport: string; command?: string; args?: string[]; url?: string; status: string }>;
  counts: { tools: number; prompts: number; resources: number; resourceTemplates: number };
  auth: { incoming: string; outgoing: string[]; outgoingByBackend: Record<string, string> };
  transports: string[];
}

/** config → group → lock (introspect or frozen) → catalog → router → bundle → manifest. */
export async function compile(ctx: CompileContext): Promise<{ value?: CompileOutput; diagnostics: Diagnostic[] }> {
  const loaded = loadConfig(ctx.file, ctx.text, ctx);
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  const done = (value?: CompileOutput) => ({ value: diagnostics.some((d) => d.severity === 'error') ? undefined : value, diagnostics: sortDiagnostics(diagnostics) });
  if (!loaded.value) return done();
  const valid = loaded.value;
  // The config language accepts every ToolHive strategy; only those the runtime implements compile.
  const oa = valid.config.outgoingAuth;
  for (const [path, s] of [[['outgoingAuth', 'default'], oa.default], ...Object.entries(oa.backends).map(([n, s]) => [['outgoingAuth', 'backends', n], s] as const)] as const) {
    if (hasRuntimeAuth(s.type)) continue;
    const at = valid.parsed.locator.at([...path, 'type']);
    diagnostics.push({ code: 'UNSUPPORTED', severity: 'error', message: `outgoing auth strategy "${s.type}" is validated but not yet implemented by the vmcp runtime`, file: ctx.file, line: at.line, column: at.column, hint: 'use header_injection with headerValueEnv for now' });
  }
  if (diagnostics.some((d) => d.severity === 'error')) return done();

  let lock: Lockfile;
  if (ctx.frozen) {
    const parsed = parseLock(ctx.lockText, ctx.file);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.value) return done();
    diagnostics.push(...checkLockFreshness(valid, parsed.value));
    // A stale lock no longer describes the backends: conflicts computed from it would mislead.
    if (diagnostics.some((d) => d.severity === 'error')) return done();
    lock = parsed.value;
  } else {
    const prepared = await addIntrospectionCredentials(introspectionTargets(valid, ctx.env), valid, ctx.env);
    for (const f of prepared.failures) {
      const b = valid.backends.find((x) => x.name === f.name)!;
      const at = b.origin.locator.at(b.origin.path);
      diagnostics.push({ code: 'BACKEND_UNREACHABLE', severity: ctx.allowMissing ? 'warning' : 'error', message: `backend "${f.name}": cannot get credentials to list it: ${f.message}`, file: b.origin.file, line: at.line, column: at.column, hint: 'check the token endpoint and the client secret env variable, or pass --allow-missing' });
    }
    const failed = new Set(prepared.failures.map((f) => f.name));
    const results = await ctx.introspect(prepared.targets.filter((t) => !failed.has(t.name)));
    lock = { lockfileVersion: LOCKFILE_VERSION, backends: {} };
    for (const r of results) {
      const b = valid.backends.find((x) => x.name === r.name)!;
      const at = b.origin.locator.at(b.origin.path);
      for (const d of r.diagnostics) {
        const severity = d.code === 'BACKEND_UNREACHABLE' && ctx.allowMissing ? 'warning' : d.severity;
        diagnostics.push({ ...d, severity, file: b.origin.file, line: at.line, column: at.column });
      }
      if (r.backend) lock.backends[r.name] = r.backend;
      else if (ctx.allowMissing) lock.backends[r.name] = absentBackend(b.identity);
    }
    if (diagnostics.some((d) => d.code === 'BACKEND_UNREACHABLE' && d.severity === 'error')) {
      diagnostics.push({ code: 'BACKEND_UNREACHABLE', severity: 'info', message: 'the lock was not written because a backend could not be reached', file: ctx.file, line: 1, column: 1, hint: 'fix the backend, or pass --allow-missing to record it as absent' });
      return done();
    }
  }
  for (const b of valid.backends) {
    if (lock.backends[b.name]?.status === 'absent') {
      const at = b.origin.locator.at(b.origin.path);
      diagnostics.push({ code: 'BACKEND_ABSENT', severity: 'warning', message: `backend "${b.name}" is recorded as absent in the lock: it exposes nothing until the next compile reaches it`, file: b.origin.file, line: at.line, column: at.column });
    }
  }
  const lockText = serializeLock(lock);
  // Later phases read the lock as --frozen would (sorted keys), so both paths emit the same bytes.
  lock = JSON.parse(lockText) as Lockfile;
  const catalog = buildCatalog(valid.config, valid.backends, lock, { file: ctx.file, locator: valid.parsed.locator });
  diagnostics.push(...catalog.diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return done();
  // Authorization policies are checked against what the gateway exposes, by exposed names.
  const authz = valid.config.incomingAuth.authz;
  if (authz?.type === 'cedar') {
    const c = catalog.value;
    diagnostics.push(...checkPolicies({
      file: ctx.file,
      locator: valid.parsed.locator,
      source: ctx.text,
      policies: authz.policies,
      entitiesJson: authz.entitiesJson,
      catalog: { tools: c.tools.map((t) => t.exposed), prompts: c.prompts.map((p) => p.exposed), resources: c.resources.map((r) => r.key), resourceTemplates: c.resourceTemplates.map((t) => t.key) },
    }));
    if (diagnostics.some((d) => d.severity === 'error')) return done();
  }

  const gateway = buildGateway(valid.config, valid.backends, lock, catalog.value);
  const routerSource = emitRouter(gateway, './runtime');
  const bundle = await bundleRouter(routerSource, gateway.name);
  const manifest = buildManifest(valid, lock, lockText, gateway, catalog.value, bundle, ctx.text);
  const manifestText = stableJson(manifest);

  // Secrets are references: no resolved value may reach an artifact.
  for (const { name, value } of secretValues(valid, ctx.env)) {
    for (const [what, text] of [['lock', lockText], ['bundle', bundle.code], ['manifest', manifestText]] as const) {
      if (text.includes(value)) {
        diagnostics.push({ code: 'SECRET_LEAK', severity: 'error', message: `the value of environment variable ${name} appears in the ${what}`, file: ctx.file, line: 1, column: 1, hint: `a backend may be echoing it in a tool description; the ${what} was not written` });
      }
    }
  }
  return done({ valid, lock, lockText, catalog: catalog.value, gateway, routerSource, bundle, manifest, manifestText });
}

function buildManifest(valid: ValidConfig, lock: Lockfile, lockText: string, gateway: CompiledGateway, catalog: Catalog, bundle: BundleOutput, configText: string): Manifest {
  const imports = runtimeImports(gateway);
  const incoming = valid.config.incomingAuth;
  return {
    manifestVersion: 1,
    name: gateway.name,
    vmcpVersion: VMCP_VERSION,
    nodeTarget: NODE_TARGET,
    inputs: { config: sha256(configText), lock: sha256(lockText) },
    bundle: { file: `${gateway.name}.vmcp.mjs`, sha256: sha256(bundle.code), bytes: Buffer.byteLength(bundle.code) },
    backends: valid.backends.map((b) => ({
      name: b.name,
      transport: b.transport,
      ...(b.transport === 'stdio' ? { command: b.command, args: b.args ?? [] } : { url: b.url }),
      status: lock.backends[b.name]?.status ?? 'absent',
    })),
    counts: { tools: catalog.tools.length, prompts: catalog.prompts.length, resources: catalog.resources.length, resourceTemplates: catalog.resourceTemplates.length },
    auth: {
      incoming: incoming.type + (incoming.authz?.type === 'cedar' ? '+cedar' : ''),
      outgoing: imports.outgoingAuth,
      outgoingByBackend: Object.fromEntries(gateway.backends.map((b) => [b.name, b.auth.type]).sort((a, b) => compareStrings(a[0], b[0]))),
    },
    transports: imports.transports,
  };
}
