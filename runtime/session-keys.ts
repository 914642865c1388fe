/**
 * Session ids that any replica can serve. With `VMCP_SESSION_KEY` (or `VMCP_SESSION_KEY_FILE`, a
 * mounted Secret), a 2025-era `Mcp-Session-Id` is an AES-256-GCM token that carries what a session
 * needs: the caller's `(iss, sub)` binding, the client's capabilities and the negotiated protocol
 * version, with its issue and expiry times. A replica that has never seen the id decrypts it and
 * restores the session. GCM authenticates as it decrypts, so a forged, tampered or expired id is
 * refused exactly like an unknown one. The gateway's name is the associated data: an id from
 * another gateway that shares the key does not open here.
 *
 * Rotation: `VMCP_SESSION_KEY_PREVIOUS` (or `_FILE`) names the key being retired. New ids use the
 * current key and ids made with either key open until they expire.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { StartupError } from './env.ts';

/** Shortest secret accepted, in bytes (256 bits). */
export const MIN_SECRET_BYTES = 32;
/** Capabilities larger than this are carried as their top-level shape only (ids travel in a header). */
const MAX_CAPS_BYTES = 2048;
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a session id carries. */
export interface SessionClaims {
  /** A random id, unique per session (names the session in logs, revocation and upstream scoping). */
  sid: string;
  /** The `(iss, sub)` key of the caller who created the session; absent for anonymous gateways. */
  pk?: string;
  /** The client's capabilities from `initialize`. */
  caps: Record<string, unknown>;
  /** The negotiated protocol version. */
  pv: string;
  /** Issued at, and expires at (Unix seconds). */
  iat: number;
  exp: number;
}

/** Issues and opens session ids with the current key and, for opening only, the previous one. */
export class SessionKeys {
  private readonly aad: Buffer;
  private readonly replicaAad: Buffer;

  constructor(
    private readonly keys: readonly Buffer[],
    gateway: string,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (keys.length === 0) throw new Error('SessionKeys needs at least one key');
    this.aad = Buffer.from(`vmcp-session ${gateway}`);
    this.replicaAad = Buffer.from(`vmcp-replica ${gateway}`);
  }

  /** A new session id for `state`. */
  issue(state: { pk?: string; caps: Record<string, unknown>; pv: string }): { id: string; claims: SessionClaims } {
    const iat = Math.floor(this.now() / 1000);
    const claims: SessionClaims = {
      sid: randomBytes(16).toString('base64url'),
      ...(state.pk !== undefined ? { pk: state.pk } : {}),
      caps: compactCapabilities(state.caps),
      pv: state.pv,
      iat,
      exp: iat + Math.ceil(this.maxAgeMs / 1000),
    };
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0], iv);
    cipher.setAAD(this.aad);
    const body = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { id: `${VERSION}.${Buffer.concat([iv, body]).toString('base64url')}`, claims };
  }

  /**
   * An opaque tag naming a replica's own URL, that only replicas holding one of the keys can open.
   * Server→client request ids and 2026 `requestState`s carry it, so the replica that receives the
   * client's answer knows which replica holds the call; clients never see the address.
   */
  sealReplica(url: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0], iv);
    cipher.setAAD(this.replicaAad);
    const body = Buffer.concat([cipher.update(url, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return Buffer.concat([iv, body]).toString('base64url');
  }

  /** The URL in a replica tag made with one of the keys; undefined for anything else. */
  openReplica(tag: string): string | undefined {
    if (tag.length > 1024) return undefined;
    const raw = Buffer.from(tag, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + 8) return undefined;
    const iv = raw.subarray(0, IV_BYTES);
    const authTag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    for (const key of this.keys) {
      try {
        const d = createDecipheriv('aes-256-gcm', key, iv);
        d.setAAD(this.replicaAad);
        d.setAuthTag(authTag);
        const url = Buffer.concat([d.update(body), d.final()]).toString('utf8');
        return /^https?:\/\//.test(url) ? url : undefined;
      } catch {
        // another key's tag, or tampered: try the next key
      }
    }
    return undefined;
  }

  /** The claims of a valid, unexpired id made with one of the keys; undefined for anything else. */
  open(id: string): SessionClaims | undefined {
    if (!id.startsWith(`${VERSION}.`) || id.length > 8192) return undefined;
    const raw = Buffer.from(id.slice(VERSION.length + 1), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + 2) return undefined;
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    for (const key of this.keys) {
      let text: string;
      try {
        const d = createDecipheriv('aes-256-gcm', key, iv);
        d.setAAD(this.aad);
        d.setAuthTag(tag);
        text = Buffer.concat([d.update(body), d.final()]).toString('utf8');
      } catch {
        continue; // another key's id, or tampered: try the next key
      }
      const claims = parseClaims(text);
      if (!claims || claims.exp * 1000 <= this.now()) return undefined;
      return claims;
    }
    return undefined;
  }
}

/** Claims with the expected shape, or undefined (a valid tag over unexpected content is still refused). */
function parseClaims(text: string): SessionClaims | undefined {
  let c: any;
  try {
    c = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (
    typeof c?.sid !== 'string' ||
    typeof c.pv !== 'string' ||
    typeof c.iat !== 'number' ||
    typeof c.exp !== 'number' ||
    (c.pk !== undefined && typeof c.pk !== 'string') ||
    typeof c.caps !== 'object' ||
    c.caps === null
  )
    return undefined;
  return c as SessionClaims;
}

/**
 * The capabilities as carried in an id: as sent, unless they are large, when only what routing
 * reads is kept (which capabilities exist, and the elicitation modes).
 */
export function compactCapabilities(caps: Record<string, unknown>): Record<string, unknown> {
  if (Buffer.byteLength(JSON.stringify(caps)) <= MAX_CAPS_BYTES) return caps;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(caps)) {
    if (k === 'elicitation' && v && typeof v === 'object')
      out[k] = Object.fromEntries(Object.keys(v).map((m) => [m, {}]));
    else out[k] = {};
  }
  return out;
}

/** A key from the named variable, or the file the `_FILE` variable names; undefined when neither is set. */
function secretFrom(env: Readonly<Record<string, string | undefined>>, name: string): Buffer | undefined {
  const file = env[`${name}_FILE`];
  const inline = env[name];
  if (file && inline)
    throw new StartupError(`${name} and ${name}_FILE are both set; set one (the file is for a mounted Secret)`);
  let secret: Buffer | undefined;
  if (file) {
    try {
      secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
    } catch (err) {
      throw new StartupError(`${name}_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  } else if (inline) secret = Buffer.from(inline.trim(), 'utf8');
  if (secret === undefined) return undefined;
  if (secret.length < MIN_SECRET_BYTES)
    throw new StartupError(
      `${file ? `${name}_FILE (${file})` : name} holds ${secret.length} bytes; a session key needs at least ${MIN_SECRET_BYTES} (make one with: openssl rand -base64 32)`,
    );
  return secret;
}

/** The AES key derived from a secret (HKDF-SHA256), so any string of 32+ bytes makes a full-strength key. */
function deriveKey(secret: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'vmcp-session-key', 'aes-256-gcm v1', 32));
}

/**
 * The session keys from the environment, or undefined when `VMCP_SESSION_KEY` is not set (sessions
 * then live in this process only, as on a single node).
 */
export function sessionKeysFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  gateway: string,
  maxAgeMs: number,
): SessionKeys | undefined {
  const current = secretFrom(env, 'VMCP_SESSION_KEY');
  const previous = secretFrom(env, 'VMCP_SESSION_KEY_PREVIOUS');
  if (!current) {
    if (previous)
      throw new StartupError(
        'VMCP_SESSION_KEY_PREVIOUS is set without VMCP_SESSION_KEY; set the new key in VMCP_SESSION_KEY and keep the old one in _PREVIOUS',
      );
    return undefined;
  }
  return new SessionKeys([deriveKey(current), ...(previous ? [deriveKey(previous)] : [])], gateway, maxAgeMs);
}
