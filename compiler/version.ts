/** The vmcp version, stamped into every bundle and manifest. */
export const VMCP_VERSION = '0.1.0';

/** MCP protocol revisions the runtime serves, newest first. */
export const PROTOCOL_REVISIONS = ['2026-07-28', '2025-11-25'] as const;
