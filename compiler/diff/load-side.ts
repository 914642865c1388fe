import { posix } from 'node:path';
import type { CompiledGateway } from '../../runtime/compiled-gateway.ts';
import { compileComposites } from '../composite/compile-composites.ts';
import type { Manifest } from '../emit/manifest.ts';
import { loadConfig } from '../config/validate.ts';
import type { Diagnostic } from '../diagnostics.ts';
import { buildGateway } from '../emit/gateway.ts';
import { buildCatalog } from '../resolve/catalog.ts';
import { checkLockFreshness, lockPathFor, parseLock } from '../resolve/lock-check.ts';
import {
  incomingFromConfig,
  surfaceFromGateway,
  surfaceFromLock,
  surfaceFromManifest,
  type IncomingSurface,
  type Surface,
} from './surface.ts';

/** What loading a side needs from the outside world; injected by the CLI (and by tests). */
export interface SideReader {
  env: Readonly<Record<string, string | undefined>>;
  /** Reads a file relative to the working directory; undefined when missing. */
  readFile: (path: string) => string | undefined;
  /** `git show <ref>:<path>` (path relative to the working directory); undefined when missing. */
  gitShow: (ref: string, path: string) => string | undefined;
  /** Runs `node <bundle> --dump-gateway` on the bundle's text and returns the gateway JSON text. */
  dumpGateway: (bundleText: string, label: string) => Promise<{ json?: string; error?: string }>;
}

/** A loaded side, or what went wrong (diagnostics from its config, or one message). */
export interface SideResult {
  surface?: Surface;
  diagnostics: Diagnostic[];
  error?: string;
}

/** The kinds of file a side may be, told by the name and, failing that, by the content. */
export type SideKind = 'config' | 'lock' | 'manifest' | 'bundle';

/** Tells a side's kind from its path, e.g. `dist/x.manifest.json` → manifest. */
export function sideKindOf(path: string, text?: string): SideKind | undefined {
  if (/\.(mjs|js|cjs)$/.test(path)) return 'bundle';
  if (/manifest\.json$/.test(path)) return 'manifest';
  if (/lock\.json$/.test(path)) return 'lock';
  if (/\.ya?ml$/.test(path)) return 'config';
  if (text?.trimStart().startsWith('{')) {
    try {
      const data = JSON.parse(text) as Record<string, unknown>;
      if ('manifestVersion' in data) return 'manifest';
      if ('lockfileVersion' in data) return 'lock';
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Loads one side: a path, or `git:<ref>:<path>` read through git. */
export async function loadSide(spec: string, reader: SideReader): Promise<SideResult> {
  const git = /^git:([^:]+):(.+)$/.exec(spec);
  const path = git ? git[2] : spec;
  const read = git ? (p: string) => reader.gitShow(git[1], p) : reader.readFile;
  const text = read(path);
  if (text === undefined)
    return { diagnostics: [], error: git ? `cannot read ${path} at git ref ${git[1]}` : `cannot read ${path}` };
  const kind = sideKindOf(path, text);
  const label = spec;
  switch (kind) {
    case 'config':
      return loadConfigSide(path, text, label, read, reader);
    case 'lock': {
      const lock = parseLock(text, path.replace(/[^/]*$/, 'vmcp.yaml'));
      if (!lock.value) return { diagnostics: lock.diagnostics };
      return { surface: surfaceFromLock(lock.value, label), diagnostics: [] };
    }
    case 'manifest': {
      const m = parseJson<Manifest>(text);
      if (m?.manifestVersion !== 1)
        return { diagnostics: [], error: `${label} is not a vmcp manifest (expected manifestVersion 1)` };
      return { surface: surfaceFromManifest(m, label), diagnostics: [] };
    }
    case 'bundle':
      return loadBundleSide(path, text, label, read, reader);
    default:
      return {
        diagnostics: [],
        error: `cannot tell what ${label} is: pass a vmcp.yaml, a vmcp.lock.json, a *.manifest.json or a *.vmcp.mjs bundle`,
      };
  }
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Resolves a config against its sibling lock, as `compile --frozen` does, without bundling. */
function loadConfigSide(
  path: string,
  text: string,
  label: string,
  read: (p: string) => string | undefined,
  reader: SideReader,
): SideResult {
  // Paths named by the config (backendsFrom) arrive already joined to the config's folder.
  const loaded = loadConfig(path, text, { env: reader.env, readFile: (p) => read(posix.normalize(p)) });
  const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');
  if (!loaded.value) return { diagnostics: errors(loaded.diagnostics) };
  const lockPath = lockPathFor(path);
  const lockText = read(lockPath);
  if (lockText === undefined) {
    return {
      diagnostics: [],
      error: `${label} has no lock beside it (${lockPath}): run \`vmcp compile\` once and commit vmcp.lock.json, since diff never contacts backends`,
    };
  }
  const lock = parseLock(lockText, path);
  if (!lock.value) return { diagnostics: lock.diagnostics };
  const stale = checkLockFreshness(loaded.value, lock.value);
  if (stale.length) return { diagnostics: stale };
  const valid = loaded.value;
  const catalog = buildCatalog(valid.config, valid.backends, lock.value, { file: path, locator: valid.parsed.locator });
  if (errors(catalog.diagnostics).length) return { diagnostics: errors(catalog.diagnostics) };
  const composites = compileComposites({
    config: valid.config,
    backends: valid.backends,
    lock: lock.value,
    catalog: catalog.value,
    src: { file: path, locator: valid.parsed.locator, doc: valid.parsed.doc, source: text },
  });
  if (errors(composites.diagnostics).length) return { diagnostics: errors(composites.diagnostics) };
  const gateway = buildGateway(valid.config, valid.backends, lock.value, catalog.value, composites.value);
  const surface = surfaceFromGateway(gateway, 'config', label, incomingFromConfig(valid.config));
  surface.lockView = surfaceFromLock(lock.value, label);
  return { surface, diagnostics: [] };
}

/** A bundle's gateway data comes from `--dump-gateway`; incoming auth from the manifest beside it. */
async function loadBundleSide(
  path: string,
  text: string,
  label: string,
  read: (p: string) => string | undefined,
  reader: SideReader,
): Promise<SideResult> {
  if (!text.includes('--dump-gateway')) {
    return {
      diagnostics: [],
      error: `${label} was built by a vmcp without --dump-gateway, so its surface cannot be read safely: diff its config or manifest instead`,
    };
  }
  const dumped = await reader.dumpGateway(text, label);
  const gateway = dumped.json ? parseJson<CompiledGateway>(dumped.json) : undefined;
  if (!gateway?.lists)
    return {
      diagnostics: [],
      error: `cannot read the gateway data of ${label}: ${dumped.error ?? 'the bundle printed no gateway JSON'}`,
    };
  const manifestText = read(path.replace(/\.vmcp\.mjs$/, '.manifest.json'));
  const manifest = manifestText ? parseJson<Manifest>(manifestText) : undefined;
  let incoming: IncomingSurface | undefined;
  const dumpedIncoming = gateway.incomingAuth;
  if (dumpedIncoming?.type) {
    // Bundles carry their incoming auth in full (no secrets: the gateway only validates).
    const o = dumpedIncoming.oidc;
    incoming = { level: 'full', type: dumpedIncoming.type };
    if (dumpedIncoming.authz)
      Object.assign(incoming, { authz: dumpedIncoming.authz.type, policies: [...dumpedIncoming.authz.policies] });
    if (o)
      Object.assign(incoming, {
        issuer: o.issuer,
        audience: o.audience,
        resource: o.resource,
        jwksUrl: o.jwksUrl,
        scopes: o.scopes.length ? [...o.scopes] : undefined,
      });
  } else if (manifest?.auth?.incoming) {
    const [type, authz] = manifest.auth.incoming.split('+');
    incoming = { level: 'summary', type, ...(authz ? { authz } : {}) };
  }
  return { surface: surfaceFromGateway(gateway, 'bundle', label, incoming), diagnostics: [] };
}
