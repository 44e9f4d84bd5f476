/**
 * API tokens: `kiln_<id>_<secret>`. The id finds the row, the secret is only ever stored as its
 * sha256 and compared in constant time; job tokens (one per lease) work the same way.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServiceStore, StoredToken } from '../db/service-store.js';
import type { Scope } from '../protocol.js';

const TOKEN = /^kiln_([0-9a-z]{10,40})_([A-Za-z0-9_-]{20,100})$/;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN.exec(token);
  return m?.[1] && m[2] ? { id: m[1], secret: m[2] } : undefined;
}

/** True when `secret` hashes to `hash`; the comparison takes the same time wherever they differ. */
export function secretMatches(secret: string, hash: string): boolean {
  const given = Buffer.from(sha256Hex(secret), 'hex');
  const stored = Buffer.from(hash, 'hex');
  return stored.length === given.length && timingSafeEqual(given, stored);
}

/** The token's row when it is valid and not revoked; `lookup` finds a row by id (the store, or a cache of it). */
export async function verifyToken(lookup: (id: string) => Promise<StoredToken | undefined>, token: string): Promise<StoredToken | undefined> {
  const parsed = parseToken(token);
  if (!parsed) return undefined;
  const row = await lookup(parsed.id);
  // Hash even when the id is unknown, so timing does not tell which ids exist.
  const ok = secretMatches(parsed.secret, row?.hash ?? '0'.repeat(64));
  return row && ok && !row.revoked ? row : undefined;
}

/** admin holds every scope; build holds read (whoever starts builds must see them). */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  return held.includes('admin') || held.includes(needed) || (needed === 'read' && held.includes('build'));
}

export async function createToken(store: ServiceStore, name: string, scopes: Scope[]): Promise<{ token: string; row: StoredToken }> {
  const secret = newSecret();
  const row = await store.createToken({ name, scopes, hash: sha256Hex(secret) });
  return { token: `kiln_${row.id}_${secret}`, row };
}

/** On a server's first start (no tokens at all), an admin token; undefined when tokens exist. */
export async function firstAdminToken(store: ServiceStore): Promise<string | undefined> {
  if ((await store.countTokens()) > 0) return undefined;
  return (await createToken(store, 'first admin', ['admin'])).token;
}
