/**
 * What the config phases know about `groupRef`: its members (looked up by this compile, or pinned in
 * the lock), or that they will be looked up at compile time (pending), or that it is only a label.
 * Pure: the lookup itself happens in the compile's async group phase (lookup-group.ts).
 */
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import { describeSource, type GroupOptions, type GroupSource, type PinnedGroup, planGroup } from './group-pin.ts';

/** The group as the config checks see it. */
export interface GroupState {
  /** The config's `groupRef`. */
  ref?: string;
  /** Members are known: they join the backends. */
  pinned?: PinnedGroup;
  /** Members will be looked up at compile time from this source; they are unknown now. */
  pending?: GroupSource;
  /** `groupRef` is only a label, and why. */
  labelWhy?: string;
}

/** Decides the group state from the options, the lock's group and (in compile) the group just looked up. */
export function groupStateOf(
  config: VmcpConfig,
  g?: { options?: GroupOptions; lockGroup?: PinnedGroup; resolved?: PinnedGroup },
): GroupState {
  const ref = config.groupRef;
  if (ref === undefined) return {};
  if (g?.resolved) return { ref, pinned: g.resolved };
  const plan = planGroup(config, g?.options ?? {}, g?.lockGroup);
  if (plan.action === 'label') return { ref, labelWhy: plan.why };
  if (plan.action === 'lookup' && g?.lockGroup?.name === ref) return { ref, pinned: g.lockGroup };
  return plan.action === 'lookup' ? { ref, pending: plan.source } : { ref };
}

/** True when members' outgoing auth comes from their MCPExternalAuthConfig (Kubernetes groups only). */
export function discoversAuth(state: GroupState): boolean {
  return (state.pinned?.source ?? state.pending)?.kind === 'kubernetes';
}

/**
 * With `outgoingAuth.source: discovered` and a Kubernetes group, each member's discovered strategy
 * becomes its `outgoingAuth.backends` entry; an entry written inline wins.
 */
export function withDiscoveredAuth(config: VmcpConfig, state: GroupState): VmcpConfig {
  if (config.outgoingAuth.source !== 'discovered' || !state.pinned || !discoversAuth(state)) return config;
  const discovered = Object.fromEntries(state.pinned.members.flatMap((m) => (m.auth ? [[m.name, m.auth]] : [])));
  return {
    ...config,
    outgoingAuth: { ...config.outgoingAuth, backends: { ...discovered, ...config.outgoingAuth.backends } },
  };
}

/** How the members are (or will be) found, for NO_BACKENDS and info messages. */
export function describeGroupState(state: GroupState): string {
  if (state.pinned) {
    const skipped = state.pinned.skipped.map((s) => `${s.name} (${s.reason})`);
    return (
      `${describeSource(state.pinned.source)} lists ${state.pinned.members.length} usable member(s)` +
      (skipped.length ? `; skipped: ${skipped.join(', ')}` : '')
    );
  }
  if (state.pending) return `its members are looked up at compile time from ${describeSource(state.pending)}`;
  return `groupRef is only a label here: ${state.labelWhy ?? 'no group source was chosen'}`;
}
