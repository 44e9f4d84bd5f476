/** The first schema: tokens, recipe versions, builds with their events, leases, workers, artifacts. */
import { sql } from 'kysely';
import type { Migration } from './migration.js';

export const initial: Migration = {
  version: 1,
  name: 'initial',
  async up(db, pg) {
    await db.schema
      .createTable('tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text')
      .addColumn('revoked', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();

    await db.schema
      .createTable('recipe_versions')
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('file', 'text', (c) => c.notNull())
      .addColumn('files', 'integer', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('recipe_versions_pk', ['name', 'version'])
      .addUniqueConstraint('recipe_versions_hash', ['name', 'hash'])
      .execute();

    await db.schema
      .createTable('builds')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('recipe', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('arch', 'text', (c) => c.notNull())
      .addColumn('set_json', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('worker', 'text')
      .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error', 'text')
      .addColumn('retry_of', 'text')
      .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('stages', 'text', (c) => c.notNull())
      .addColumn('last_seq', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_id', 'text')
      .execute();
    // The queue (oldest queued first) and filtered lists (newest first) walk these in id order.
    await db.schema.createIndex('builds_state_id').on('builds').columns(['state', 'id']).execute();
    await db.schema.createIndex('builds_recipe_id').on('builds').columns(['recipe', 'id']).execute();

    await db.schema
      .createTable('leases')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // One live lease per build, enforced by the database as a last line against double hand-outs.
      .addColumn('build_id', 'text', (c) => c.notNull().unique())
      .addColumn('worker_id', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_event_n', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('leases_worker').on('leases').column('worker_id').execute();

    await db.schema
      .createTable('events')
      .addColumn('build_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      // Reading "after seq N" of one build is a range scan of this key, even for 100,000 log lines.
      .addPrimaryKeyConstraint('events_pk', ['build_id', 'seq'])
      // SQLite: the key is the table (no rowid B-tree beside it), so each log line is written once.
      .$call((q) => (pg ? q : q.modifyEnd(sql`without rowid`)))
      .execute();

    await db.schema
      .createTable('workers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('arches', 'text', (c) => c.notNull())
      .addColumn('concurrency', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('registered_at', 'text', (c) => c.notNull())
      .addColumn('last_heartbeat', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('workers_name').on('workers').column('name').execute();

    await db.schema
      .createTable('artifacts')
      .addColumn('build_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('artifacts_pk', ['build_id', 'name'])
      .execute();
  },
};
