/** Command-line flags of a bundle: `[--host H] [--port P] [--drain-delay MS] [--stdio] [--dump-gateway]`. */
import { StartupError } from './env.ts';

/** Parsed flags. */
export interface GatewayArgs {
  host: string;
  port: number;
  stdio: boolean;
  /**
   * On SIGTERM, how long to keep serving after readiness turns 503, so a load balancer moves new
   * requests elsewhere before the listener closes (`--drain-delay`, or VMCP_DRAIN_DELAY_MS).
   */
  drainDelayMs: number;
  /** Print the compiled gateway data as JSON and exit (for `vmcp diff` and tests). */
  dumpGateway: boolean;
  /** Print usage and exit. */
  help: boolean;
  /** `--log-format json|pretty`; undefined: VMCP_LOG_FORMAT, else pretty on a terminal. */
  logFormat?: 'json' | 'pretty';
  /** `--dev-reload`: take new builds from the parent over IPC (`vmcp serve --watch` only). */
  devReload: boolean;
}

/** The usage line of a bundle. */
export const USAGE =
  'usage: node <bundle>.vmcp.mjs [--host 127.0.0.1] [--port 4483] [--drain-delay 0] [--log-format json|pretty] [--stdio] [--dump-gateway]';

/** The longest drain delay accepted (a pod's termination grace period is 30 s by default). */
export const MAX_DRAIN_DELAY_MS = 600_000;

/** The default listen address. */
export const DEFAULT_HOST = '127.0.0.1';
/** The default port. */
export const DEFAULT_PORT = 4483;

/** Parses argv (`--port 0` picks a free port; `--port=N` works too). */
export function parseArgs(argv: string[], env: Readonly<Record<string, string | undefined>> = {}): GatewayArgs {
  const out: GatewayArgs = {
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    drainDelayMs: 0,
    stdio: false,
    dumpGateway: false,
    help: false,
    devReload: false,
  };
  if (env.VMCP_DRAIN_DELAY_MS !== undefined && env.VMCP_DRAIN_DELAY_MS !== '')
    out.drainDelayMs = drainDelay(env.VMCP_DRAIN_DELAY_MS, 'VMCP_DRAIN_DELAY_MS');
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new StartupError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--host') out.host = value();
    else if (flag === '--port') {
      const v = value();
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 65535) throw new StartupError(`--port must be a number from 0 to 65535, got "${v}"`);
      out.port = n;
    } else if (flag === '--drain-delay') out.drainDelayMs = drainDelay(value(), '--drain-delay');
    else if (flag === '--stdio') out.stdio = true;
    else if (flag === '--dump-gateway') out.dumpGateway = true;
    else if (flag === '--dev-reload') out.devReload = true;
    else if (flag === '--help' || flag === '-h') out.help = true;
    else if (flag === '--log-format') {
      const v = value();
      if (v !== 'json' && v !== 'pretty') throw new StartupError(`--log-format must be json or pretty, got "${v}"`);
      out.logFormat = v;
    } else throw new StartupError(`unknown option ${flag} (${USAGE})`);
  }
  return out;
}

/** A drain delay in milliseconds, from 0 to MAX_DRAIN_DELAY_MS. */
function drainDelay(v: string, from: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > MAX_DRAIN_DELAY_MS)
    throw new StartupError(`${from} must be milliseconds from 0 to ${MAX_DRAIN_DELAY_MS}, got "${v}"`);
  return n;
}
