/**
 * Applies pending migrations at start, each in its own transaction together with its row in
 * `kiln_migrations`. Our own small runner rather than Kysely's Migrator: it reuses the store's
 * transactions (BEGIN IMMEDIATE on SQLite), and on PostgreSQL it takes an advisory lock, so servers
 * starting together against one database apply each migration exactly once.
 */
import { sql } from 'kysely';
import { UserError } from '../../errors.js';
import type { StoreContext } from './context.js';
import { MIGRATIONS } from './migrations/index.js';

/** Any constant works; it only has to be the same for every kiln server. */
const MIGRATION_LOCK = 0x6b696c6e;

export async function migrate(ctx: StoreContext): Promise<void> {
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  for (const migration of MIGRATIONS) {
    await ctx.tx(async (t) => {
      if (t.pg) await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(t.db);
      await t.db.schema
        .createTable('kiln_migrations')
        .ifNotExists()
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        .execute();
      const newest = await t.db.selectFrom('kiln_migrations').select((e) => e.fn.max('version').as('v')).executeTakeFirst();
      if (newest?.v != null && Number(newest.v) > latest) {
        throw new UserError(`the database's schema is version ${newest.v}, newer than this kiln's (${latest}): upgrade kiln`);
      }
      const done = await t.db.selectFrom('kiln_migrations').select('version').where('version', '=', migration.version).executeTakeFirst();
      if (done) return;
      await migration.up(t.db, t.pg);
      await t.db.insertInto('kiln_migrations').values({ version: migration.version, name: migration.name, applied_at: new Date().toISOString() }).execute();
    });
  }
}
