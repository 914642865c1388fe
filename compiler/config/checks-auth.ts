/**
 * The semantic checks about credentials: each outgoing-auth strategy block has what its type needs,
 * env references are well formed (and set, at the caller's severity), and no secret is written as
 * a literal where a reference belongs. Pure, like the rest of checks.ts, which calls them.
 */
import type { StrategyConfig, VmcpConfig } from '../../schemas/vmcp.ts';
import type { Add, CheckContext } from './checks.ts';
import { formatPath, type ConfigPath } from './locate.ts';

const ENV_REF = /\$\{env:([^}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SENSITIVE_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|api-key)$/i;

const STRATEGY_BLOCK: Partial<Record<StrategyConfig['type'], keyof StrategyConfig>> = {
  header_injection: 'headerInjection',
  token_exchange: 'tokenExchange',
  client_credentials: 'clientCredentials',
};

export function checkStrategy(s: StrategyConfig, path: ConfigPath, add: Add): void {
  if (['upstream_inject', 'aws_sts', 'obo', 'xaa'].includes(s.type)) {
    add(
      'UNSUPPORTED',
      `outgoing auth strategy "${s.type}" is not supported by vmcp yet`,
      [...path, 'type'],
      'use unauthenticated, header_injection, token_exchange or client_credentials',
    );
    return;
  }
  const block = STRATEGY_BLOCK[s.type];
  if (block && s[block] === undefined) {
    add(
      'MISSING_STRATEGY_FIELD',
      `strategy ${s.type} needs a ${block} block`,
      [...path, 'type'],
      `add ${block}: { ... } next to type`,
    );
  }
  for (const other of Object.values(STRATEGY_BLOCK)) {
    if (other !== block && s[other!] !== undefined)
      add(
        'BAD_VALUE',
        `${other} is ignored because type is ${s.type}`,
        [...path, other!],
        `remove ${other}, or set type to match it`,
        'warning',
        'key',
      );
  }
  if (s.type === 'header_injection' && s.headerInjection) {
    const h = s.headerInjection;
    if (h.headerValue === undefined && h.headerValueEnv === undefined)
      add(
        'MISSING_STRATEGY_FIELD',
        'header_injection needs headerValue or headerValueEnv',
        [...path, 'headerInjection'],
        'prefer headerValueEnv: NAME so the secret stays out of the bundle',
        'error',
        'key',
      );
    if (h.headerValue !== undefined && h.headerValueEnv !== undefined)
      add(
        'BAD_VALUE',
        'set only one of headerValue and headerValueEnv',
        [...path, 'headerInjection', 'headerValue'],
        'remove headerValue and keep headerValueEnv',
        'error',
        'key',
      );
  }
  if (s.type === 'token_exchange' && s.tokenExchange?.clientSecret !== undefined) {
    add(
      'BAD_VALUE',
      'tokenExchange.clientSecret would put a secret in the bundle',
      [...path, 'tokenExchange', 'clientSecret'],
      'use clientSecretEnv: NAME instead',
      'error',
      'key',
    );
  }
}

export function checkEnvRefs(config: VmcpConfig, ctx: CheckContext, add: Add): void {
  const visit = (value: unknown, path: PropertyKey[]) => {
    if (typeof value === 'string') {
      const key = path[path.length - 1];
      if (typeof key === 'string' && key.endsWith('Env') && ENV_NAME.test(value)) checkEnv(value, path, 'value');
      for (const m of value.matchAll(ENV_REF)) {
        if (!ENV_NAME.test(m[1]))
          add(
            'BAD_ENV_REF',
            `"\${env:${m[1]}}" in ${formatPath(path)} is not a valid env reference`,
            path,
            'write ${env:NAME} with a variable name of letters, digits and _',
          );
        else checkEnv(m[1], path, 'value');
      }
      if (/\$\{env:[^}]*$/.test(value))
        add('BAD_ENV_REF', `unterminated "\${env:" in ${formatPath(path)}`, path, 'close it: ${env:NAME}');
    } else if (Array.isArray(value)) value.forEach((v, i) => visit(v, [...path, i]));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
  };
  const checkEnv = (name: string, path: PropertyKey[], anchor: 'key' | 'value') => {
    if (ctx.env[name] === undefined) {
      add(
        'ENV_UNSET',
        `environment variable ${name} (${formatPath(path)}) is not set`,
        path,
        `set ${name} before \`vmcp serve\`; it is resolved at start-up and never stored in the bundle`,
        ctx.envSeverity,
        anchor,
      );
    }
  };
  visit(config, []);
}

export function checkLiteralSecrets(config: VmcpConfig, add: Add): void {
  const literal = (v: string) => !/\$\{env:/.test(v);
  const walk = (s: StrategyConfig, path: ConfigPath) => {
    const hv = s.headerInjection?.headerValue;
    if (hv !== undefined && literal(hv))
      add(
        'BAD_VALUE',
        'headerValue is a literal and will be compiled into the bundle',
        [...path, 'headerInjection', 'headerValue'],
        'use headerValueEnv: NAME (or ${env:NAME}) for secrets',
        'warning',
      );
  };
  walk(config.outgoingAuth.default, ['outgoingAuth', 'default']);
  for (const [n, s] of Object.entries(config.outgoingAuth.backends)) walk(s, ['outgoingAuth', 'backends', n]);
  config.backends.forEach((b, i) => {
    if (b.transport === 'stdio') return;
    for (const [h, v] of Object.entries(b.headers ?? {})) {
      if (SENSITIVE_HEADER.test(h) && literal(v))
        add(
          'BAD_VALUE',
          `header ${h} of backend "${b.name}" is a literal and will be compiled into the bundle`,
          ['backends', i, 'headers', h],
          'write ${env:NAME} and set NAME at start-up',
          'warning',
        );
    }
  });
}

export function safeUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

/** True for loopback host names and addresses. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}
