/**
 * A ToolHive group as vmcp pins it: where it was looked up, the members that became backends and
 * the ones that were skipped (with why). Written to `vmcp.lock.json` under `group`, so `--frozen`
 * and `vmcp validate` rebuild the same backends with neither ToolHive nor a cluster around.
 * This file also holds the rule that decides whether a `groupRef` is looked up at all.
 */
import type { StrategyConfig, VmcpConfig } from '../../schemas/vmcp.ts';
import { compareStrings } from '../../runtime/canonical.ts';

/** ToolHive's API server address when `thv serve` runs with its defaults (`--host 127.0.0.1 --port 8080`). */
export const TOOLHIVE_DEFAULT_URL = 'http://127.0.0.1:8080';

/** Where a group's members are read from. */
export type GroupSource = { kind: 'toolhive'; url: string } | { kind: 'kubernetes'; namespace: string };

/** A member that became a backend. ToolHive serves every workload over HTTP through its proxy. */
export interface GroupMember {
  name: string;
  transport: 'sse' | 'streamable-http';
  url: string;
  /** Where it came from: `workload` (ToolHive API) or `MCPServer` / `MCPRemoteProxy` / `MCPServerEntry`. */
  from: string;
  /** Outgoing auth read from the member's MCPExternalAuthConfig: secrets only as env references. */
  auth?: StrategyConfig;
  /** The env variables this member's auth reads, and the Kubernetes Secret key each must be filled from. */
  secretEnv?: Record<string, string>;
}

/** A member that was not used, with the reason shown to the user. */
export interface SkippedMember {
  name: string;
  from: string;
  reason: string;
}

/** The `group` entry of the lock. */
export interface PinnedGroup {
  name: string;
  source: GroupSource;
  members: GroupMember[];
  skipped: SkippedMember[];
}

/** How the user chose a source, normalized once from flags and env by the CLI. */
export interface GroupOptions {
  /** `--group-source` / `VMCP_GROUP_SOURCE`; `none` keeps `groupRef` a label. */
  source?: 'toolhive' | 'kubernetes' | 'none';
  /** `--toolhive-url` / `TOOLHIVE_API_URL`. */
  toolhiveUrl?: string;
  /** `--namespace` / `VMCP_NAMESPACE`. */
  namespace?: string;
  /** True when the source was named on the command line or in VMCP_GROUP_SOURCE (or --toolhive-url was given). */
  explicit?: boolean;
}

/** The flags' group options over the ones a file implies (a manifest's Kubernetes namespace): flags win. */
export function withGroupDefaults(
  opts: GroupOptions | undefined,
  defaults: Partial<GroupOptions> | undefined,
): GroupOptions {
  if (!defaults) return opts ?? {};
  const set = Object.fromEntries(Object.entries(opts ?? {}).filter(([, v]) => v !== undefined));
  return { ...defaults, ...set } as GroupOptions;
}

/** What to do with a config's `groupRef`. */
export type GroupPlan =
  | { action: 'none' }
  | { action: 'label'; group: string; why: string }
  | { action: 'lookup'; group: string; source: GroupSource };

/**
 * The rule: a `groupRef` is looked up when a source is chosen explicitly, when the lock already pins
 * the group (the source it was read from is sticky), or when the config lists no backends of its own.
 * Otherwise it stays a label, as in configs written before lookup existed.
 */
export function planGroup(config: VmcpConfig, opts: GroupOptions, pinned?: PinnedGroup): GroupPlan {
  const group = config.groupRef;
  if (group === undefined) return { action: 'none' };
  if (opts.source === 'none') return { action: 'label', group, why: 'the group source is "none"' };
  const fromLock = pinned?.name === group ? pinned.source : undefined;
  const kind = opts.source ?? (opts.toolhiveUrl && opts.explicit ? 'toolhive' : fromLock?.kind);
  const hasInline = config.backends.length > 0 || config.backendsFrom !== undefined;
  if (kind === undefined && hasInline && !opts.explicit) {
    return {
      action: 'label',
      group,
      why: 'the config lists its backends inline and no group source was chosen',
    };
  }
  if ((kind ?? 'toolhive') === 'kubernetes') {
    const namespace = opts.namespace ?? (fromLock?.kind === 'kubernetes' ? fromLock.namespace : undefined) ?? 'default';
    return { action: 'lookup', group, source: { kind: 'kubernetes', namespace } };
  }
  const url = opts.toolhiveUrl ?? (fromLock?.kind === 'toolhive' ? fromLock.url : undefined) ?? TOOLHIVE_DEFAULT_URL;
  return { action: 'lookup', group, source: { kind: 'toolhive', url: url.replace(/\/+$/, '') } };
}

/** The source in words, for messages: `ToolHive at http://127.0.0.1:8080`, `Kubernetes namespace "team"`. */
export function describeSource(source: GroupSource): string {
  return source.kind === 'toolhive' ? `ToolHive at ${source.url}` : `Kubernetes namespace "${source.namespace}"`;
}

/** Sorts members and skipped entries by name, so the lock is stable. */
export function sortPinnedGroup(g: PinnedGroup): PinnedGroup {
  return {
    ...g,
    members: [...g.members].sort((a, b) => compareStrings(a.name, b.name)),
    skipped: [...g.skipped].sort((a, b) => compareStrings(a.name, b.name)),
  };
}

/**
 * How membership differs between the lock and a fresh lookup, one line per member:
 * `+ a (added)`, `- b (removed)`, `~ c (was sse http://…)`. Empty when nothing changed.
 */
export function diffMembers(before: PinnedGroup, after: PinnedGroup): string[] {
  const was = new Map(before.members.map((m) => [m.name, m]));
  const now = new Map(after.members.map((m) => [m.name, m]));
  const out: string[] = [];
  for (const [name, m] of now) {
    const old = was.get(name);
    if (!old) out.push(`member "${name}" was added`);
    else if (old.transport !== m.transport || old.url !== m.url)
      out.push(`member "${name}" moved from ${old.transport} ${old.url} to ${m.transport} ${m.url}`);
  }
  for (const name of was.keys()) if (!now.has(name)) out.push(`member "${name}" was removed`);
  return out.sort(compareStrings);
}

/** Maps a ToolHive transport pair to the HTTP transport vmcp connects with (ToolHive always proxies over HTTP). */
export function proxyTransport(
  proxyMode: string | undefined,
  transportType: string | undefined,
  url: string,
): 'sse' | 'streamable-http' {
  for (const t of [proxyMode, transportType]) {
    if (t === 'sse' || t === 'streamable-http') return t;
  }
  // A stdio workload without a proxy mode: ToolHive's SSE proxy URLs end in /sse (or /sse#<name>).
  return /\/sse(#.*)?$/.test(url) ? 'sse' : 'streamable-http';
}
