/**
 * A tiny structured JSON logger writing one line per record to stderr, in pino's record shape
 * (`level` number, `time`, `msg`, fields). pino itself is CommonJS and, bundled to ESM by esbuild,
 * throws `Dynamic require of "node:os"` unless the bundler adds a createRequire banner; it also
 * adds ~63 KB. See ARCHITECTURE.md.
 */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 } as const;

/** A log level name. */
export type LevelName = keyof typeof LEVELS;

/** The logger interface used across the runtime. */
export interface Logger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  child(fields: Record<string, unknown>): Logger;
  readonly level: number;
}

/** Creates a logger at `level` (env VMCP_LOG_LEVEL overrides) writing JSON lines with `write`. */
export function createLogger(
  base: Record<string, unknown> = {},
  level: LevelName = (process.env.VMCP_LOG_LEVEL as LevelName) in LEVELS ? (process.env.VMCP_LOG_LEVEL as LevelName) : 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = LEVELS[level];
  const emit = (n: number, fields: Record<string, unknown>, msg: string) => {
    if (n < threshold) return;
    let line: string;
    try {
      line = JSON.stringify({ level: n, time: Date.now(), ...base, ...fields, msg });
    } catch {
      line = JSON.stringify({ level: n, time: Date.now(), msg });
    }
    write(`${line}\n`);
  };
  return {
    level: threshold,
    debug: (f, m) => emit(20, f, m),
    info: (f, m) => emit(30, f, m),
    warn: (f, m) => emit(40, f, m),
    error: (f, m) => emit(50, f, m),
    child: (fields) => createLogger({ ...base, ...fields }, level, write),
  };
}
