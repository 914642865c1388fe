/** Canonical JSON and hashing, shared by the compiler (lock) and the runtime (drift checks). */
import { createHash } from 'node:crypto';

/** Compares strings by UTF-16 code units, the one comparator used for every sort in vmcp output. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Returns a copy of `value` with object keys sorted recursively; arrays keep their order. */
export function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => sortKeysDeep(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort(compareStrings)) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeysDeep(v);
    }
    return out as T;
  }
  return value;
}

/** Serializes with sorted keys and no whitespace: the input of every content hash. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeysDeep(value));
}

/** Pretty, stable JSON for files that humans diff (2 spaces, sorted keys, trailing newline). */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeysDeep(value), null, 2)}\n`;
}

/** sha256 of a string or bytes, as `sha256-<hex>`. */
export function sha256(data: string | Uint8Array): string {
  return `sha256-${createHash('sha256').update(data).digest('hex')}`;
}

/** Content hash of a JSON value (canonical form). */
export function hashJson(value: unknown): string {
  return sha256(canonicalJson(value));
}
