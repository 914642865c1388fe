/** The shape of a CLI subcommand; the command table in main.ts says which module implements each one. */
import type { ParseArgsConfig } from 'node:util';
import type { CliIo } from './io.ts';

/** A subcommand: its usage line, its flags, and the run (which returns an exit code). */
export interface Command {
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  run: (values: Record<string, unknown>, positionals: string[], io: CliIo) => Promise<number> | number;
}
