/**
 * ToolHive operator manifests as input: a `VirtualMCPServer` (API group `toolhive.stacklok.dev`) is
 * read as a vmcp config. `spec.config` is the config, `metadata.name` the name, `spec.groupRef` the
 * group; the manifest's incoming auth (inline OIDC, inline Cedar policies), outgoing auth and
 * composite tools map onto vmcp's keys. Diagnostics point into the manifest: every config path has a
 * manifest path. What has no mapping (deployment settings, references to other objects) is reported
 * as UNSUPPORTED at its key, never dropped. Pure.
 */
import { isMap, isScalar, type Document } from 'yaml';
import type { Diagnostic } from '../diagnostics.ts';
import type { ConfigPath, Locator } from './locate.ts';

/** True when a YAML document is a ToolHive VirtualMCPServer. */
export function isVirtualMcpServer(doc: Document): boolean {
  if (!isMap(doc.contents)) return false;
  const get = (k: string) => {
    const v = doc.get(k);
    return typeof v === 'string' ? v : isScalar(v) ? String(v.value) : undefined;
  };
  return get('kind') === 'VirtualMCPServer' && (get('apiVersion') ?? '').startsWith('toolhive.stacklok.dev/');
}

/** Spec keys that configure the pod or the Service, not the gateway: deploy/kubernetes holds them. */
const DEPLOYMENT_KEYS: Record<string, string> = {
  podTemplateSpec: 'base/deployment.yaml (a kustomize patch)',
  serviceType: 'base/service.yaml',
  replicas: 'base/deployment.yaml and base/hpa.yaml',
  resources: 'base/deployment.yaml',
  serviceAccount: 'base/deployment.yaml',
  sessionAffinity: 'nothing: replicas share VMCP_SESSION_KEY and need no affinity',
};

/** Spec keys that are vmcp config keys already (the older CRD kept them beside `config`). */
const SPEC_CONFIG_KEYS = ['aggregation', 'compositeTools', 'compositeToolRefs', 'operational', 'outgoingAuth'];

/** oidcConfig.inline keys that are vmcp's `incomingAuth.oidc` keys under the same name. */
const OIDC_KEYS = [
  'issuer',
  'audience',
  'jwksUrl',
  'clientId',
  'scopes',
  'insecureAllowHttp',
  'introspectionUrl',
  'protectedResourceAllowPrivateIp',
  'jwksAllowPrivateIp',
];

/** The env variable a Secret key becomes (as for discovered outgoing auth): VMCP_SECRET_<NAME>_<KEY>. */
export function secretEnvName(name: string, key: string): string {
  return `VMCP_SECRET_${name}_${key}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export interface ManifestConfig {
  /** The config the manifest stands for. */
  data: Record<string, unknown>;
  /** Where a config path is written in the manifest. */
  pathOf(path: ConfigPath): ConfigPath;
  diagnostics: Diagnostic[];
}

/**
 * Translates a VirtualMCPServer document (already parsed, `manifest` its plain data) into a config,
 * with the path map diagnostics use. `at` locates manifest paths.
 */
export function fromManifest(manifest: any, file: string, at: Locator): ManifestConfig {
  const spec = (manifest?.spec ?? {}) as Record<string, any>;
  const diagnostics: Diagnostic[] = [];
  const report = (
    code: Diagnostic['code'],
    severity: Diagnostic['severity'],
    path: ConfigPath,
    message: string,
    hint: string,
  ) => {
    const s = at.at(path, 'key');
    diagnostics.push({
      code,
      severity,
      message,
      file,
      line: s.line,
      column: s.column,
      endLine: s.endLine,
      endColumn: s.endColumn,
      hint,
    });
  };
  const config: Record<string, unknown> = { ...(isObject(spec.config) ? spec.config : {}) };
  /** Config top-level key → the manifest path of its value. */
  const roots = new Map<string, ConfigPath>(Object.keys(config).map((k) => [k, ['spec', 'config', k]]));

  if (manifest?.metadata?.name !== undefined) {
    config.name = manifest.metadata.name;
    roots.set('name', ['metadata', 'name']);
  }
  if (spec.groupRef !== undefined) {
    const named = isObject(spec.groupRef);
    config.groupRef = named ? spec.groupRef.name : spec.groupRef;
    roots.set('groupRef', named ? ['spec', 'groupRef', 'name'] : ['spec', 'groupRef']);
  }
  for (const k of SPEC_CONFIG_KEYS) {
    if (spec[k] === undefined) continue;
    // The spec-level block supersedes one in spec.config, as ToolHive's converter does.
    config[k] = spec[k];
    roots.set(k, ['spec', k]);
  }

  // Incoming auth: inline OIDC and inline Cedar map; references to other objects do not.
  const incomingPaths = new Map<string, ConfigPath>();
  if (isObject(spec.incomingAuth)) {
    const ia = spec.incomingAuth;
    const out: Record<string, unknown> = {};
    if (ia.type !== undefined) {
      out.type = ia.type;
      incomingPaths.set('type', ['spec', 'incomingAuth', 'type']);
    }
    const oc = ia.oidcConfig;
    if (isObject(oc)) {
      if (oc.type === 'inline' || (oc.type === undefined && isObject(oc.inline))) {
        const inline = (isObject(oc.inline) ? oc.inline : {}) as Record<string, any>;
        const oidc: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(inline)) {
          const p: ConfigPath = ['spec', 'incomingAuth', 'oidcConfig', 'inline', k];
          if (OIDC_KEYS.includes(k)) {
            oidc[k] = v;
            incomingPaths.set(`oidc.${k}`, p);
          } else if (k === 'clientSecretRef' && isObject(v)) {
            const env = secretEnvName(String(v.name), String(v.key));
            oidc.clientSecretEnv = env;
            incomingPaths.set('oidc.clientSecretEnv', p);
            report(
              'BAD_VALUE',
              'info',
              p,
              `clientSecretRef (Secret "${v.name}", key "${v.key}") is read from the env variable ${env}`,
              `give the gateway's pod ${env} from that Secret key (env.valueFrom.secretKeyRef)`,
            );
          } else {
            // Unknown to vmcp: kept, so the schema reports it at its key.
            oidc[k] = v;
            incomingPaths.set(`oidc.${k}`, p);
          }
        }
        if (oc.resourceUrl !== undefined) {
          oidc.resource = oc.resourceUrl;
          incomingPaths.set('oidc.resource', ['spec', 'incomingAuth', 'oidcConfig', 'resourceUrl']);
        }
        out.oidc = oidc;
        incomingPaths.set('oidc', ['spec', 'incomingAuth', 'oidcConfig', 'inline']);
      } else
        report(
          'UNSUPPORTED',
          'error',
          ['spec', 'incomingAuth', 'oidcConfig', 'type'],
          `incomingAuth.oidcConfig of type "${oc.type}" refers to another object, which vmcp does not read`,
          'write the issuer, clientId and audience inline (oidcConfig.type: inline)',
        );
    }
    if (ia.oidcConfigRef !== undefined)
      report(
        'UNSUPPORTED',
        'error',
        ['spec', 'incomingAuth', 'oidcConfigRef'],
        'incomingAuth.oidcConfigRef refers to an MCPOIDCConfig object, which vmcp does not read',
        'write the issuer, clientId and audience inline: oidcConfig: { type: inline, inline: { ... } }',
      );
    const az = ia.authzConfig;
    if (isObject(az)) {
      if (az.type === 'inline' || (az.type === undefined && isObject(az.inline))) {
        out.authz = { type: 'cedar', ...(isObject(az.inline) ? az.inline : {}) };
        incomingPaths.set('authz', ['spec', 'incomingAuth', 'authzConfig', 'inline']);
        incomingPaths.set('authz.type', ['spec', 'incomingAuth', 'authzConfig', 'type']);
      } else
        report(
          'UNSUPPORTED',
          'error',
          ['spec', 'incomingAuth', 'authzConfig', 'type'],
          `incomingAuth.authzConfig of type "${az.type}" refers to a ConfigMap, which vmcp does not read`,
          'copy the policies inline: authzConfig: { type: inline, inline: { policies: [...] } }',
        );
    }
    for (const k of Object.keys(ia))
      if (!['type', 'oidcConfig', 'oidcConfigRef', 'authzConfig'].includes(k))
        report(
          'UNSUPPORTED',
          'warning',
          ['spec', 'incomingAuth', k],
          `incomingAuth.${k} has no vmcp equivalent and is ignored`,
          'remove it',
        );
    config.incomingAuth = out;
    roots.set('incomingAuth', ['spec', 'incomingAuth']);
  }

  for (const k of Object.keys(spec)) {
    if (k === 'config' || k === 'groupRef' || k === 'incomingAuth' || SPEC_CONFIG_KEYS.includes(k)) continue;
    const where = DEPLOYMENT_KEYS[k];
    if (where)
      report(
        'UNSUPPORTED',
        'warning',
        ['spec', k],
        `spec.${k} configures the Deployment, not the gateway: vmcp compile ignores it`,
        `set it in deploy/kubernetes: ${where}`,
      );
    else if (k.endsWith('Ref') || k.endsWith('Refs'))
      report(
        'UNSUPPORTED',
        'warning',
        ['spec', k],
        `spec.${k} refers to another Kubernetes object, which vmcp does not read`,
        'copy what it holds into spec.config (telemetry, audit, ...)',
      );
    else
      report(
        'UNSUPPORTED',
        'warning',
        ['spec', k],
        `spec.${k} has no vmcp equivalent and is ignored`,
        'remove it, or move a config key into spec.config',
      );
  }

  const pathOf = (path: ConfigPath): ConfigPath => {
    if (path.length === 0) return ['spec'];
    const [head, ...rest] = path;
    if (head === 'incomingAuth' && rest.length > 0) {
      // The longest mapped prefix: `oidc.issuer`, then `oidc`, then the block.
      for (let n = Math.min(rest.length, 2); n > 0; n--) {
        const p = incomingPaths.get(rest.slice(0, n).join('.'));
        if (p) return [...p, ...rest.slice(n)];
      }
      return ['spec', 'incomingAuth'];
    }
    const root = roots.get(String(head));
    return root ? [...root, ...rest] : ['spec', 'config', ...path];
  };
  return { data: config, pathOf, diagnostics };
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
