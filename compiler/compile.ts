/**
 * The compile pipeline, one phase per step: config → strategies the runtime has → lock (pinned or
 * introspected) → catalog → composite tools → policies → gateway data → router module → bundle → manifest → leak check.
 * Each phase lives in its own module and returns `{ value, diagnostics }`; this file only sequences them.
 */
import { stableJson } from '../runtime/canonical.ts';
import type { CompiledGateway } from '../runtime/compiled-gateway.ts';
import { checkPolicies } from './auth/cedar-check.ts';
import { checkRuntimeStrategies } from './auth/runtime-strategies.ts';
import { bundleRouter, type BundleOutput } from './bundle.ts';
import { checkConfig, readConfig, type ValidConfig } from './config/validate.ts';
import { sortDiagnostics, type Diagnostic } from './diagnostics.ts';
import { compileComposites, type CompiledComposites } from './composite/compile-composites.ts';
import { checkRateLimitTools } from './config/checks-scale.ts';
import { checkOptimizer } from './config/checks-optimizer.ts';
import { embedCatalog, lockedEmbeddingsOf } from './optimizer/embeddings.ts';
import { parseLock } from './resolve/lock-check.ts';
import { buildGateway, exposedToolDefs } from './emit/gateway.ts';
import { buildManifest, type Manifest } from './emit/manifest.ts';
import { emitRouter } from './emit/router.ts';
import { checkSecretLeaks } from './emit/secret-leaks.ts';
import { serializeLock, type Lockfile } from './lock.ts';
import { buildCatalog, type Catalog } from './resolve/catalog.ts';
import { pinLock, type PinContext } from './resolve/pin-lock.ts';
import { type GroupPhaseContext, resolveGroupRef } from './resolve/lookup-group.ts';
import { secretValues } from './resolve/targets.ts';

export type { Manifest };

/** Everything `compile` needs, normalized once by the CLI; `introspect` is the only network step, injected. */
export interface CompileContext extends PinContext, Pick<GroupPhaseContext, 'groupOptions' | 'lookupGroup'> {
  /** The config's text. */
  text: string;
}

/** The artifacts of one compile, as bytes to write. */
export interface CompileOutput {
  valid: ValidConfig;
  lock: Lockfile;
  lockText: string;
  catalog: Catalog;
  /** The composite tools: plans for the engine, definitions to advertise. */
  composites: CompiledComposites;
  gateway: CompiledGateway;
  routerSource: string;
  bundle: BundleOutput;
  manifest: Manifest;
  manifestText: string;
}

/** config → group → lock (introspect or frozen) → catalog → router → bundle → manifest. */
export async function compile(ctx: CompileContext): Promise<{ value?: CompileOutput; diagnostics: Diagnostic[] }> {
  const read = readConfig(ctx.file, ctx.text);
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  const done = (value?: CompileOutput) => ({
    value: diagnostics.some((d) => d.severity === 'error') ? undefined : value,
    diagnostics: sortDiagnostics(diagnostics),
  });
  if (!read.value) return done();
  // groupRef's members: looked up now, or read from the lock under --frozen (the compile's first network step).
  const group = await resolveGroupRef(read.value, ctx);
  diagnostics.push(...group.diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return done();
  const loaded = checkConfig(read.value, { ...ctx, group: { options: ctx.groupOptions, resolved: group.value } });
  diagnostics.push(...loaded.diagnostics);
  if (!loaded.value) return done();
  const valid = loaded.value;
  diagnostics.push(...checkRuntimeStrategies(valid, ctx.file));
  if (diagnostics.some((d) => d.severity === 'error')) return done();

  const pinned = await pinLock(valid, ctx);
  diagnostics.push(...pinned.diagnostics);
  if (!pinned.value) return done();
  let lock = pinned.value;
  let lockText = serializeLock(lock);
  // Later phases read the lock as --frozen would (sorted keys), so both paths emit the same bytes.
  lock = JSON.parse(lockText) as Lockfile;
  const catalog = buildCatalog(valid.config, valid.backends, lock, { file: ctx.file, locator: valid.parsed.locator });
  diagnostics.push(...catalog.diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return done();
  // Composite tools are checked against the catalog and the pinned schemas.
  const composites = compileComposites({
    config: valid.config,
    backends: valid.backends,
    lock,
    catalog: catalog.value,
    src: { file: ctx.file, locator: valid.parsed.locator, doc: valid.parsed.doc, source: ctx.text },
  });
  diagnostics.push(...composites.diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return done();
  // Authorization policies are checked against what the gateway exposes, by exposed names.
  const authz = valid.config.incomingAuth.authz;
  if (authz?.type === 'cedar') {
    const c = catalog.value;
    diagnostics.push(
      ...checkPolicies({
        file: ctx.file,
        locator: valid.parsed.locator,
        source: ctx.text,
        policies: authz.policies,
        entitiesJson: authz.entitiesJson,
        catalog: {
          tools: [...c.tools.map((t) => t.exposed), ...composites.value.plans.map((p) => p.name)],
          prompts: c.prompts.map((p) => p.exposed),
          resources: c.resources.map((r) => r.key),
          resourceTemplates: c.resourceTemplates.map((t) => t.key),
        },
      }),
    );
    if (diagnostics.some((d) => d.severity === 'error')) return done();
  }

  // Rate limits name exposed tools, as clients call them; the optimizer's tools must not shadow one.
  const exposedTools = [...catalog.value.tools.map((t) => t.exposed), ...composites.value.plans.map((p) => p.name)];
  diagnostics.push(
    ...checkRateLimitTools(valid.config, exposedTools, ctx.file, valid.parsed.locator),
    ...checkOptimizer(valid.config, exposedTools, ctx.file, valid.parsed.locator),
  );
  if (diagnostics.some((d) => d.severity === 'error')) return done();

  // With an embedding service, the catalog is embedded now (or read from the lock) and pinned.
  const embedded = await embedCatalog({
    config: valid.config,
    tools: exposedToolDefs(catalog.value, composites.value),
    previous: lockedEmbeddingsOf(ctx.frozen ? lock : parseLock(ctx.lockText, ctx.file).value),
    frozen: ctx.frozen,
    env: ctx.env as NodeJS.ProcessEnv,
    file: ctx.file,
  });
  diagnostics.push(...embedded.diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return done();
  if (!ctx.frozen) {
    lock = { ...lock, embeddings: embedded.value?.locked };
    if (!lock.embeddings) delete lock.embeddings;
    lockText = serializeLock(lock);
  }

  const gateway = buildGateway(
    valid.config,
    valid.backends,
    lock,
    catalog.value,
    composites.value,
    embedded.value?.byTool,
  );
  const routerSource = emitRouter(gateway, './runtime');
  const bundle = await bundleRouter(routerSource, gateway.name);
  const manifest = buildManifest(valid, lock, lockText, gateway, catalog.value, bundle, ctx.text);
  const manifestText = stableJson(manifest);

  // Secrets are references: no resolved value may reach an artifact.
  diagnostics.push(
    ...checkSecretLeaks(
      secretValues(valid, ctx.env),
      { lock: lockText, bundle: bundle.code, manifest: manifestText },
      ctx.file,
    ),
  );
  return done({
    valid,
    lock,
    lockText,
    catalog: catalog.value,
    composites: composites.value,
    gateway,
    routerSource,
    bundle,
    manifest,
    manifestText,
  });
}
