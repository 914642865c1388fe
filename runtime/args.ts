/** Command-line flags of a bundle: `[--host H] [--port P] [--stdio] [--dump-gateway]`. */
import { StartupError } from './env.ts';

/** Parsed flags. */
export interface GatewayArgs {
  host: string;
  port: number;
  stdio: boolean;
  /** Print the compiled gateway data as JSON and exit (for `vmcp diff` and tests). */
  dumpGateway: boolean;
  /** Print usage and exit. */
  help: boolean;
}

/** The usage line of a bundle. */
export const USAGE = 'usage: node <bundle>.vmcp.mjs [--host 127.0.0.1] [--port 4483] [--stdio] [--dump-gateway]';

/** The default listen address. */
export const DEFAULT_HOST = '127.0.0.1';
/** The default port. */
export const DEFAULT_PORT = 4483;

/** Parses argv (`--port 0` picks a free port; `--port=N` works too). */
export function parseArgs(argv: string[]): GatewayArgs {
  const out: GatewayArgs = { host: DEFAULT_HOST, port: DEFAULT_PORT, stdio: false, dumpGateway: false, help: false };
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
    } else if (flag === '--stdio') out.stdio = true;
    else if (flag === '--dump-gateway') out.dumpGateway = true;
    else if (flag === '--help' || flag === '-h') out.help = true;
    else throw new StartupError(`unknown option ${flag} (${USAGE})`);
  }
  return out;
}
