import { parseArgs, type ParseArgsConfig } from 'node:util';
import { processIo, type CliIo } from './io.ts';
import { runValidate } from './validate.ts';
import { PROTOCOL_REVISIONS, VMCP_VERSION } from '../version.ts';

/** A subcommand: parses its own flags and returns an exit code. */
interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  run: (values: Record<string, unknown>, positionals: string[], io: CliIo) => Promise<number> | number;
}

const COMMANDS: Record<string, Command> = {
  validate: {
    summary: 'Check a config without touching the network',
    usage: 'vmcp validate [-c vmcp.yaml] [--json]',
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
    run: (v, _p, io) => runValidate({ config: (v.config as string) ?? 'vmcp.yaml', json: Boolean(v.json) }, io),
  },
  version: {
    summary: 'Print the version and the MCP protocol revisions served',
    usage: 'vmcp version',
    options: { json: { type: 'boolean' } },
    run: (v, _p, io) => {
      if (v.json) io.out(JSON.stringify({ version: VMCP_VERSION, protocolRevisions: PROTOCOL_REVISIONS, node: process.version }));
      else io.out(`vmcp ${VMCP_VERSION}\nprotocol revisions: ${PROTOCOL_REVISIONS.join(', ')}\nnode ${process.version}`);
      return 0;
    },
  },
};

/** Registers a subcommand implemented in another module (keeps this file a table). */
export function registerCommand(name: string, command: Command): void {
  COMMANDS[name] = command;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`);
  return `usage: vmcp <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`vmcp <command> --help\` for a command's options.`;
}

/** Runs the CLI; returns the exit code. Never throws: an unexpected error is reported as INTERNAL. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  await loadCommands();
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') return COMMANDS.version.run({}, [], io);
  const command = COMMANDS[name];
  if (!command) {
    io.err(`error: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`usage: ${command.usage}\n\n${command.summary}.`);
    return 0;
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: command.allowPositionals ?? false, strict: true });
  } catch (err) {
    io.err(`error: ${(err as Error).message}\nusage: ${command.usage}`);
    return 2;
  }
  try {
    return await command.run(parsed.values, parsed.positionals, io);
  } catch (err) {
    // A stack trace reaching the user is a bug: say what happened in one line, keep details for VMCP_DEBUG.
    io.err(`error[INTERNAL] vmcp ${name} failed unexpectedly: ${(err as Error)?.message ?? String(err)}`);
    if (io.env.VMCP_DEBUG) io.err(String((err as Error)?.stack ?? err));
    else io.err('  hint: this is a bug in vmcp; rerun with VMCP_DEBUG=1 for details and report it');
    return 1;
  }
}

let loaded = false;
/** Commands beyond validate/version live in their own modules and register themselves on import. */
async function loadCommands(): Promise<void> {
  if (loaded) return;
  loaded = true;
  for (const mod of ['./compile.ts', './serve.ts', './diff.ts', './init.ts', './verify.ts']) {
    try {
      await import(mod);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !String((err as Error).message).includes(mod.slice(2))) throw err;
    }
  }
}
