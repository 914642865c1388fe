/** Signed session ids (VMCP_SESSION_KEY): what opens, what does not, rotation, and the env rules. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../runtime/env.ts';
import { compactCapabilities, SessionKeys, sessionKeysFromEnv } from '../../runtime/session-keys.ts';

const HOUR = 3_600_000;
const SECRET_A = 'a'.repeat(32);
const SECRET_B = 'b'.repeat(40);
const keysOf = (env: Record<string, string>, gateway = 'gw', now?: () => number) => {
  const k = sessionKeysFromEnv(env, gateway, HOUR)!;
  if (now) (k as any).now = now;
  return k;
};
const STATE = { pk: 'https://idp.example.com alice', caps: { elicitation: { form: {} }, roots: {} }, pv: '2025-11-25' };

describe('SessionKeys', () => {
  it('an id opens to the claims it was issued with, on any holder of the key', () => {
    const { id, claims } = keysOf({ VMCP_SESSION_KEY: SECRET_A }).issue(STATE);
    expect(claims).toMatchObject({ pk: STATE.pk, caps: STATE.caps, pv: STATE.pv });
    expect(claims.exp - claims.iat).toBe(3600);
    // Another replica: its own SessionKeys object built from the same secret.
    expect(keysOf({ VMCP_SESSION_KEY: SECRET_A }).open(id)).toEqual(claims);
    // Mcp-Session-Id must be visible ASCII (0x21 to 0x7E).
    expect(id).toMatch(/^[\x21-\x7e]+$/);
    expect(id.length).toBeLessThan(400);
  });

  it('two sessions of the same caller get different ids', () => {
    const k = keysOf({ VMCP_SESSION_KEY: SECRET_A });
    const a = k.issue(STATE);
    const b = k.issue(STATE);
    expect(a.id).not.toBe(b.id);
    expect(a.claims.sid).not.toBe(b.claims.sid);
  });

  it.each([
    ['another key', (id: string) => keysOf({ VMCP_SESSION_KEY: SECRET_B }).open(id)],
    ['another gateway with the same key', (id: string) => keysOf({ VMCP_SESSION_KEY: SECRET_A }, 'other').open(id)],
    [
      'one character changed',
      (id: string) => {
        const i = id.length - 10;
        const c = id[i] === 'A' ? 'B' : 'A';
        return keysOf({ VMCP_SESSION_KEY: SECRET_A }).open(id.slice(0, i) + c + id.slice(i + 1));
      },
    ],
    ['truncated', (id: string) => keysOf({ VMCP_SESSION_KEY: SECRET_A }).open(id.slice(0, -4))],
    ['a UUID', () => keysOf({ VMCP_SESSION_KEY: SECRET_A }).open('5b1f6c4e-8a0b-4d7e-9a51-0d3c2f1e9b77')],
    ['the prefix alone', () => keysOf({ VMCP_SESSION_KEY: SECRET_A }).open('v1.')],
    ['garbage', () => keysOf({ VMCP_SESSION_KEY: SECRET_A }).open(`v1.${'A'.repeat(200)}`)],
    ['oversized', () => keysOf({ VMCP_SESSION_KEY: SECRET_A }).open(`v1.${'A'.repeat(9000)}`)],
  ])('does not open: %s', (_name, attempt) => {
    const { id } = keysOf({ VMCP_SESSION_KEY: SECRET_A }).issue(STATE);
    expect(attempt(id)).toBeUndefined();
  });

  it('expires after the max age (injected clock)', () => {
    let now = Date.UTC(2026, 11, 5);
    const k = keysOf({ VMCP_SESSION_KEY: SECRET_A }, 'gw', () => now);
    const { id } = k.issue(STATE);
    now += HOUR - 1000;
    expect(k.open(id)).toBeDefined();
    now += 1000;
    expect(k.open(id)).toBeUndefined();
  });

  it('rotation: ids of the previous key open until they expire; new ids use the new key', () => {
    const old = keysOf({ VMCP_SESSION_KEY: SECRET_A });
    const rotated = keysOf({ VMCP_SESSION_KEY: SECRET_B, VMCP_SESSION_KEY_PREVIOUS: SECRET_A });
    const before = old.issue(STATE).id;
    expect(rotated.open(before)).toBeDefined();
    const after = rotated.issue(STATE).id;
    expect(old.open(after)).toBeUndefined();
    expect(keysOf({ VMCP_SESSION_KEY: SECRET_B }).open(after)).toBeDefined();
    // Once the old key is dropped, its ids stop opening.
    expect(keysOf({ VMCP_SESSION_KEY: SECRET_B }).open(before)).toBeUndefined();
  });

  it('a valid tag over content of the wrong shape is refused', () => {
    const k = new SessionKeys([Buffer.alloc(32, 7)], 'gw', HOUR);
    const id = k.issue(STATE).id;
    expect(k.open(id)).toBeDefined();
    // Sealed with the same key, but without the fields open() requires (caps null, pv a number).
    const forged = k.issue({ caps: null as never, pv: 5 as never });
    expect(k.open(forged.id)).toBeUndefined();
  });

  it('large capabilities travel as their shape: which exist, and the elicitation modes', () => {
    const caps = {
      sampling: { big: 'x'.repeat(5000) },
      elicitation: { form: { deep: 1 }, url: {} },
      roots: { listChanged: true },
    };
    expect(compactCapabilities(caps)).toEqual({ sampling: {}, elicitation: { form: {}, url: {} }, roots: {} });
    const small = { roots: { listChanged: true } };
    expect(compactCapabilities(small)).toBe(small);
    const { id } = keysOf({ VMCP_SESSION_KEY: SECRET_A }).issue({ ...STATE, caps });
    expect(id.length).toBeLessThan(400);
  });
});

describe('sessionKeysFromEnv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-session-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('no key: sessions stay in one process', () => {
    expect(sessionKeysFromEnv({}, 'gw', HOUR)).toBeUndefined();
  });

  it('reads a mounted Secret file, trailing newline and all, the same as the variable', () => {
    const file = join(dir, 'key');
    writeFileSync(file, `${SECRET_A}\n`);
    const id = keysOf({ VMCP_SESSION_KEY_FILE: file }).issue(STATE).id;
    expect(keysOf({ VMCP_SESSION_KEY: SECRET_A }).open(id)).toBeDefined();
  });

  it.each([
    [
      { VMCP_SESSION_KEY: 'short' },
      'VMCP_SESSION_KEY holds 5 bytes; a session key needs at least 32 (make one with: openssl rand -base64 32)',
    ],
    [
      { VMCP_SESSION_KEY: SECRET_A, VMCP_SESSION_KEY_FILE: '/x' },
      'VMCP_SESSION_KEY and VMCP_SESSION_KEY_FILE are both set',
    ],
    [
      { VMCP_SESSION_KEY_FILE: '/nonexistent/vmcp-key' },
      'VMCP_SESSION_KEY_FILE: cannot read /nonexistent/vmcp-key: ENOENT',
    ],
    [{ VMCP_SESSION_KEY_PREVIOUS: SECRET_A }, 'VMCP_SESSION_KEY_PREVIOUS is set without VMCP_SESSION_KEY'],
    [{ VMCP_SESSION_KEY: SECRET_A, VMCP_SESSION_KEY_PREVIOUS: 'tiny' }, 'VMCP_SESSION_KEY_PREVIOUS holds 4 bytes'],
  ])('%j: a start-up error that says the fix', (env, message) => {
    expect(() => sessionKeysFromEnv(env, 'gw', HOUR)).toThrow(StartupError);
    expect(() => sessionKeysFromEnv(env, 'gw', HOUR)).toThrow(message);
  });

  it('never puts the secret in an error', () => {
    const secret = 'not-long-enough-secret';
    try {
      sessionKeysFromEnv({ VMCP_SESSION_KEY: secret }, 'gw', HOUR);
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
    expect.assertions(1);
  });
});

describe('replica tags (relaying clients answers between replicas)', () => {
  const URL_A = 'http://10.0.0.7:8080/mcp';
  it('a tag opens to its URL on any replica with the key, and is opaque and id-safe', () => {
    const tag = keysOf({ VMCP_SESSION_KEY: SECRET_A }).sealReplica(URL_A);
    expect(keysOf({ VMCP_SESSION_KEY: SECRET_A }).openReplica(tag)).toBe(URL_A);
    expect(tag).not.toContain('10.0.0.7');
    // It sits between dots in ids and requestStates: base64url has none.
    expect(tag).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('a tag made with another key, for another gateway, tampered or forged does not open', () => {
    const tag = keysOf({ VMCP_SESSION_KEY: SECRET_A }).sealReplica(URL_A);
    expect(keysOf({ VMCP_SESSION_KEY: SECRET_B }).openReplica(tag)).toBeUndefined();
    expect(keysOf({ VMCP_SESSION_KEY: SECRET_A }, 'other-gw').openReplica(tag)).toBeUndefined();
    const raw = Buffer.from(tag, 'base64url');
    raw[raw.length - 20] ^= 1;
    expect(keysOf({ VMCP_SESSION_KEY: SECRET_A }).openReplica(raw.toString('base64url'))).toBeUndefined();
    expect(
      keysOf({ VMCP_SESSION_KEY: SECRET_A }).openReplica(Buffer.from(URL_A).toString('base64url')),
    ).toBeUndefined();
    // A session id is not a replica tag (different associated data).
    const { id } = keysOf({ VMCP_SESSION_KEY: SECRET_A }).issue(STATE);
    expect(keysOf({ VMCP_SESSION_KEY: SECRET_A }).openReplica(id.slice(3))).toBeUndefined();
  });

  it('tags made with the previous key still open during a rotation', () => {
    const old = keysOf({ VMCP_SESSION_KEY: SECRET_A }).sealReplica(URL_A);
    expect(keysOf({ VMCP_SESSION_KEY: SECRET_B, VMCP_SESSION_KEY_PREVIOUS: SECRET_A }).openReplica(old)).toBe(URL_A);
  });
});

describe('replicaUrl', () => {
  it('is VMCP_ADVERTISE_URL, else the bound address when it is a specific one', async () => {
    const { replicaUrl } = await import('../../runtime/index.ts');
    expect(replicaUrl('http://10.1.2.3:8080/mcp', '0.0.0.0', 8080)).toBe('http://10.1.2.3:8080/mcp');
    expect(replicaUrl(undefined, '127.0.0.1', 4484)).toBe('http://127.0.0.1:4484/mcp');
    expect(replicaUrl(undefined, '::1', 4484)).toBe('http://[::1]:4484/mcp');
    expect(replicaUrl(undefined, '0.0.0.0', 4484)).toBeUndefined();
    expect(replicaUrl(undefined, '::', 4484)).toBeUndefined();
    expect(() => replicaUrl('10.1.2.3:8080', '0.0.0.0', 8080)).toThrow(/VMCP_ADVERTISE_URL.*not an http\(s\) URL/);
  });
});
