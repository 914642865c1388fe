/**
 * Structured JSON logs with pino, one line per record on stderr (stdout carries only protocol in
 * stdio mode). Writes are synchronous so the last lines before an exit are never lost, and
 * credential-shaped fields are redacted by path as a second line of defence: the runtime never
 * logs a token or secret on purpose.
 */
import pino, { type Logger as PinoLogger } from 'pino';
import { prettyLine } from './log-pretty.ts';

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;

/** A log level name. */
export type LevelName = keyof typeof LEVELS;

/** The logger interface used across the runtime (pino's, narrowed to what the runtime calls). */
export interface Logger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  child(fields: Record<string, unknown>): Logger;
  readonly level: number;
}

/** Field paths whose values are replaced by "[redacted]" wherever they appear (one level deep). */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers',
  '*.headers',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'subjectToken',
  '*.subjectToken',
  'subject_token',
  '*.subject_token',
  'clientSecret',
  '*.clientSecret',
  'client_secret',
  '*.client_secret',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'env',
  '*.env',
  'resolvedEnv',
  '*.resolvedEnv',
  'resolvedHeaders',
  '*.resolvedHeaders',
];

/**
 * The level to log at: the env variable VMCP_LOG_LEVEL when it names a level, else the configured
 * one (`operational.logLevel`), else info. `('debug', {VMCP_LOG_LEVEL: 'warn'})` → `'warn'`.
 */
export function resolveLogLevel(
  configured: LevelName | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): LevelName {
  const fromEnv = env.VMCP_LOG_LEVEL?.toLowerCase();
  if (fromEnv !== undefined && Object.hasOwn(LEVELS, fromEnv)) return fromEnv as LevelName;
  return configured ?? 'info';
}

/** How log lines look: JSON lines (for machines), or short coloured lines (for a terminal). */
export type LogFormat = 'json' | 'pretty';

/**
 * The log format: `--log-format`, else VMCP_LOG_FORMAT, else pretty when stderr is a terminal and
 * JSON otherwise (a pipe, a file, a log collector).
 */
export function resolveLogFormat(
  flag: LogFormat | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  isTTY = Boolean(process.stderr.isTTY),
): LogFormat {
  if (flag) return flag;
  const e = env.VMCP_LOG_FORMAT?.toLowerCase();
  if (e === 'json' || e === 'pretty') return e;
  return isTTY ? 'pretty' : 'json';
}

/**
 * Creates a logger at `level` (default: VMCP_LOG_LEVEL, else info) writing JSON lines with `write`
 * (default: stderr); `format: 'pretty'` rewrites each line for a terminal (colour unless NO_COLOR).
 */
export function createLogger(
  base: Record<string, unknown> = {},
  level: LevelName = resolveLogLevel(undefined),
  write?: (line: string) => void,
  format: LogFormat = 'json',
): Logger {
  let destination: { write(line: string): void } = write ? { write } : pino.destination({ fd: 2, sync: true });
  if (format === 'pretty') {
    const color = !process.env.NO_COLOR;
    const out = destination;
    destination = { write: (line: string) => out.write(`${prettyLine(line, color)}\n`) };
  }
  const root = pino({ level, base, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
  return wrap(root);
}

function wrap(p: PinoLogger): Logger {
  return {
    get level() {
      return p.levelVal;
    },
    debug: (f, m) => p.debug(f, m),
    info: (f, m) => p.info(f, m),
    warn: (f, m) => p.warn(f, m),
    error: (f, m) => p.error(f, m),
    child: (fields) => wrap(p.child(fields)),
  };
}
