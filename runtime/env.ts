/** Start-up resolution of `${env:NAME}` references and the default child environment. */

/** An error that stops start-up with one clear line and exit code 1 (never a stack trace). */
export class StartupError extends Error {
  override name = 'StartupError';
}

const REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${env:NAME}` in `text`; a missing variable throws StartupError naming it and `where`. */
export function resolveEnvRefs(text: string, env: NodeJS.ProcessEnv, where: string): string {
  return text.replace(REF, (_m, name: string) => {
    const value = env[name];
    if (value === undefined) throw new StartupError(`environment variable ${name} is not set (needed by ${where})`);
    return value;
  });
}

/** Resolves every value of a string map (env or headers). */
export function resolveEnvMap(
  map: Record<string, string> | undefined,
  env: NodeJS.ProcessEnv,
  where: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) out[k] = resolveEnvRefs(v, env, `${where} (${k})`);
  return out;
}

// The variables the MCP SDK's getDefaultEnvironment() passes to stdio children on POSIX / Windows.
const DEFAULT_INHERITED =
  process.platform === 'win32'
    ? [
        'APPDATA',
        'HOMEDRIVE',
        'HOMEPATH',
        'LOCALAPPDATA',
        'PATH',
        'PROCESSOR_ARCHITECTURE',
        'SYSTEMDRIVE',
        'SYSTEMROOT',
        'TEMP',
        'USERNAME',
        'USERPROFILE',
        'PROGRAMFILES',
      ]
    : ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'];

/** The safe default environment for stdio children, like the SDK's getDefaultEnvironment(). */
export function defaultEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of DEFAULT_INHERITED) {
    const value = env[key];
    // Skip exported shell functions, which the SDK treats as a security risk.
    if (value !== undefined && !value.startsWith('()')) out[key] = value;
  }
  return out;
}
