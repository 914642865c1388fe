/**
 * Real system components some tests run (promtool, redis-server, haproxy, tmux), installed from Debian by
 * .ci/run. On a developer machine without one, the test says so plainly and is skipped; under CI
 * (CI=true) a missing component fails the test instead, so CI never passes without running it.
 */
import { execFileSync } from 'node:child_process';

/** The Debian package that provides each tool. */
const PACKAGES: Record<string, string> = {
  promtool: 'prometheus',
  'redis-server': 'redis-server',
  haproxy: 'haproxy',
  tmux: 'tmux',
};

/** The tool's path, or undefined when it is not installed. */
export function findTool(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves `name` for a test: its path when installed; otherwise throws under CI, or prints why the
 * test is skipped and returns undefined (the caller skips).
 */
export function requireTool(name: string): string | undefined {
  const path = findTool(name);
  if (path) return path;
  const how = `${name} is not installed (Debian package ${PACKAGES[name] ?? name}: apt-get install ${PACKAGES[name] ?? name})`;
  if (process.env.CI) throw new Error(`${how}; .ci/run installs it, and under CI a missing component is a failure`);
  console.warn(`SKIPPED: ${how}; the test that needs it did not run`);
  return undefined;
}
