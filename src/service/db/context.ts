/**
 * What every query module gets: the Kysely instance, which engine it is, and `tx`, the one way
 * to write. Each store method that writes is one `tx`, so a server killed at any moment leaves
 * the database as before or after a whole method.
 *
 * SQLite transactions start with BEGIN IMMEDIATE: the write lock is taken at the start, so two
 * processes sharing the file queue up on busy_timeout instead of one failing with SQLITE_BUSY
 * when it upgrades a read to a write. Stores in one process that open the same file also share a
 * mutex, because better-sqlite3 waits for a lock synchronously: a second connection waiting in
 * the same thread would block the event loop that the first one needs to finish (a deadlock
 * until the timeout).
 */
import { resolve } from 'node:path';
import { sql } from 'kysely';
import type { Db } from './schema.js';
import { CHANNELS, Wakeups, wakeKey, type Channel } from './notify.js';

export interface Tx {
  readonly db: Db;
  readonly pg: boolean;
  /** Wakes waiters (on every server sharing the database) when this transaction commits. */
  notify(channel: Channel, buildId: string): Promise<void>;
}

export interface StoreContext {
  readonly db: Db;
  readonly pg: boolean;
  readonly wakeups: Wakeups;
  /** Retries of a build whose worker was lost, before it fails. */
  readonly maxRetries: number;
  tx<T>(fn: (t: Tx) => Promise<T>): Promise<T>;
}

/** Runs promises one after another. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

interface SharedFile {
  mutex: Mutex;
  wakeups: Wakeups;
}
const sharedFiles = new Map<string, SharedFile>();

/** The mutex and wake-ups of an SQLite file, shared by every store of this process that opens it. */
export function sharedSqliteFile(file: string): SharedFile {
  const key = resolve(file);
  let shared = sharedFiles.get(key);
  if (!shared) {
    shared = { mutex: new Mutex(), wakeups: new Wakeups() };
    sharedFiles.set(key, shared);
  }
  return shared;
}

export function sqliteTransactions(db: Db, shared: SharedFile): StoreContext['tx'] {
  return (fn) =>
    shared.mutex.run(() =>
      db.connection().execute(async (conn) => {
        const wake = new Set<string>();
        const t: Tx = {
          db: conn,
          pg: false,
          notify: (channel, buildId) => {
            wake.add(wakeKey(channel, buildId));
            return Promise.resolve();
          },
        };
        await sql`BEGIN IMMEDIATE`.execute(conn);
        let result;
        try {
          result = await fn(t);
          await sql`COMMIT`.execute(conn);
        } catch (err) {
          // SQLite may already have rolled back (e.g. on SQLITE_FULL); the original error matters.
          await sql`ROLLBACK`.execute(conn).catch(() => undefined);
          throw err;
        }
        for (const key of wake) shared.wakeups.wake(key);
        return result;
      }),
    );
}

export function postgresTransactions(db: Db): StoreContext['tx'] {
  return (fn) =>
    db.transaction().execute((trx) =>
      fn({
        db: trx,
        pg: true,
        notify: async (channel, buildId) => {
          await sql`SELECT pg_notify(${CHANNELS[channel]}, ${buildId})`.execute(trx);
        },
      }),
    );
}

/** Now, as the store writes times. */
export function nowIso(): string {
  return new Date().toISOString();
}
