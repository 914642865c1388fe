import type { ValidConfig } from '../config/validate.ts';
import type { IntrospectTarget } from './introspect.ts';
import { parseDuration } from '../../runtime/duration.ts';

const REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;
type Env = Readonly<Record<string, string | undefined>>;

/** Replaces `${env:NAME}` with its value (empty when unset: validate already warned). */
function resolveRefs(text: string, env: Env): string {
  return text.replace(REF, (_m, name: string) => env[name] ?? '');
}

function resolveMap(map: Record<string, string> | undefined, env: Env): Record<string, string> | undefined {
  return map && Object.fromEntries(Object.entries(map).map(([k, v]) => [k, resolveRefs(v, env)]));
}

/**
 * Introspection targets for the group, with env references resolved for the connection only
 * (resolved values never reach the lock). Header-injection credentials are sent, so a backend
 * that requires them can be listed.
 */
export function introspectionTargets(valid: ValidConfig, env: Env): IntrospectTarget[] {
  const op = valid.config.operational;
  return valid.backends.map((b) => {
    const timeoutMs = parseDuration(op.timeouts.perWorkload[b.name] ?? op.timeouts.default) ?? 30_000;
    const strategy = valid.config.outgoingAuth.backends[b.name] ?? valid.config.outgoingAuth.default;
    const headers = resolveMap(b.headers, env) ?? {};
    const hi = strategy.type === 'header_injection' ? strategy.headerInjection : undefined;
    if (hi) {
      const value = hi.headerValueEnv
        ? env[hi.headerValueEnv]
        : hi.headerValue !== undefined
          ? resolveRefs(hi.headerValue, env)
          : undefined;
      if (value !== undefined) headers[hi.headerName] = value;
    }
    return {
      name: b.name,
      identity: b.identity,
      transport: b.transport,
      ...(b.transport === 'stdio'
        ? {
            command: resolveRefs(b.command!, env),
            args: (b.args ?? []).map((a) => resolveRefs(a, env)),
            env: resolveMap(b.env, env),
            cwd: b.cwd,
          }
        : { url: resolveRefs(b.url!, env), headers, ...caOf(valid, b.name, env) }),
      timeoutMs,
    };
  });
}

/** An inline HTTPS backend's `caBundlePath`, resolved: compile connects with that CA too (the bundle keeps the path only). */
function caOf(valid: ValidConfig, name: string, env: Env): { caBundlePath?: string } {
  const b = valid.config.backends.find((x) => x.name === name);
  return b && b.transport !== 'stdio' && b.caBundlePath ? { caBundlePath: resolveRefs(b.caBundlePath, env) } : {};
}

/** The values of every env variable the config references (`${env:NAME}` and `*Env` keys), for leak checks. */
export function secretValues(valid: ValidConfig, env: Env): Array<{ name: string; value: string }> {
  const names = new Set<string>();
  const visit = (v: unknown, key?: string) => {
    if (typeof v === 'string') {
      if (key?.endsWith('Env')) names.add(v);
      for (const m of v.matchAll(REF)) names.add(m[1]);
    } else if (Array.isArray(v)) v.forEach((x) => visit(x));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, k);
  };
  visit(valid.config);
  visit(valid.backends.map((b) => ({ env: b.env, headers: b.headers, args: b.args, url: b.url })));
  // Very short values (e.g. "1") would match by accident; they are not meaningful secrets.
  return [...names]
    .sort()
    .flatMap((name) => (env[name] && env[name]!.length >= 6 ? [{ name, value: env[name]! }] : []));
}
