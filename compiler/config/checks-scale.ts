/**
 * Checks of the state replicas share: `sessionStorage` (Redis) and `rateLimiting` (token buckets).
 * Pure, like checks.ts, which calls them with its positioned `add`. The tool names a limit names are
 * checked later, against the compiled catalog (`checkRateLimitTools`).
 */
import { parseDuration } from '../../runtime/duration.ts';
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { Add } from './checks.ts';
import type { ConfigPath, Locator } from './locate.ts';
import { suggest } from './suggest.ts';

type BucketInput = { maxTokens: number; refillPeriod: string } | undefined;

/** Redis needs an address; buckets need a positive period; aliases and anonymous per-user limits are flagged. */
export function checkSharedState(config: VmcpConfig, add: Add): void {
  const store = config.sessionStorage;
  if (store?.provider === 'redis' && store.address === undefined)
    add(
      'MISSING_KEY',
      'sessionStorage.provider is redis but sessionStorage.address is not set',
      ['sessionStorage', 'provider'],
      'add address: <redis host>:6379',
    );
  if (store?.passwordRef)
    add(
      'BAD_VALUE',
      `sessionStorage.passwordRef names Secret "${store.passwordRef.name}" key "${store.passwordRef.key}": vmcp reads the password from the env variable ${store.passwordEnv} at start-up`,
      ['sessionStorage', 'passwordRef'],
      `expose that Secret key to the gateway as ${store.passwordEnv} (deploy/kubernetes does), or set it in the environment`,
      'info',
      'key',
    );
  if (store?.provider === 'memory' && store.address !== undefined)
    add(
      'BAD_VALUE',
      'sessionStorage.address has no effect with provider memory',
      ['sessionStorage', 'address'],
      'set provider: redis to share state through Redis, or remove address',
      'warning',
    );
  const rl = config.rateLimiting;
  if (!rl) return;
  const bucket = (b: BucketInput, path: ConfigPath) => {
    if (b && (parseDuration(b.refillPeriod) ?? 0) <= 0)
      add(
        'NON_POSITIVE_DURATION',
        `${path.join('.')}.refillPeriod must be longer than zero`,
        [...path, 'refillPeriod'],
        'write the time an empty bucket takes to refill, e.g. refillPeriod: 1m',
      );
  };
  const alias = (level: { global?: BucketInput; shared?: BucketInput }, path: ConfigPath) => {
    bucket(level.global, [...path, 'global']);
    bucket(level.shared, [...path, 'shared']);
    if (level.global && level.shared)
      add(
        'DEPRECATED_KEY',
        `${path.join('.')} has both global and its deprecated alias shared: shared is ignored`,
        [...path, 'shared'],
        'keep global and remove shared',
        'warning',
        'key',
      );
  };
  alias(rl, ['rateLimiting']);
  bucket(rl.perUser, ['rateLimiting', 'perUser']);
  const names = new Set<string>();
  (rl.tools ?? []).forEach((t, i) => {
    const path: ConfigPath = ['rateLimiting', 'tools', i];
    alias(t, path);
    bucket(t.perUser, [...path, 'perUser']);
    if (names.has(t.name))
      add(
        'BAD_VALUE',
        `rateLimiting.tools names "${t.name}" twice`,
        [...path, 'name'],
        'merge the two entries into one',
      );
    names.add(t.name);
    if (!t.global && !t.shared && !t.perUser)
      add(
        'BAD_VALUE',
        `rateLimiting.tools[${i}] ("${t.name}") sets no bucket`,
        path,
        'add global and/or perUser: { maxTokens: <n>, refillPeriod: <duration> }',
        'warning',
      );
  });
  const perUser = rl.perUser !== undefined || (rl.tools ?? []).some((t) => t.perUser !== undefined);
  if (perUser && config.incomingAuth.type === 'anonymous')
    add(
      'BAD_VALUE',
      'rateLimiting has perUser buckets but incomingAuth is anonymous: no call has a user, so they never apply',
      ['rateLimiting'],
      'authenticate callers (incomingAuth oidc or local), or use global buckets',
      'warning',
      'key',
    );
  if (rl.onStoreError === 'deny' && store?.provider !== 'redis')
    add(
      'BAD_VALUE',
      'rateLimiting.onStoreError has no effect without sessionStorage provider redis (limits are kept in memory)',
      ['rateLimiting', 'onStoreError'],
      'remove onStoreError, or configure sessionStorage: { provider: redis, address: ... }',
      'warning',
    );
}

/** Each `rateLimiting.tools[].name` must be a tool the gateway exposes (a routed or a composite tool). */
export function checkRateLimitTools(
  config: VmcpConfig,
  exposed: readonly string[],
  file: string,
  locator: Locator,
): Diagnostic[] {
  const known = new Set(exposed);
  const out: Diagnostic[] = [];
  (config.rateLimiting?.tools ?? []).forEach((t, i) => {
    if (known.has(t.name)) return;
    const s = locator.at(['rateLimiting', 'tools', i, 'name'], 'value');
    const guess = suggest(t.name, exposed);
    out.push({
      code: 'RATE_LIMIT_UNKNOWN_TOOL',
      severity: 'error',
      message: `rateLimiting.tools[${i}].name "${t.name}" is not a tool this gateway exposes, so the limit would never apply`,
      file,
      line: s.line,
      column: s.column,
      endLine: s.endLine,
      endColumn: s.endColumn,
      hint: guess
        ? `did you mean "${guess}"? Limits name tools as clients see them (after prefixes and overrides)`
        : 'limits name tools as clients see them (after prefixes and overrides); `vmcp compile` lists them in the manifest',
    });
  });
  return out;
}
