import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { manifestPathFor, verifyBundle } from '../verify.ts';
import { readText, type CliIo } from './io.ts';
import type { Command } from './command.ts';

/** Options of `vmcp verify`. */
export interface VerifyOptions {
  bundle: string;
  manifest?: string;
  config?: string;
  lock?: string;
}

function readBytes(path: string): Uint8Array | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** `vmcp verify`: 0 when the bundle (and given inputs) match the manifest, 1 when not, 2 when a file is missing. */
export function runVerify(opts: VerifyOptions, io: CliIo): number {
  const manifestPath = opts.manifest ?? manifestPathFor(opts.bundle);
  const bundle = readBytes(resolve(io.cwd, opts.bundle));
  const manifestText = readText(resolve(io.cwd, manifestPath));
  const missing = [
    [opts.bundle, bundle],
    [manifestPath, manifestText],
    ...(opts.config ? [[opts.config, readText(resolve(io.cwd, opts.config))]] : []),
    ...(opts.lock ? [[opts.lock, readText(resolve(io.cwd, opts.lock))]] : []),
  ]
    .filter(([, v]) => v === undefined)
    .map(([p]) => p);
  if (missing.length || !bundle || manifestText === undefined) {
    io.err(
      `error[FILE_NOT_FOUND] cannot read ${missing.join(', ')}${missing.includes(manifestPath) ? '\n  hint: the manifest is written beside the bundle by `vmcp compile`; pass --manifest if it lives elsewhere' : ''}`,
    );
    return 2;
  }
  const result = verifyBundle({
    bundleFile: opts.bundle,
    bundle,
    manifestText,
    configText: opts.config ? readText(resolve(io.cwd, opts.config)) : undefined,
    lockText: opts.lock ? readText(resolve(io.cwd, opts.lock)) : undefined,
  });
  if (result.error) {
    io.err(`error[MANIFEST_INVALID] ${manifestPath}: ${result.error}`);
    return 1;
  }
  const failed = result.checks.filter((c) => !c.ok);
  for (const c of result.checks) {
    io.err(c.ok ? `  ✓ ${c.what}` : `  ✗ ${c.what}: manifest says ${c.expected}, found ${c.actual}`);
  }
  if (failed.length) {
    io.err(
      `error[VERIFY_FAILED] ${opts.bundle} does not match ${manifestPath} (${failed.map((c) => c.what).join(', ')})\n  hint: the bundle was modified or rebuilt from other inputs; rebuild with \`vmcp compile --frozen\` and compare`,
    );
    return 1;
  }
  io.out(`✓ ${opts.bundle} matches ${manifestPath}`);
  return 0;
}

/** `vmcp verify`: its flags, their checks, then the run. */
export const verifyCommand: Command = {
  usage: 'vmcp verify <bundle.mjs> [--manifest <file>] [--config vmcp.yaml] [--lock vmcp.lock.json]',
  options: { manifest: { type: 'string' }, config: { type: 'string', short: 'c' }, lock: { type: 'string' } },
  allowPositionals: true,
  run: (v, positionals, io) => {
    if (positionals.length !== 1) {
      io.err(
        'error: vmcp verify takes one bundle path\nusage: vmcp verify <bundle.mjs> [--manifest <file>] [--config vmcp.yaml] [--lock vmcp.lock.json]',
      );
      return 2;
    }
    return runVerify(
      {
        bundle: positionals[0],
        manifest: v.manifest as string | undefined,
        config: v.config as string | undefined,
        lock: v.lock as string | undefined,
      },
      io,
    );
  },
};
