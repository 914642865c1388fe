/**
 * A group's members from the ToolHive operator's objects in a Kubernetes namespace: the MCPServer,
 * MCPRemoteProxy and MCPServerEntry objects (toolhive.stacklok.dev/v1beta1) whose spec.groupRef names
 * the group. With `outgoingAuth.source: discovered`, each member's MCPExternalAuthConfig becomes its
 * outgoing strategy; Kubernetes Secrets become env references, never values.
 * `@kubernetes/client-node` is imported here only, lazily, so no other command pays for loading it.
 */
import type { StrategyConfig } from '../../schemas/vmcp.ts';
import { describeSource, type GroupMember, type GroupSource, proxyTransport, type SkippedMember } from './group-pin.ts';
import type { LookupResult } from './lookup-toolhive.ts';

/** The operator's API group and the version vmcp reads (the CRDs' storage version). */
export const TOOLHIVE_API_GROUP = 'toolhive.stacklok.dev';
export const TOOLHIVE_API_VERSION = 'v1beta1';

/** The fields of an operator object vmcp reads. */
export interface K8sObject {
  kind?: string;
  metadata?: { name?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** A Secret key reference as the CRDs write it. */
interface SecretKeyRef {
  name?: string;
  key?: string;
}

/** The env variable a Secret key is read from at run time: `github-token`/`token` → VMCP_SECRET_GITHUB_TOKEN_TOKEN. */
export function secretEnvName(ref: SecretKeyRef): string {
  const part = (s: string | undefined) => (s ?? '').toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  return `VMCP_SECRET_${part(ref.name)}_${part(ref.key)}`;
}

const SUBJECT_TOKEN_TYPES: Record<string, string> = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  id_token: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
};

/** An MCPExternalAuthConfig spec mapped to a vmcp strategy, or why it cannot be. Pure. */
export function strategyFromAuthConfig(
  spec: Record<string, unknown> | undefined,
): { strategy: StrategyConfig; secretEnv: Record<string, string> } | { unsupported: string } {
  const type = String(spec?.type ?? '');
  const secretEnv: Record<string, string> = {};
  const envFor = (ref: SecretKeyRef | undefined) => {
    if (!ref?.name || !ref.key) return undefined;
    const name = secretEnvName(ref);
    secretEnv[name] = `${ref.name}/${ref.key}`;
    return name;
  };
  if (type === 'unauthenticated') return { strategy: { type: 'unauthenticated' } as StrategyConfig, secretEnv };
  if (type === 'headerInjection') {
    const hi = (spec?.headerInjection ?? {}) as { headerName?: string; valueSecretRef?: SecretKeyRef };
    const env = envFor(hi.valueSecretRef);
    if (!hi.headerName || !env) return { unsupported: 'headerInjection without headerName and valueSecretRef' };
    const strategy = { type: 'header_injection', headerInjection: { headerName: hi.headerName, headerValueEnv: env } };
    return { strategy: strategy as StrategyConfig, secretEnv };
  }
  if (type === 'bearerToken') {
    const env = envFor((spec?.bearerToken as { tokenSecretRef?: SecretKeyRef } | undefined)?.tokenSecretRef);
    if (!env) return { unsupported: 'bearerToken without tokenSecretRef' };
    const strategy = {
      type: 'header_injection',
      headerInjection: { headerName: 'Authorization', headerValue: `Bearer \${env:${env}}` },
    };
    return { strategy: strategy as StrategyConfig, secretEnv };
  }
  if (type === 'tokenExchange') {
    const te = (spec?.tokenExchange ?? {}) as Record<string, unknown>;
    for (const key of ['externalTokenHeaderName', 'subjectProviderName']) {
      if (te[key]) return { unsupported: `tokenExchange with ${key}` };
    }
    const subject = String(te.subjectTokenType || 'access_token');
    const strategy = {
      type: 'token_exchange',
      tokenExchange: {
        tokenUrl: String(te.tokenUrl ?? ''),
        ...(te.clientId ? { clientId: String(te.clientId) } : {}),
        ...(envFor(te.clientSecretRef as SecretKeyRef)
          ? { clientSecretEnv: secretEnvName(te.clientSecretRef as SecretKeyRef) }
          : {}),
        ...(te.audience ? { audience: String(te.audience) } : {}),
        scopes: Array.isArray(te.scopes) ? te.scopes.map(String) : [],
        subjectTokenType: SUBJECT_TOKEN_TYPES[subject] ?? subject,
      },
    };
    return { strategy: strategy as StrategyConfig, secretEnv };
  }
  return { unsupported: type || '(no type)' };
}

function groupRefOf(spec: Record<string, unknown> | undefined): string | undefined {
  const ref = spec?.groupRef;
  // v1beta1 writes {name}; earlier operator versions wrote the name as a string.
  if (typeof ref === 'string') return ref;
  if (ref && typeof ref === 'object') return (ref as { name?: string }).name;
  return undefined;
}

/**
 * Members of `group` among the operator objects, plus skipped ones and auth problems. Pure: the
 * objects are listed by the caller. `authConfigs` is given when outgoing auth is discovered.
 */
export function membersFromObjects(
  group: string,
  objects: readonly K8sObject[],
  authConfigs?: ReadonlyMap<string, Record<string, unknown> | undefined>,
): { members: GroupMember[]; skipped: SkippedMember[]; problems: Array<{ message: string; hint: string }> } {
  const members: GroupMember[] = [];
  const skipped: SkippedMember[] = [];
  const problems: Array<{ message: string; hint: string }> = [];
  for (const o of objects) {
    const spec = o.spec ?? {};
    const status = o.status ?? {};
    if (groupRefOf(spec) !== group) continue;
    const name = o.metadata?.name ?? '(unnamed)';
    const from = o.kind ?? 'MCPServer';
    let url: string | undefined;
    if (from === 'MCPServerEntry') {
      if (status.phase !== 'Valid') {
        skipped.push({ name, from, reason: `its phase is "${String(status.phase ?? 'Pending')}", not "Valid"` });
        continue;
      }
      url = typeof spec.remoteUrl === 'string' ? spec.remoteUrl : undefined;
    } else url = typeof status.url === 'string' && status.url ? status.url : undefined;
    if (!url) {
      skipped.push({
        name,
        from,
        reason: `it has no URL yet (status.url is empty; phase "${String(status.phase ?? '')}")`,
      });
      continue;
    }
    const transport = proxyTransport(
      typeof spec.proxyMode === 'string' ? spec.proxyMode : undefined,
      typeof spec.transport === 'string' ? spec.transport : undefined,
      url,
    );
    const member: GroupMember = { name, from, url, transport };
    const ref = (spec.externalAuthConfigRef as { name?: string } | undefined)?.name;
    if (authConfigs && ref) {
      if (!authConfigs.has(ref)) {
        problems.push({
          message: `${from} "${name}" references MCPExternalAuthConfig "${ref}", which does not exist`,
          hint: 'create the MCPExternalAuthConfig in the same namespace, or fix externalAuthConfigRef',
        });
      } else {
        const mapped = strategyFromAuthConfig(authConfigs.get(ref));
        if ('unsupported' in mapped) {
          problems.push({
            message: `${from} "${name}": MCPExternalAuthConfig "${ref}" of type ${mapped.unsupported} has no vmcp equivalent`,
            hint: 'vmcp maps unauthenticated, headerInjection, bearerToken and tokenExchange; set outgoingAuth.backends.<name> inline for this member, or use source: inline',
          });
        } else {
          member.auth = mapped.strategy;
          if (Object.keys(mapped.secretEnv).length) member.secretEnv = mapped.secretEnv;
        }
      }
    }
    members.push(member);
  }
  return { members, skipped, problems };
}

const KINDS = [
  { kind: 'MCPServer', plural: 'mcpservers' },
  { kind: 'MCPRemoteProxy', plural: 'mcpremoteproxies' },
  { kind: 'MCPServerEntry', plural: 'mcpserverentries' },
] as const;

/** Lists the group's objects through the cluster API. Network: called only by the compile's lookup step. */
export async function lookupKubernetes(
  group: string,
  source: Extract<GroupSource, { kind: 'kubernetes' }>,
  opts: { env: Readonly<Record<string, string | undefined>>; discoveredAuth: boolean },
): Promise<LookupResult & { problems?: Array<{ message: string; hint: string }> }> {
  const where = describeSource(source);
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    if (opts.env.KUBECONFIG) kc.loadFromFile(opts.env.KUBECONFIG.split(':')[0]);
    else kc.loadFromDefault();
  } catch (err) {
    return {
      ok: false,
      message: `cannot read a kubeconfig to look up group "${group}" in ${where}: ${(err as Error).message}`,
      hint: 'set KUBECONFIG, or run inside the cluster with a service account that may list ToolHive objects',
    };
  }
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const base = { group: TOOLHIVE_API_GROUP, version: TOOLHIVE_API_VERSION, namespace: source.namespace };
  const fail = (err: unknown, what: string): LookupResult => {
    const code = (err as { code?: number }).code;
    if (code === 404 && what === 'MCPGroup') {
      return {
        ok: false,
        message: `group "${group}" does not exist in ${where} (no MCPGroup "${group}")`,
        hint: `check the namespace (--namespace, VMCP_NAMESPACE) and the group name; \`kubectl get mcpgroups -n ${source.namespace}\` lists them`,
      };
    }
    const cause = code
      ? `HTTP ${code}`
      : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
    return {
      ok: false,
      message: `cannot list ${what} objects in ${where} for group "${group}" (${cause}) at ${kc.getCurrentCluster()?.server ?? 'the cluster'}`,
      hint: 'check the kubeconfig context and that the ToolHive operator CRDs are installed; the account needs list on toolhive.stacklok.dev objects',
    };
  };
  try {
    await api.getNamespacedCustomObject({ ...base, plural: 'mcpgroups', name: group });
  } catch (err) {
    return fail(err, 'MCPGroup');
  }
  const objects: K8sObject[] = [];
  for (const { kind, plural } of KINDS) {
    try {
      const list = (await api.listNamespacedCustomObject({ ...base, plural })) as { items?: K8sObject[] };
      for (const item of list.items ?? []) objects.push({ ...item, kind });
    } catch (err) {
      return fail(err, kind);
    }
  }
  let authConfigs: Map<string, Record<string, unknown> | undefined> | undefined;
  if (opts.discoveredAuth) {
    try {
      const list = (await api.listNamespacedCustomObject({ ...base, plural: 'mcpexternalauthconfigs' })) as {
        items?: K8sObject[];
      };
      authConfigs = new Map((list.items ?? []).map((o) => [o.metadata?.name ?? '', o.spec]));
    } catch (err) {
      return fail(err, 'MCPExternalAuthConfig');
    }
  }
  return { ok: true, ...membersFromObjects(group, objects, authConfigs) };
}
