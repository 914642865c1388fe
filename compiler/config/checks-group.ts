/** The group checks of `checkSemantics`: NO_BACKENDS that says how the group was looked up, and the pending-group note. */
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import type { DiagnosticCode, Severity } from '../diagnostics.ts';
import type { ResolvedBackend } from '../resolve/group.ts';
import { describeSource } from '../resolve/group-pin.ts';
import { describeGroupState, type GroupState } from '../resolve/group-state.ts';
import type { ConfigPath } from './locate.ts';

type Add = (code: DiagnosticCode, message: string, path: ConfigPath, hint?: string, severity?: Severity) => void;

/** True when backend names can be checked: some backends are known and no group members are still to come. */
export function canCheckBackendNames(backends: readonly ResolvedBackend[], group: GroupState | undefined): boolean {
  return backends.length > 0 && !group?.pending;
}

/**
 * NO_BACKENDS when nothing declares a backend, pointing at `groupRef` when there is one and saying
 * how its members were found. A group still to be looked up (validate without a lock) is not an
 * error: an info says its members are resolved at compile time.
 */
export function checkGroupBackends(
  config: VmcpConfig,
  backends: readonly ResolvedBackend[],
  group: GroupState | undefined,
  add: Add,
): void {
  if (group?.pending) {
    add(
      'GROUP_NOT_LOOKED_UP',
      `the members of group "${group.ref}" are resolved at compile time (from ${describeSource(group.pending)}); backend names are not checked here`,
      ['groupRef'],
      'run `vmcp compile` once to pin the members in vmcp.lock.json; validate then checks against them',
      'info',
    );
    return;
  }
  if (backends.length > 0) return;
  if (group?.ref !== undefined) {
    add(
      'NO_BACKENDS',
      `group "${group.ref}" has no backends: ${describeGroupState(group)}`,
      ['groupRef'],
      group.pinned
        ? `start the group's workloads (\`thv run --group ${group.ref} …\`) and compile again, or add a \`backends:\` list`
        : 'choose a source with --group-source toolhive|kubernetes, or add a `backends:` list',
    );
    return;
  }
  add(
    'NO_BACKENDS',
    'the group has no backends',
    config.backendsFrom !== undefined ? ['backendsFrom'] : [],
    'add a `backends:` list, `backendsFrom: ./mcp.json` to import a client config, or `groupRef:` to use a ToolHive group',
  );
}
