/** API tokens: only the sha256 of the secret is stored; the id is the token's public part. */
import type { Scope } from '../protocol.js';
import { nowIso, type StoreContext } from './context.js';
import { newId } from './ids.js';
import { storableText, toNumber, type TokensTable } from './schema.js';
import type { StoredToken } from './service-store.js';

function toToken(row: TokensTable): StoredToken {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as Scope[],
    hash: row.hash,
    createdAt: row.created_at,
    ...(row.last_used_at ? { lastUsedAt: row.last_used_at } : {}),
    revoked: row.revoked !== 0,
  };
}

export async function createToken(ctx: StoreContext, t: { name: string; scopes: Scope[]; hash: string }): Promise<StoredToken> {
  const row: TokensTable = { id: newId(), name: storableText(t.name), scopes: JSON.stringify(t.scopes), hash: t.hash, created_at: nowIso(), last_used_at: null, revoked: 0 };
  await ctx.tx((x) => x.db.insertInto('tokens').values(row).execute());
  return toToken(row);
}

export async function tokenById(ctx: StoreContext, id: string): Promise<StoredToken | undefined> {
  const row = await ctx.db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toToken(row);
}

export async function listTokens(ctx: StoreContext): Promise<StoredToken[]> {
  return (await ctx.db.selectFrom('tokens').selectAll().orderBy('id').execute()).map(toToken);
}

export async function revokeToken(ctx: StoreContext, id: string): Promise<boolean> {
  const r = await ctx.tx((x) => x.db.updateTable('tokens').set({ revoked: 1 }).where('id', '=', id).executeTakeFirst());
  return r.numUpdatedRows > 0n;
}

export async function touchToken(ctx: StoreContext, id: string, at: string): Promise<void> {
  await ctx.tx((x) => x.db.updateTable('tokens').set({ last_used_at: at }).where('id', '=', id).execute());
}

/** Every token ever made, revoked ones included: "no token yet" means a fresh service. */
export async function countTokens(ctx: StoreContext): Promise<number> {
  const row = await ctx.db.selectFrom('tokens').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return toNumber(row.n);
}
