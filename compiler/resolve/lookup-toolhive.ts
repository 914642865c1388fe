/**
 * A group's members from ToolHive's local REST API (`thv serve`):
 * `GET /api/v1beta/workloads?group=<name>&all=true` answers `{ workloads: [Workload…] }`, or 404
 * when the group does not exist. Stopped workloads are asked for too, so they can be listed as skipped.
 */
import { describeSource, type GroupMember, type GroupSource, proxyTransport, type SkippedMember } from './group-pin.ts';

/** The Workload fields vmcp reads (ToolHive's swagger: core.Workload). */
export interface ToolhiveWorkload {
  name?: string;
  group?: string;
  url?: string;
  proxy_mode?: string;
  transport_type?: string;
  status?: string;
  remote?: boolean;
}

/** A lookup's answer: the members, or a failure in words (the caller turns it into a diagnostic). */
export type LookupResult =
  | { ok: true; members: GroupMember[]; skipped: SkippedMember[] }
  | { ok: false; message: string; hint: string };

/** Splits workloads into members (running, with a URL) and skipped ones (with the reason). Pure. */
export function membersFromWorkloads(workloads: readonly ToolhiveWorkload[]): {
  members: GroupMember[];
  skipped: SkippedMember[];
} {
  const members: GroupMember[] = [];
  const skipped: SkippedMember[] = [];
  for (const w of workloads) {
    const name = w.name ?? '(unnamed)';
    const from = 'workload';
    if (!w.name) skipped.push({ name, from, reason: 'the workload has no name' });
    else if (w.status !== 'running') skipped.push({ name, from, reason: `its status is "${w.status ?? 'unknown'}"` });
    else if (!w.url) skipped.push({ name, from, reason: 'it has no URL' });
    else if (!/^https?:\/\//.test(w.url)) skipped.push({ name, from, reason: `its URL "${w.url}" is not http(s)` });
    else members.push({ name, from, url: w.url, transport: proxyTransport(w.proxy_mode, w.transport_type, w.url) });
  }
  return { members, skipped };
}

/** Asks ToolHive's API for the group's workloads. Network: called only by the compile's lookup step. */
export async function lookupToolhive(
  group: string,
  source: Extract<GroupSource, { kind: 'toolhive' }>,
  fetchImpl: typeof fetch = fetch,
): Promise<LookupResult> {
  const url = `${source.url}/api/v1beta/workloads?group=${encodeURIComponent(group)}&all=true`;
  const where = describeSource(source);
  const unreachableHint =
    'start the ToolHive API with `thv serve` (or the ToolHive desktop app), set TOOLHIVE_API_URL or pass --toolhive-url, or use --group-source kubernetes';
  let res: Response;
  try {
    res = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    // undici wraps the socket error: fetch failed ← Error{code} (or AggregateError{errors} for several addresses).
    const c = (err as { cause?: { code?: string; errors?: Array<{ code?: string }>; message?: string } }).cause;
    const cause = c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? (err as Error).message;
    return {
      ok: false,
      message: `cannot reach ${where} to look up group "${group}" (${cause})`,
      hint: unreachableHint,
    };
  }
  const body = await res.text();
  if (res.status === 404) {
    return {
      ok: false,
      message: `group "${group}" does not exist in ${where}`,
      hint: `create it with \`thv group create ${group}\` and run workloads in it (\`thv run --group ${group} …\`), or fix groupRef; \`thv group list\` shows the groups`,
    };
  }
  if (!res.ok) {
    return {
      ok: false,
      message: `${where} answered ${res.status} when asked for group "${group}": ${body.slice(0, 200).trim()}`,
      hint: unreachableHint,
    };
  }
  let data: { workloads?: unknown };
  try {
    data = JSON.parse(body) as { workloads?: unknown };
  } catch {
    return { ok: false, message: `${where} did not answer JSON for group "${group}"`, hint: unreachableHint };
  }
  const list = Array.isArray(data.workloads) ? (data.workloads as ToolhiveWorkload[]) : [];
  // ToolHive filters by group already; a workload of another group would be a proxy's mistake.
  return { ok: true, ...membersFromWorkloads(list.filter((w) => w.group === undefined || w.group === group)) };
}
