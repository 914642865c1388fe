/** Start-up resolution of each backend: env references, default environment, outgoing-auth headers, CA bundles. */
import { caAgent } from './ca-bundle.ts';
import { StartupError, defaultEnvironment, resolveEnvMap, resolveEnvRefs } from './env.ts';
import type { ResolvedBackend, RuntimePlugins } from './plugins.ts';
import type { CompiledGateway } from './compiled-gateway.ts';
import type { Logger } from './log.ts';
import { limitsOf } from './limits.ts';

/** Resolves every backend or throws StartupError naming the missing variable and the backend. */
export function resolveBackends(
  gw: CompiledGateway,
  plugins: RuntimePlugins,
  env: NodeJS.ProcessEnv,
  log?: Logger,
): ResolvedBackend[] {
  const { maxMessageBytes } = limitsOf(gw);
  return gw.backends.map((b) => {
    const where = `backend "${b.name}"`;
    if (!plugins.transports[b.transport])
      throw new StartupError(`${where}: transport "${b.transport}" is not in this bundle`);
    const factory = plugins.outgoingAuth[b.auth.type];
    if (!factory) throw new StartupError(`${where}: outgoing auth strategy "${b.auth.type}" is not in this bundle`);
    const resolvedHeaders = resolveEnvMap(b.headers, env, `${where} headers`);
    const outgoing = factory(b.auth, b.name, env, log);
    if (outgoing.credentials && b.transport === 'stdio')
      throw new StartupError(
        `${where}: outgoing auth "${b.auth.type}" needs an HTTP transport (stdio backends take credentials through env)`,
      );
    Object.assign(resolvedHeaders, outgoing.headers);
    const str = (s: string | undefined, what: string) =>
      s === undefined ? undefined : resolveEnvRefs(s, env, `${where} ${what}`);
    // The bundle keeps the path; the file is this environment's, read now.
    const ca = str(b.caBundlePath, 'caBundlePath');
    return {
      ...b,
      command: str(b.command, 'command'),
      args: b.args?.map((a) => resolveEnvRefs(a, env, `${where} args`)),
      cwd: str(b.cwd, 'cwd'),
      url: str(b.url, 'url'),
      resolvedEnv:
        b.transport === 'stdio'
          ? { ...defaultEnvironment(env), ...resolveEnvMap(b.env, env, `${where} env`) }
          : undefined,
      resolvedHeaders,
      maxMessageBytes,
      ...(outgoing.credentials ? { outgoing } : {}),
      ...(ca !== undefined ? { httpsAgent: caAgent(ca, `${where} caBundlePath`) } : {}),
    };
  });
}
