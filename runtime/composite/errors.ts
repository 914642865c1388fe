/** Errors and message helpers shared by the workflow engine's files. */

/**
 * A failure that stops the workflow whatever the step's `onError` says: a template or condition that
 * cannot be evaluated, an elicitation answered with `abort`, output mapping that cannot be built.
 * ToolHive treats these the same way (they fail before the step's error handling applies).
 */
export class WorkflowError extends Error {}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A duration as Go prints short ones: 300000 → "5m", 1500 → "1.5s", 250 → "250ms", 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 !== 0) return ms < 60_000 ? `${ms / 1000}s` : `${Math.floor(ms / 60_000)}m${(ms % 60_000) / 1000}s`;
  const minutes = ms / 60_000;
  if (minutes < 60) return `${minutes}m`;
  return minutes % 60 === 0 ? `${minutes / 60}h` : `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}
