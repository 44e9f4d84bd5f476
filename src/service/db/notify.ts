/**
 * Wake-ups: what lets a waiting claim or an event stream go back to the database the moment
 * something changed, instead of polling at a fixed interval.
 *
 * Waiters wait on keys (`work`, `events:<build id>`) of a process-local emitter. On PostgreSQL
 * the emitter is fed by one dedicated client per store that LISTENs on `kiln_work` and
 * `kiln_events` (the payload is the build id); writers NOTIFY inside their transaction, so the
 * wake-up is delivered on commit and reaches every server sharing the database. On SQLite the
 * writers wake the emitter after commit; stores of one process that open the same file share it.
 * Other processes writing the same SQLite file wake nobody: their changes are seen when a wait
 * times out (at most SQLITE_WAKE_MS), so that setup works but reacts slower, and is not supported
 * for notification.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';

export const CHANNELS = { work: 'kiln_work', events: 'kiln_events' } as const;
export type Channel = keyof typeof CHANNELS;
/** The longest a wait lasts on SQLite, for writers in other processes. */
export const SQLITE_WAKE_MS = 1000;

export function wakeKey(channel: Channel, buildId: string): string {
  return channel === 'work' ? 'work' : `events:${buildId}`;
}

export class Wakeups {
  readonly #emitter = new EventEmitter();

  constructor() {
    // One listener per waiting request: there is no meaningful maximum.
    this.#emitter.setMaxListeners(0);
  }

  wake(key: string): void {
    this.#emitter.emit(key);
  }

  /** Wakes every waiter, e.g. when notifications may have been missed. */
  wakeAll(): void {
    for (const key of this.#emitter.eventNames()) this.#emitter.emit(key);
  }

  /**
   * Resolves on the next wake of `key`, after `ms`, or on abort. The waiter is registered before
   * this returns, so a caller may start waiting, check the database, and then await: a change
   * in between is not missed.
   */
  wait(key: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.#emitter.off(key, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#emitter.on(key, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * Keeps one client LISTENing for the store's lifetime. When the connection breaks, every waiter is
 * woken (it re-reads the database, so nothing is lost) and the client reconnects after a second.
 */
export class PostgresListener {
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly wakeups: Wakeups,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (n) => {
      if (n.channel === CHANNELS.work) this.wakeups.wake('work');
      else if (n.channel === CHANNELS.events && n.payload) this.wakeups.wake(wakeKey('events', n.payload));
    });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    await client.connect();
    await client.query(`LISTEN ${CHANNELS.work}; LISTEN ${CHANNELS.events}`);
    if (this.#closed) await client.end();
    else this.#client = client;
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => undefined);
    this.wakeups.wakeAll();
    this.#reconnectLater();
  }

  #reconnectLater(): void {
    if (this.#closed) return;
    this.#retry = setTimeout(() => {
      this.start().catch(() => this.#reconnectLater());
    }, 1000);
    this.#retry.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end();
  }
}
