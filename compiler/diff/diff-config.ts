import { canonicalJson, compareStrings } from '../../runtime/canonical.ts';
import type { Change } from './diff.ts';
import type { AuthSurface, BackendSurface, IncomingSurface } from './surface.ts';

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
const keysOf = (...objs: Array<object | undefined>) =>
  [...new Set(objs.flatMap((o) => Object.keys(o ?? {})))].sort(compareStrings);

/** Lists what a set gained and lost: `+A, -B`. */
function setDelta(a: string[] = [], b: string[] = []): string {
  const plus = b.filter((x) => !a.includes(x)).map((x) => `+${x}`);
  const minus = a.filter((x) => !b.includes(x)).map((x) => `-${x}`);
  return [...plus, ...minus].join(', ');
}

function credentialsOf(b: BackendSurface): string[] {
  const auth = b.auth;
  const names = new Set<string>(b.envRefs ?? []);
  for (const n of [auth?.headerValueEnv, auth?.clientSecretEnv]) if (n) names.add(n);
  for (const m of (auth?.headerValueShape ?? '').matchAll(/\$\{env:([A-Za-z0-9_]+)\}/g)) names.add(m[1]);
  return [...names].sort(compareStrings);
}

/** Backends added, removed or re-pointed; outgoing auth and credentials per backend (risky). */
export function diffBackends(before: BackendSurface[], after: BackendSurface[]): Change[] {
  const out: Change[] = [];
  const [ma, mb] = [new Map(before.map((b) => [b.name, b])), new Map(after.map((b) => [b.name, b]))];
  for (const name of keysOf(Object.fromEntries(ma), Object.fromEntries(mb))) {
    const [a, b] = [ma.get(name), mb.get(name)];
    const subject = `backend ${name}`;
    if (!a && b) {
      const creds = credentialsOf(b);
      const auth = b.auth && b.auth.type !== 'unauthenticated' ? `, outgoing auth ${b.auth.type}` : '';
      const risky = creds.length > 0 || auth !== '';
      out.push({
        kind: 'backend.added',
        class: risky ? 'risky' : 'info',
        subject,
        detail: `added: ${b.target}${auth}${creds.length ? `, receives ${creds.join(', ')}` : ''}`,
      });
      continue;
    }
    if (a && !b) {
      out.push({ kind: 'backend.removed', class: 'info', subject, detail: `removed (was ${a.target})` });
      continue;
    }
    if (!a || !b) continue;
    if (a.target !== b.target)
      out.push({ kind: 'backend.target', class: 'risky', subject, detail: `now runs ${b.target} (was ${a.target})` });
    if (a.status !== undefined && b.status !== undefined && a.status !== b.status) {
      out.push({ kind: 'backend.status', class: 'risky', subject, detail: `lock status ${a.status} → ${b.status}` });
    }
    if (a.auth && b.auth) out.push(...diffAuth(subject, a.auth, b.auth));
    const [ca, cb] = [credentialsOf(a), credentialsOf(b)];
    if (a.auth && b.auth && !same(ca, cb))
      out.push({
        kind: 'auth.credentials',
        class: 'risky',
        subject,
        detail: `environment credentials ${setDelta(ca, cb)}`,
      });
    if (a.envKeys && b.envKeys && !same(a.envKeys, b.envKeys))
      out.push({
        kind: 'backend.env',
        class: 'info',
        subject,
        detail: `env variables set for the process: ${setDelta(a.envKeys, b.envKeys)}`,
      });
    if (a.headerNames && b.headerNames && !same(a.headerNames, b.headerNames))
      out.push({
        kind: 'backend.headers',
        class: 'risky',
        subject,
        detail: `request headers ${setDelta(a.headerNames, b.headerNames)}`,
      });
    if (a.timeoutMs !== undefined && b.timeoutMs !== undefined && a.timeoutMs !== b.timeoutMs) {
      out.push({
        kind: 'operational',
        class: 'info',
        subject,
        detail: `timeout ${a.timeoutMs} ms → ${b.timeoutMs} ms`,
      });
    }
    if (a.required !== undefined && b.required !== undefined && a.required !== b.required) {
      out.push({
        kind: 'operational',
        class: 'info',
        subject,
        detail: b.required ? 'now required for readiness' : 'no longer required for readiness',
      });
    }
  }
  return out;
}

function diffAuth(subject: string, a: AuthSurface, b: AuthSurface): Change[] {
  const out: Change[] = [];
  for (const key of keysOf(a, b) as Array<keyof AuthSurface>) {
    if (same(a[key], b[key])) continue;
    const detail =
      key === 'scopes'
        ? `outgoing auth scopes ${setDelta(a.scopes, b.scopes)}`
        : key === 'headerValueShape'
          ? `header value changed (literal parts not shown): ${show(a[key])} → ${show(b[key])}`
          : `outgoing auth ${key}: ${show(a[key])} → ${show(b[key])}`;
    out.push({ kind: 'auth.outgoing', class: 'risky', subject, detail });
  }
  return out;
}

/** Incoming auth and policy changes (risky): who may call the gateway, and what they may call. */
export function diffIncoming(a: IncomingSurface | undefined, b: IncomingSurface | undefined): Change[] {
  if (!a || !b) return [];
  const out: Change[] = [];
  const subject = 'incoming auth';
  const full = a.level === 'full' && b.level === 'full';
  const fields: Array<keyof IncomingSurface> = full
    ? ['type', 'authz', 'issuer', 'audience', 'resource', 'jwksUrl', 'scopes']
    : ['type', 'authz'];
  for (const key of fields) {
    if (same(a[key], b[key])) continue;
    let detail = `${key}: ${show(a[key])} → ${show(b[key])}`;
    if (key === 'type' && b.type === 'anonymous') detail += ' (anyone who can reach the endpoint can now call it)';
    if (key === 'authz' && !b.authz) detail += ' (no authorization policies are enforced any more)';
    out.push({ kind: 'auth.incoming', class: 'risky', subject, detail });
  }
  if (full) {
    const [pa, pb] = [a.policies ?? [], b.policies ?? []];
    const first = (p: string) => p.trim().split('\n')[0];
    for (const p of pa.filter((x) => !pb.includes(x)))
      out.push({
        kind: 'policy.removed',
        class: 'risky',
        subject: 'authz policy',
        detail: `removed: ${first(p)}`,
        before: p,
      });
    for (const p of pb.filter((x) => !pa.includes(x)))
      out.push({
        kind: 'policy.added',
        class: 'risky',
        subject: 'authz policy',
        detail: `added: ${first(p)}`,
        after: p,
      });
  }
  return out;
}

// Stricter first: moving right loosens the protection against a backend changing under review.
const DRIFT_ORDER = ['fail', 'block-changed', 'warn'];

/** Operational settings (info), except a looser drift policy (risky). */
export function diffOperational(
  a: Record<string, unknown> | undefined,
  b: Record<string, unknown> | undefined,
): Change[] {
  if (!a || !b) return [];
  const out: Change[] = [];
  for (const key of keysOf(a, b)) {
    if (same(a[key], b[key])) continue;
    const looser = key === 'drift' && DRIFT_ORDER.indexOf(String(b[key])) > DRIFT_ORDER.indexOf(String(a[key]));
    out.push({
      kind: 'operational',
      class: looser ? 'risky' : 'info',
      subject: 'operational',
      detail: `${key}: ${show(a[key])} → ${show(b[key])}${looser ? ' (looser drift policy: changed backend tools may be served unreviewed)' : ''}`,
    });
  }
  return out;
}
