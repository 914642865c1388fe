/** `rateLimiting` and `sessionStorage` as the runtime reads them. Pure; the checks ran in config/checks-scale.ts. */
import type { CompiledBucket, CompiledGateway } from '../../runtime/compiled-gateway.ts';
import { parseDuration } from '../../runtime/duration.ts';
import type { VmcpConfig } from '../../schemas/vmcp.ts';

type Bucket = { maxTokens: number; refillPeriod: string } | undefined;

const compileBucket = (b: Bucket): CompiledBucket | undefined =>
  b ? { maxTokens: b.maxTokens, refillMs: parseDuration(b.refillPeriod) ?? 0 } : undefined;

/** Drops absent keys so the emitted data stays minimal. */
function levels(global: Bucket, perUser: Bucket): { global?: CompiledBucket; perUser?: CompiledBucket } {
  const g = compileBucket(global);
  const u = compileBucket(perUser);
  return { ...(g ? { global: g } : {}), ...(u ? { perUser: u } : {}) };
}

export function compileSharedState(config: VmcpConfig): Pick<CompiledGateway, 'rateLimits' | 'sharedStore'> {
  const out: Pick<CompiledGateway, 'rateLimits' | 'sharedStore'> = {};
  const rl = config.rateLimiting;
  if (rl) {
    const tools: NonNullable<CompiledGateway['rateLimits']>['tools'] = {};
    for (const t of rl.tools ?? []) {
      const l = levels(t.global ?? t.shared, t.perUser);
      if (l.global || l.perUser) tools[t.name] = l;
    }
    const top = levels(rl.global ?? rl.shared, rl.perUser);
    if (top.global || top.perUser || Object.keys(tools).length > 0)
      out.rateLimits = { ...top, tools, onStoreError: rl.onStoreError };
  }
  const s = config.sessionStorage;
  if (s?.provider === 'redis' && s.address) {
    const at = s.address.lastIndexOf(':');
    out.sharedStore = {
      provider: 'redis',
      host: s.address.slice(0, at).replace(/^\[(.*)\]$/, '$1'),
      port: Number(s.address.slice(at + 1)),
      db: s.db,
      keyPrefix: s.keyPrefix,
      passwordEnv: s.passwordEnv,
      tls: s.tls,
    };
  }
  return out;
}
