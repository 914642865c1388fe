import { resolve } from 'node:path';
import { checkCompositesWithLock } from '../composite/check-with-lock.ts';
import { loadConfig } from '../config/validate.ts';
import { sortDiagnostics } from '../diagnostics.ts';
import { lockPathFor } from '../resolve/lock-check.ts';
import type { Command } from './command.ts';
import { GROUP_FLAGS, GROUP_USAGE, groupOptionsFrom } from './group-flags.ts';
import { lockGroupOf } from '../resolve/lookup-group.ts';
import type { GroupOptions } from '../resolve/group-pin.ts';
import { diagnosticsJson, displayPath, readText, reportDiagnostics, type CliIo } from './io.ts';

/** Options of `vmcp validate`. */
export interface ValidateOptions {
  config: string;
  json: boolean;
  /** How groupRef would be looked up (flags and env): validate never looks it up, it uses the lock's members. */
  group?: GroupOptions;
}

/** `vmcp validate`: static checks only, no network. Exit 0 when valid, 1 on errors. */
export function runValidate(opts: ValidateOptions, io: CliIo): number {
  const file = displayPath(io.cwd, opts.config);
  const abs = resolve(io.cwd, opts.config);
  const text = readText(abs);
  if (text === undefined) {
    const d = {
      code: 'FILE_NOT_FOUND' as const,
      severity: 'error' as const,
      message: `cannot read config file ${file}`,
      file,
      line: 0,
      column: 0,
      hint: 'pass the path with -c, or run `vmcp init --from <mcp.json>` to create one',
    };
    if (opts.json) io.out(diagnosticsJson([d]));
    else reportDiagnostics(io, [d], false);
    return 1;
  }
  const lockText = readText(resolve(io.cwd, lockPathFor(file)));
  // The group's members come from the lock when it pins them; otherwise they are resolved at compile time.
  const loaded = loadConfig(file, text, {
    env: io.env,
    readFile: (p) => readText(resolve(io.cwd, p)),
    group: { options: opts.group ?? groupOptionsFrom({}, io.env).value, lockGroup: lockGroupOf(lockText) },
  });
  // With a lock beside the config, composite tools are checked against the pinned schemas too.
  const composite = loaded.value ? checkCompositesWithLock(loaded.value, text, lockText) : [];
  const failed = composite.some((d) => d.severity === 'error');
  const result = {
    value: failed ? undefined : loaded.value,
    diagnostics: sortDiagnostics([...loaded.diagnostics, ...composite]),
  };
  if (opts.json) {
    io.out(diagnosticsJson(result.diagnostics));
    return result.value ? 0 : 1;
  }
  reportDiagnostics(io, result.diagnostics, false);
  if (!result.value) return 1;
  const c = result.value.config;
  const transports = [...new Set(result.value.backends.map((b) => b.transport))].join(', ');
  io.out(
    `✓ ${file} is valid: gateway "${c.name}", ${result.value.backends.length} backend${result.value.backends.length === 1 ? '' : 's'} (${transports}), ` +
      `conflicts: ${c.aggregation.conflictResolution}, incoming auth: ${c.incomingAuth.type}`,
  );
  return 0;
}

/** `vmcp validate`: its flags, then the run. */
export const validateCommand: Command = {
  usage: `vmcp validate [-c vmcp.yaml] [--json] ${GROUP_USAGE}`,
  options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, ...GROUP_FLAGS },
  run: (v, _p, io) => {
    const group = groupOptionsFrom(v, io.env);
    if (group.error) {
      io.err(`error: ${group.error}`);
      return 2;
    }
    return runValidate({ config: (v.config as string) ?? 'vmcp.yaml', json: Boolean(v.json), group: group.value }, io);
  },
};
