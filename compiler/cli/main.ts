/**
 * The `vmcp` command line: one static table of commands. Each entry names its summary and loads
 * its module only when run, so `vmcp version` and `vmcp validate` never load the bundler, ts-morph
 * or the MCP SDK.
 */
import { parseArgs } from 'node:util';
import type { Command } from './command.ts';
import { processIo, type CliIo } from './io.ts';
import { PROTOCOL_REVISIONS, VMCP_VERSION } from '../version.ts';

/** A row of the command table: what `vmcp --help` prints, and how to load the command. */
interface CommandEntry {
  summary: string;
  load: () => Promise<Command>;
}

const versionCommand: Command = {
  usage: 'vmcp version [--json]',
  options: { json: { type: 'boolean' } },
  run: (v, _p, io) => {
    if (v.json)
      io.out(JSON.stringify({ version: VMCP_VERSION, protocolRevisions: PROTOCOL_REVISIONS, node: process.version }));
    else io.out(`vmcp ${VMCP_VERSION}\nprotocol revisions: ${PROTOCOL_REVISIONS.join(', ')}\nnode ${process.version}`);
    return 0;
  },
};

/** Every command, in the order `vmcp --help` lists them. */
const COMMANDS: Record<string, CommandEntry> = {
  validate: {
    summary: 'Check a config without touching the network',
    load: () => import('./validate.ts').then((m) => m.validateCommand),
  },
  compile: {
    summary: 'Resolve, introspect (writing vmcp.lock.json), generate and bundle',
    load: () => import('./compile.ts').then((m) => m.compileCommand),
  },
  serve: {
    summary: 'Serve a bundle, or compile a config in memory and serve it (dev mode)',
    load: () => import('./serve.ts').then((m) => m.serveCommand),
  },
  diff: {
    summary: 'Compare two releases (config, lock, manifest, bundle or git:<ref>:<path>) and classify each change',
    load: () => import('./diff.ts').then((m) => m.diffCommand),
  },
  init: {
    summary: 'Write a starter vmcp.yaml from a client config (mcpServers or servers)',
    load: () => import('./init.ts').then((m) => m.initCommand),
  },
  verify: {
    summary: 'Recompute the hashes of a bundle and check it against its manifest',
    load: () => import('./verify.ts').then((m) => m.verifyCommand),
  },
  version: { summary: 'Print the version and the MCP protocol revisions served', load: async () => versionCommand },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`);
  return `usage: vmcp <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`vmcp <command> --help\` for a command's options.`;
}

/** Runs the CLI; returns the exit code. Never throws: an unexpected error is reported as INTERNAL. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [first, ...rest] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    io.out(usage());
    return first ? 0 : 2;
  }
  const name = first === '--version' || first === '-v' ? 'version' : first;
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    io.err(`error: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(`usage: ${command.usage}\n\n${entry.summary}.`);
      return 0;
    }
    let parsed: { values: Record<string, unknown>; positionals: string[] };
    try {
      parsed = parseArgs({
        args: rest,
        options: command.options,
        allowPositionals: command.allowPositionals ?? false,
        strict: true,
      });
    } catch (err) {
      io.err(`error: ${(err as Error).message}\nusage: ${command.usage}`);
      return 2;
    }
    return await command.run(parsed.values, parsed.positionals, io);
  } catch (err) {
    // A stack trace reaching the user is a bug: say what happened in one line, keep details for VMCP_DEBUG.
    io.err(`error[INTERNAL] vmcp ${name} failed unexpectedly: ${(err as Error)?.message ?? String(err)}`);
    if (io.env.VMCP_DEBUG) io.err(String((err as Error)?.stack ?? err));
    else io.err('  hint: this is a bug in vmcp; rerun with VMCP_DEBUG=1 for details and report it');
    return 1;
  }
}
