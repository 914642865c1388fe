import { sha256 } from '../runtime/canonical.ts';
import type { Manifest } from './emit/manifest.ts';

/** The bytes `vmcp verify` checks, read by the CLI. */
export interface VerifyInput {
  bundleFile: string;
  bundle: Uint8Array;
  manifestText: string;
  configText?: string;
  lockText?: string;
}

/** One check and its outcome. */
export interface VerifyCheck {
  what: string;
  ok: boolean;
  expected?: string;
  actual?: string;
}

/** The manifest path beside a bundle: `dist/x.vmcp.mjs` → `dist/x.manifest.json`. */
export function manifestPathFor(bundlePath: string): string {
  return bundlePath.replace(/\.vmcp\.mjs$/, '').replace(/\.m?js$/, '') + '.manifest.json';
}

/** Recomputes the bundle's sha256 and size (and optionally the input hashes) and compares with the manifest. Pure. */
export function verifyBundle(input: VerifyInput): { checks: VerifyCheck[]; error?: string } {
  let m: Manifest;
  try {
    m = JSON.parse(input.manifestText) as Manifest;
  } catch (err) {
    return { checks: [], error: `the manifest is not valid JSON: ${(err as Error).message}` };
  }
  if (m?.manifestVersion !== 1 || typeof m.bundle?.sha256 !== 'string')
    return { checks: [], error: 'the manifest is not a vmcp manifest (expected manifestVersion 1 with a bundle hash)' };
  const base = input.bundleFile.split(/[\\/]/).pop();
  const checks: VerifyCheck[] = [
    { what: 'bundle file name', ok: m.bundle.file === base, expected: m.bundle.file, actual: base },
    {
      what: 'bundle sha256',
      ok: sha256(input.bundle) === m.bundle.sha256,
      expected: m.bundle.sha256,
      actual: sha256(input.bundle),
    },
    {
      what: 'bundle size',
      ok: input.bundle.byteLength === m.bundle.bytes,
      expected: `${m.bundle.bytes} bytes`,
      actual: `${input.bundle.byteLength} bytes`,
    },
  ];
  if (input.configText !== undefined)
    checks.push({
      what: 'config hash (inputs.config)',
      ok: sha256(input.configText) === m.inputs?.config,
      expected: m.inputs?.config,
      actual: sha256(input.configText),
    });
  if (input.lockText !== undefined)
    checks.push({
      what: 'lock hash (inputs.lock)',
      ok: sha256(input.lockText) === m.inputs?.lock,
      expected: m.inputs?.lock,
      actual: sha256(input.lockText),
    });
  return { checks };
}
