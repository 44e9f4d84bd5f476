/**
 * Opens the service's database. Kysely is the one query builder for both engines: the same typed
 * queries compile to SQLite's and PostgreSQL's dialects, with `$if` for the few places they
 * differ (row locks), so the two engines cannot drift apart the way two hand-written SQL files do,
 * and it has no runtime dependency beyond the drivers (better-sqlite3, pg) it sits on.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { UserError } from '../../errors.js';
import { postgresTransactions, sharedSqliteFile, sqliteTransactions, type StoreContext } from './context.js';
import { PostgresListener, Wakeups } from './notify.js';
import type { Database as Tables } from './schema.js';
import type { ServiceStore } from './service-store.js';
import { KyselyServiceStore } from './store.js';

/** A PostgreSQL URL (`postgres://` or `postgresql://`), `sqlite:FILE`, or an SQLite file. */
export type StoreTarget = string | { sqliteFile: string };

export interface OpenOptions {
  /** Retries of a build whose worker was lost, when a worker name registers again (default 2). */
  maxRetries?: number;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** PostgreSQL connections per store, besides the one that listens (default 10). */
  poolSize?: number;
}

/** The default retries of a build whose worker was lost (issue 15: at most 2). */
export const DEFAULT_MAX_RETRIES = 2;

export async function openServiceStore(target: StoreTarget, options: OpenOptions = {}): Promise<ServiceStore> {
  if (typeof target !== 'string') return openSqlite(target.sqliteFile, options);
  if (/^postgres(ql)?:\/\//.test(target)) return openPostgres(target, options);
  if (target.startsWith('sqlite:')) return openSqlite(target.slice('sqlite:'.length), options);
  throw new UserError(`database "${target}" is neither postgres://USER@HOST:PORT/NAME nor sqlite:FILE`);
}

async function ready(store: ServiceStore, options: OpenOptions): Promise<ServiceStore> {
  try {
    if (options.migrate !== false) await store.migrate();
    return store;
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

async function openSqlite(file: string, options: OpenOptions): Promise<ServiceStore> {
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file);
  // WAL: readers never wait for the writer. busy_timeout: writers from other processes queue
  // instead of failing. synchronous FULL: a committed claim or result survives a power cut.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('synchronous = FULL');
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqlite }) });
  const shared = sharedSqliteFile(file);
  const ctx: StoreContext = { db, pg: false, wakeups: shared.wakeups, maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES, tx: sqliteTransactions(db, shared) };
  return ready(new KyselyServiceStore(ctx, () => db.destroy()), options);
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}

async function openPostgres(url: string, options: OpenOptions): Promise<ServiceStore> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  const wakeups = new Wakeups();
  const listener = new PostgresListener(url, wakeups);
  const ctx: StoreContext = { db, pg: true, wakeups, maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES, tx: postgresTransactions(db) };
  const store = new KyselyServiceStore(ctx, async () => {
    await listener.close();
    await db.destroy();
  });
  try {
    await ready(store, options);
    // Listening before the store is handed out: a wait never misses a NOTIFY sent after open.
    await listener.start();
    return store;
  } catch (err) {
    await store.close().catch(() => undefined);
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot open the database ${redact(url)}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
