/**
 * The lease sweeper: every heartbeat interval, workers silent for longer than `lost after` lose
 * their jobs (requeued, or failed with "worker lost" past the retries). Every server of a shared
 * database runs one; the store makes each expiry happen once. At start and then hourly it also
 * removes the temporary files of uploads a killed server left behind (artifacts/abandoned.ts).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ServiceContext } from './context.js';
import { noteState } from './context.js';
import { ABANDONED_AFTER_MS, removeAbandonedUploads } from './artifacts/abandoned.js';

export function startSweeper(ctx: ServiceContext, log: FastifyBaseLogger): () => Promise<void> {
  let running: Promise<void> | undefined;
  const sweep = async () => {
    const touched = await ctx.store.expireLeases(new Date().toISOString(), ctx.lostAfterSeconds * 1000, ctx.maxRetries);
    for (const build of touched) {
      noteState(ctx, build);
      log.warn({ build: build.id, state: build.state, attempt: build.attempt }, 'worker lost: build requeued or failed');
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = sweep()
      .catch((err: unknown) => log.error({ err }, 'lease sweep failed'))
      .finally(() => (running = undefined));
  }, ctx.heartbeatSeconds * 1000);
  timer.unref();
  let cleaning: Promise<void> | undefined;
  const clean = () => {
    cleaning ??= removeAbandonedUploads(ctx.artifactsDir)
      .then((removed) => {
        if (removed.length) log.warn({ files: removed.length }, 'removed temporary files of uploads that never finished');
      })
      .catch((err: unknown) => log.error({ err }, 'cleaning abandoned uploads failed'))
      .finally(() => (cleaning = undefined));
  };
  clean();
  const hourly = setInterval(clean, ABANDONED_AFTER_MS);
  hourly.unref();
  return async () => {
    clearInterval(timer);
    clearInterval(hourly);
    await running;
    await cleaning;
  };
}
