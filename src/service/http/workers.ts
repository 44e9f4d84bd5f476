/**
 * Workers: register, heartbeat (answered with the leases to cancel or give up), claim a job with a
 * long poll that sleeps on the store's wake-up (PostgreSQL NOTIFY, or in-process) instead of
 * polling, and the list for people.
 */
import { z } from 'zod';
import { newSecret, sha256Hex } from '../auth/tokens.js';
import type { StoredWorker } from '../db/service-store.js';
import type { App, ServiceContext } from '../context.js';
import { ErrorBody, HeartbeatAnswer, Id, Job, RegisterWorker, WorkerHeartbeat, WorkerInfo, WorkerList, type Arch } from '../protocol.js';
import { notFound } from './errors.js';

export const MAX_WAIT_SECONDS = 60;
const WorkerParams = z.object({ id: Id });

function info(w: StoredWorker & { builds: string[] }): z.infer<typeof WorkerInfo> {
  return { id: w.id, name: w.name, arches: w.arches as z.infer<typeof Arch>[], concurrency: w.concurrency, state: w.state, builds: w.builds, lastHeartbeat: w.lastHeartbeat, registeredAt: w.registeredAt, version: w.version };
}

async function findWorker(ctx: ServiceContext, id: string): Promise<StoredWorker & { builds: string[] }> {
  const worker = (await ctx.store.listWorkers()).find((w) => w.id === id);
  if (!worker) throw notFound(`worker ${id} (register again with POST /v1/workers)`);
  return worker;
}

export function workerRoutes(app: App, ctx: ServiceContext): void {
  const worker = { auth: ['worker' as const] };

  app.post('/v1/workers', { config: worker, schema: { tags: ['workers'], body: RegisterWorker, response: { 201: WorkerInfo, 400: ErrorBody } } }, async (request, reply) => {
    const w = await ctx.store.registerWorker(request.body);
    request.log.info({ worker: w.id, name: w.name, arches: w.arches }, 'worker registered');
    return reply.code(201).send(info({ ...w, builds: [] }));
  });

  app.get('/v1/workers', { config: { auth: ['read'] }, schema: { tags: ['workers'], response: { 200: WorkerList } } }, async () => ({
    workers: (await ctx.store.listWorkers()).map(info),
  }));

  app.post(
    '/v1/workers/:id/heartbeat',
    { config: worker, schema: { tags: ['workers'], params: WorkerParams, body: WorkerHeartbeat, response: { 200: HeartbeatAnswer, 404: ErrorBody } } },
    async (request) => {
      const w = await ctx.store.heartbeat(request.params.id, request.body.state, new Date().toISOString());
      if (!w) throw notFound(`worker ${request.params.id} (register again with POST /v1/workers)`);
      const active = new Map((await ctx.store.workerLeases(w.id)).map((l) => [l.id, l]));
      const cancel: string[] = [];
      const lost: string[] = [];
      for (const id of request.body.leases) {
        const lease = active.get(id);
        if (!lease) lost.push(id);
        else if (await ctx.store.cancelRequested(lease.buildId)) cancel.push(id);
      }
      return { cancel, lost };
    },
  );

  app.post(
    '/v1/workers/:id/claim',
    {
      config: worker,
      schema: {
        tags: ['workers'],
        description: `200 with a job, or 204 when none came within ?wait= seconds (at most ${MAX_WAIT_SECONDS}).`,
        params: WorkerParams,
        querystring: z.strictObject({ wait: z.coerce.number().min(0).max(MAX_WAIT_SECONDS).default(0) }),
        response: { 200: Job, 204: z.null(), 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const w = await findWorker(ctx, request.params.id);
      if (w.state === 'draining') return reply.code(204).send(null);
      const abort = new AbortController();
      const stop = () => abort.abort();
      // The response's close, not the request's: a request emits 'close' once its body is read.
      reply.raw.on('close', stop);
      ctx.closing.addEventListener('abort', stop);
      const deadline = Date.now() + request.query.wait * 1000;
      try {
        for (;;) {
          if (abort.signal.aborted) return reply.code(204).send(null);
          // Waiting starts before the claim, so a build queued between an empty claim and the wait still wakes it.
          const round = new AbortController();
          const woken = ctx.store.waitForWork(Math.max(0, deadline - Date.now()), AbortSignal.any([abort.signal, round.signal]));
          const jobToken = newSecret();
          const got = await ctx.store.claim(w.id, w.arches, sha256Hex(jobToken));
          if (got) {
            round.abort();
            const version = await ctx.store.recipeVersion(got.build.recipe, got.build.version);
            request.log.info({ build: got.build.id, lease: got.lease.id, worker: w.id }, 'job claimed');
            return {
              lease: got.lease.id,
              jobToken,
              build: got.build,
              bundleUrl: `/v1/recipes/${got.build.recipe}/versions/${got.build.version}?format=bundle`,
              file: version?.file ?? 'recipe.yaml',
              heartbeatSeconds: ctx.heartbeatSeconds,
            };
          }
          if (deadline - Date.now() <= 0) {
            round.abort();
            return reply.code(204).send(null);
          }
          await woken;
        }
      } finally {
        ctx.closing.removeEventListener('abort', stop);
      }
    },
  );
}
