/**
 * The group-source flags shared by `vmcp compile` and `vmcp validate`, and their env equivalents:
 * `--group-source toolhive|kubernetes|none` (VMCP_GROUP_SOURCE), `--toolhive-url` (TOOLHIVE_API_URL),
 * `--namespace` (VMCP_NAMESPACE). A flag wins over its env variable.
 */
import type { GroupOptions } from '../resolve/group-pin.ts';

/** The flag definitions, for a command's parseArgs options. */
export const GROUP_FLAGS = {
  'group-source': { type: 'string' },
  'toolhive-url': { type: 'string' },
  namespace: { type: 'string' },
} as const;

/** The usage fragment the commands print. */
export const GROUP_USAGE = '[--group-source toolhive|kubernetes|none] [--toolhive-url URL] [--namespace NS]';

const SOURCES = ['toolhive', 'kubernetes', 'none'] as const;

/** Normalizes the flags and env into group options, or a usage error. */
export function groupOptionsFrom(
  values: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): { value?: GroupOptions; error?: string } {
  const flagSource = values['group-source'] as string | undefined;
  const source = flagSource ?? (env.VMCP_GROUP_SOURCE || undefined);
  if (source !== undefined && !(SOURCES as readonly string[]).includes(source)) {
    const from = flagSource !== undefined ? '--group-source' : 'VMCP_GROUP_SOURCE';
    return { error: `${from} must be one of ${SOURCES.join(', ')} (got "${source}")` };
  }
  const flagUrl = values['toolhive-url'] as string | undefined;
  const toolhiveUrl = flagUrl ?? (env.TOOLHIVE_API_URL || undefined);
  if (toolhiveUrl !== undefined && !/^https?:\/\/[^/]/.test(toolhiveUrl)) {
    return {
      error: `${flagUrl !== undefined ? '--toolhive-url' : 'TOOLHIVE_API_URL'} must be an http(s) URL (got "${toolhiveUrl}")`,
    };
  }
  const namespace = (values.namespace as string | undefined) ?? (env.VMCP_NAMESPACE || undefined);
  return {
    value: {
      ...(source ? { source: source as GroupOptions['source'] } : {}),
      ...(toolhiveUrl ? { toolhiveUrl } : {}),
      ...(namespace ? { namespace } : {}),
      explicit: source !== undefined || flagUrl !== undefined,
    },
  };
}
