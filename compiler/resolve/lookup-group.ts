/**
 * The compile's group phase: decides whether `groupRef` is looked up (group-pin.ts's rule), then looks
 * it up (or, with --frozen, reads it from the lock), and reports what it found as diagnostics: the
 * source and members (info), each skipped member (warning), membership changes since the lock (info),
 * and failures that name the source, the group and the fix. The lookup itself is injected.
 */
import type { ReadConfig } from '../config/validate.ts';
import type { Diagnostic, DiagnosticCode, Severity } from '../diagnostics.ts';
import {
  describeSource,
  diffMembers,
  type GroupOptions,
  type GroupSource,
  type PinnedGroup,
  planGroup,
  withGroupDefaults,
  sortPinnedGroup,
} from './group-pin.ts';
import type { LookupResult } from './lookup-toolhive.ts';

/** Looks a group up at its source; injected so the pipeline stays testable (the CLI passes `createGroupLookup`). */
export type LookupGroup = (
  group: string,
  source: GroupSource,
  opts: { discoveredAuth: boolean },
) => Promise<LookupResult & { problems?: Array<{ message: string; hint: string }> }>;

/** The real lookup: ToolHive's API over fetch, or the cluster through @kubernetes/client-node (loaded on first use). */
export function createGroupLookup(env: Readonly<Record<string, string | undefined>>): LookupGroup {
  return async (group, source, opts) => {
    if (source.kind === 'toolhive') {
      const { lookupToolhive } = await import('./lookup-toolhive.ts');
      return lookupToolhive(group, source);
    }
    const { lookupKubernetes } = await import('./lookup-kubernetes.ts');
    return lookupKubernetes(group, source, { env, discoveredAuth: opts.discoveredAuth });
  };
}

/** What the group phase needs from the compile context. */
export interface GroupPhaseContext {
  file: string;
  frozen: boolean;
  lockText?: string;
  /** Flags and env, normalized by the CLI. */
  groupOptions?: GroupOptions;
  lookupGroup?: LookupGroup;
}

/** The group pinned in a lock's text, if the text parses and has one. */
export function lockGroupOf(lockText: string | undefined): PinnedGroup | undefined {
  if (lockText === undefined) return undefined;
  try {
    const g = (JSON.parse(lockText) as { group?: PinnedGroup }).group;
    return g && typeof g.name === 'string' && Array.isArray(g.members) && Array.isArray(g.skipped) ? g : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves `groupRef` for a compile. `value` is the pinned group when it was looked up or read from
 * the lock; absent when there is no groupRef, it is a label, or something failed (then an error says why).
 */
export async function resolveGroupRef(
  read: ReadConfig,
  ctx: GroupPhaseContext,
): Promise<{ value?: PinnedGroup; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const at = read.parsed.locator.at(['groupRef']);
  const report = (code: DiagnosticCode, severity: Severity, message: string, hint?: string) =>
    diagnostics.push({
      code,
      severity,
      message,
      file: ctx.file,
      line: at.line,
      column: at.column,
      ...(hint ? { hint } : {}),
    });
  const lockGroup = lockGroupOf(ctx.lockText);
  const plan = planGroup(read.config, withGroupDefaults(ctx.groupOptions, read.parsed.groupDefaults), lockGroup);
  if (plan.action === 'none') return { diagnostics };
  if (plan.action === 'label') {
    report(
      'GROUP_NOT_LOOKED_UP',
      'info',
      `groupRef "${plan.group}" is used as a label: ${plan.why}`,
      "pass --group-source toolhive (or kubernetes) to add the group's members to the backends",
    );
    return { diagnostics };
  }
  const summarize = (g: PinnedGroup, how: string) => {
    const names = g.members.map((m) => m.name).join(', ') || 'none';
    report(
      'GROUP_RESOLVED',
      'info',
      `group "${g.name}" ${how} ${describeSource(g.source)}: ${g.members.length} member${g.members.length === 1 ? '' : 's'} (${names})${g.skipped.length ? `, ${g.skipped.length} skipped` : ''}`,
    );
    for (const s of g.skipped) {
      report(
        'GROUP_MEMBER_SKIPPED',
        'warning',
        `group "${g.name}": ${s.from} "${s.name}" is skipped: ${s.reason}`,
        'start it (or wait until it is ready) and compile again to include it',
      );
    }
  };

  if (ctx.frozen) {
    const stale = 'run `vmcp compile` without --frozen to look the group up again, review the lock diff, and commit it';
    if (!lockGroup) {
      // parseLock reports a missing or unreadable lock; only a lock without the group is ours to report.
      if (ctx.lockText !== undefined && isJson(ctx.lockText)) {
        report('LOCK_STALE', 'error', `the lock pins no members for group "${plan.group}"`, stale);
      }
      return { diagnostics };
    }
    if (lockGroup.name !== plan.group) {
      report(
        'LOCK_STALE',
        'error',
        `the lock pins group "${lockGroup.name}", but groupRef is now "${plan.group}"`,
        stale,
      );
      return { diagnostics };
    }
    summarize(lockGroup, 'pinned in the lock, read from');
    // An explicit source on a frozen compile checks that the group still has the pinned members.
    if (ctx.groupOptions?.explicit && ctx.lookupGroup) {
      const live = await lookup(plan.group, plan.source);
      if (live.value) {
        for (const change of diffMembers(lockGroup, live.value)) {
          report('LOCK_STALE', 'error', `group "${plan.group}" changed since the lock was written: ${change}`, stale);
        }
      }
    }
    return { value: lockGroup, diagnostics };
  }

  const found = await lookup(plan.group, plan.source);
  if (!found.value) return { diagnostics };
  summarize(found.value, 'looked up in');
  if (lockGroup && lockGroup.name === plan.group) {
    for (const change of diffMembers(lockGroup, found.value)) {
      report('GROUP_CHANGED', 'info', `group "${plan.group}" changed since the lock was written: ${change}`);
    }
  }
  return { value: found.value, diagnostics };

  async function lookup(group: string, source: GroupSource): Promise<{ value?: PinnedGroup }> {
    if (!ctx.lookupGroup) {
      report(
        'GROUP_LOOKUP',
        'error',
        `group "${group}" must be looked up in ${describeSource(source)}, but this compile was given no way to look groups up`,
        'pass lookupGroup (createGroupLookup) in the compile context',
      );
      return {};
    }
    const discoveredAuth = read.config.outgoingAuth.source === 'discovered';
    const r = await ctx.lookupGroup(group, source, { discoveredAuth });
    if (!r.ok) {
      report('GROUP_LOOKUP', 'error', r.message, r.hint);
      return {};
    }
    const authAt = read.parsed.locator.at(['outgoingAuth', 'source']);
    for (const p of r.problems ?? []) {
      diagnostics.push({
        code: 'GROUP_AUTH_UNSUPPORTED',
        severity: 'error',
        message: p.message,
        file: ctx.file,
        line: authAt.line,
        column: authAt.column,
        hint: p.hint,
      });
    }
    if (r.problems?.length) return {};
    return { value: sortPinnedGroup({ name: group, source, members: r.members, skipped: r.skipped }) };
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
