/** The manifest beside every bundle: hashes, inputs and a catalog summary, for review and `vmcp verify`. Pure. */
import { canonicalJson, compareStrings, sha256 } from '../../runtime/canonical.ts';
import type { CompiledGateway } from '../../runtime/compiled-gateway.ts';
import { NODE_TARGET, type BundleOutput } from '../bundle.ts';
import type { ValidConfig } from '../config/validate.ts';
import type { Lockfile } from '../lock.ts';
import type { Catalog } from '../resolve/catalog.ts';
import { VMCP_VERSION } from '../version.ts';
import { runtimeImports } from './router.ts';

/** `dist/<name>.manifest.json`: what a reviewer and `vmcp verify` need to know about a bundle. */
export interface Manifest {
  manifestVersion: 1;
  name: string;
  vmcpVersion: string;
  nodeTarget: string;
  inputs: { config: string; lock: string };
  bundle: { file: string; sha256: string; bytes: number };
  backends: Array<{
    name: string;
    transport: string;
    command?: string;
    args?: string[];
    url?: string;
    status: string;
    /** An inline backend's `description` and `metadata`, as written: labels for the reviewer. */
    description?: string;
    metadata?: Record<string, string>;
  }>;
  counts: { tools: number; prompts: number; resources: number; resourceTemplates: number };
  auth: { incoming: string; outgoing: string[]; outgoingByBackend: Record<string, string> };
  transports: string[];
  /**
   * Composite tools, when the config has any: each with its steps, the backend tools they call
   * (`backend/originalName`) and the sha256 of its compiled plan, so a reviewer sees what a
   * workflow reaches and a changed plan shows as a changed hash.
   */
  composites?: Array<{ name: string; steps: string[]; tools: string[]; sha256: string }>;
  /** The config's top-level `metadata` (free-form labels), when it has any. */
  metadata?: Record<string, string>;
}

/** Builds the manifest of one compile from its inputs and outputs. */
export function buildManifest(
  valid: ValidConfig,
  lock: Lockfile,
  lockText: string,
  gateway: CompiledGateway,
  catalog: Catalog,
  bundle: BundleOutput,
  configText: string,
): Manifest {
  const imports = runtimeImports(gateway);
  const incoming = valid.config.incomingAuth;
  const inline = new Map(valid.config.backends.map((b) => [b.name, b]));
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
      ...labelsOf(inline.get(b.name)),
    })),
    counts: {
      tools: catalog.tools.length,
      prompts: catalog.prompts.length,
      resources: catalog.resources.length,
      resourceTemplates: catalog.resourceTemplates.length,
    },
    auth: {
      incoming: incoming.type + (incoming.authz?.type === 'cedar' ? '+cedar' : ''),
      outgoing: imports.outgoingAuth,
      outgoingByBackend: Object.fromEntries(
        gateway.backends.map((b) => [b.name, b.auth.type]).sort((a, b) => compareStrings(a[0], b[0])),
      ),
    },
    transports: imports.transports,
    ...(gateway.composites?.length ? { composites: compositeSummaries(gateway) } : {}),
    ...(valid.config.metadata && Object.keys(valid.config.metadata).length
      ? { metadata: sortedMap(valid.config.metadata) }
      : {}),
  };
}

/** A backend's description and metadata, when written. */
function labelsOf(b: { description?: string; metadata?: Record<string, string> } | undefined) {
  return {
    ...(b?.description !== undefined ? { description: b.description } : {}),
    ...(b?.metadata && Object.keys(b.metadata).length ? { metadata: sortedMap(b.metadata) } : {}),
  };
}

/** The same map with its keys in one order, so the manifest never depends on the YAML's order. */
function sortedMap(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).sort((a, b) => compareStrings(a[0], b[0])));
}

/** One line per composite tool: steps, the backend tools reached, and the plan's hash. */
function compositeSummaries(gateway: CompiledGateway): NonNullable<Manifest['composites']> {
  const backendName = (i: number) => gateway.backends[i]?.name ?? `#${i}`;
  return (gateway.composites ?? [])
    .map((plan) => {
      const tools = new Set<string>();
      for (const step of plan.steps) {
        const target = step.type === 'tool' ? step : step.type === 'forEach' ? step.step : undefined;
        if (target) tools.add(`${backendName(target.backend)}/${target.name}`);
      }
      return {
        name: plan.name,
        steps: plan.steps.map((s) => s.id),
        tools: [...tools].sort(compareStrings),
        sha256: sha256(canonicalJson(plan)),
      };
    })
    .sort((a, b) => compareStrings(a.name, b.name));
}
