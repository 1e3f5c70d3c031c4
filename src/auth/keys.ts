import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Tenant API keys and proxy keys: `<prefix><tenant id, 22 chars base64url><secret, 43 chars>`.
 * The tenant id is not secret (JWTs carry it too); having it up front lets the key lookup run
 * inside that tenant's RLS transaction, so authentication needs no way around row security.
 * Keys are 256-bit random, so a plain SHA-256 is the right stored form (no slow KDF needed).
 */
export type KeyKind = 'api' | 'proxy';
export const KEY_PREFIX: Record<KeyKind, string> = { api: 'hc_live_', proxy: 'hc_proxy_' };

export interface IssuedKey {
  key: string;
  hash: Buffer;
  hint: string;
}

export function issueKey(kind: KeyKind, tenantId: string): IssuedKey {
  const tenant = Buffer.from(tenantId.replace(/-/g, ''), 'hex').toString('base64url');
  const key = `${KEY_PREFIX[kind]}${tenant}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashKey(key), hint: key.slice(-4) };
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** The tenant a key claims to belong to, or null when the key is not of that kind's shape. */
export function keyTenant(kind: KeyKind, key: string): string | null {
  const prefix = KEY_PREFIX[kind];
  if (!key.startsWith(prefix) || key.length !== prefix.length + 22 + 43) return null;
  const body = key.slice(prefix.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return null;
  const hex = Buffer.from(body.slice(0, 22), 'base64url').toString('hex');
  if (hex.length !== 32) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Constant-time equality for secrets of any length (hashing first equalises the lengths). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(hashKey(a), hashKey(b));
}
