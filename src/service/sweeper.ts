/**
 * The lease sweeper: every heartbeat interval, workers silent for longer than `lost after` lose
 * their jobs (requeued, or failed with "worker lost" past the retries). Every server of a shared
 * database runs one; the store makes each expiry happen once.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ServiceContext } from './context.js';
import { noteState } from './context.js';

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
  return async () => {
    clearInterval(timer);
    await running;
  };
}
