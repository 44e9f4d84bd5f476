/**
 * Sends a lease's events to the server in order, in batches (every ~200 ms, or at once when 500
 * are waiting or one is more than a log line), one request at a time. A batch that failed is sent again with the same numbers:
 * the server keeps only numbers it has not seen, so a resend after a timeout never duplicates.
 */
import type { WorkerEvent } from '../service/protocol.js';
import { ApiError, backoffMs } from './api.js';
import { EventNumberer, type UnnumberedWorkerEvent } from './translate.js';

export interface EventSenderOptions {
  post: (events: WorkerEvent[]) => Promise<void>;
  /** The server refused for good (lease lost, events rejected): nothing more is sent. */
  onRefused: (err: ApiError) => void;
  intervalMs?: number;
  batch?: number;
  /** Wait before resend number `attempt` (from 0); tests shorten it. */
  backoff?: (attempt: number) => number;
}

export class EventSender {
  private readonly numberer = new EventNumberer();
  private readonly pending: WorkerEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  private failures = 0;
  private stopped = false;
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private refusal: ApiError | undefined;

  constructor(private readonly o: EventSenderOptions) {}

  push(event: UnnumberedWorkerEvent): void {
    if (this.stopped) return;
    this.pending.push(this.numberer.number(event));
    if (this.pending.length >= this.batchSize || isUrgent(event)) this.schedule(0);
    else this.schedule(this.o.intervalMs ?? 200);
  }

  /** Resolves once the server has every event pushed so far; rejects when it refused them. */
  flush(): Promise<void> {
    if (this.refusal) return Promise.reject(this.refusal);
    if (this.stopped) return Promise.reject(new Error('the event sender was stopped'));
    if (!this.pending.length && !this.sending) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.sending && this.failures === 0) this.schedule(0);
    return done;
  }

  /** Drops what is pending (the lease is gone) and stops the timers. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.settle(new Error('the event sender was stopped'));
  }

  get sent(): number {
    return this.numberer.last - this.pending.length;
  }

  private get batchSize(): number {
    return this.o.batch ?? 500;
  }

  private schedule(ms: number): void {
    if (this.stopped || this.sending) return;
    // An earlier, later-firing timer gives way to a sooner one; a sooner one stays.
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.send();
    }, ms);
  }

  private async send(): Promise<void> {
    if (this.stopped || this.sending) return;
    if (!this.pending.length) return this.settle();
    this.sending = true;
    const batch = this.pending.slice(0, this.batchSize);
    try {
      await this.o.post(batch);
      if (this.stopped) return;
      this.pending.splice(0, batch.length);
      this.failures = 0;
    } catch (err) {
      if (this.stopped) return;
      const apiError = err instanceof ApiError ? err : new ApiError(err instanceof Error ? err.message : String(err), 0, 'unreachable');
      if (!apiError.retryable) {
        this.refusal = apiError;
        this.stopped = true;
        this.settle(apiError);
        this.o.onRefused(apiError);
        return;
      }
      this.failures += 1;
    } finally {
      this.sending = false;
    }
    if (this.failures) this.retryLater();
    else if (this.pending.length >= this.batchSize || (this.pending.length && this.waiters.length) || this.pending.some(isUrgent)) this.schedule(0);
    else if (this.pending.length) this.schedule(this.o.intervalMs ?? 200);
    else this.settle();
  }

  private retryLater(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.send();
    }, (this.o.backoff ?? ((a: number) => backoffMs(a, 10_000)))(this.failures - 1));
  }

  private settle(err?: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }
}

/** What watchers wait for (a stage starting or ending) goes at once; log lines ride in batches. */
function isUrgent(event: { type: string }): boolean {
  return event.type !== 'log';
}
