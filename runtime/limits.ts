/**
 * Resource limits of a running gateway (`operational.limits` in vmcp.yaml). Every bound that protects
 * the process from one client or one backend lives here, with its default, so a reader finds them
 * in one place and a bundle compiled before a limit existed still gets a sane value.
 */
import type { CompiledGateway, RuntimeLimits } from './compiled-gateway.ts';

const MiB = 1024 * 1024;

/** The defaults, used for every limit the compiled gateway does not set. */
export const DEFAULT_LIMITS: Readonly<RuntimeLimits> = Object.freeze({
  maxMessageBytes: 32 * MiB,
  maxSessions: 10_000,
  maxSessionsPerClient: 1_000,
  sessionIdleMs: 30 * 60_000,
  sessionMaxAgeMs: 24 * 60 * 60_000,
  maxScopedUpstreams: 64,
  maxParkedCalls: 1_000,
  maxStreamBufferBytes: 8 * MiB,
});

/** The limits in force: the compiled ones over the defaults. */
export function limitsOf(gw: Pick<CompiledGateway, 'operational'>): RuntimeLimits {
  return { ...DEFAULT_LIMITS, ...gw.operational.limits };
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/;
const SIZE_UNIT: Record<string, number> = { B: 1, KB: 1000, KiB: 1024, MB: 1e6, MiB: MiB, GB: 1e9, GiB: 1024 * MiB };

/** Parses a byte size ("32MB", "512KiB", "1048576") to bytes, or undefined when malformed. */
export function parseByteSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  const m = SIZE_RE.exec(text.trim());
  return m ? Math.floor(Number(m[1]) * SIZE_UNIT[m[2] ?? 'B']) : undefined;
}

/** A byte count for people: 33554432 → "32 MiB", 1500 → "1500 bytes". */
export function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** The error text for an upstream message over `operational.limits.maxMessageSize`. */
export function messageTooLargeText(backend: string, limit: number, what = 'a message'): string {
  return `vmcp: backend "${backend}" sent ${what} larger than the limit of ${formatBytes(limit)}; the message was dropped (raise operational.limits.maxMessageSize if such results are expected)`;
}
