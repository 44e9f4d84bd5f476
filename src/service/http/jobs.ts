/**
 * A worker's calls about one job: events, artifacts (in artifacts.ts) and the result. Each needs
 * the worker token and the lease's own job token, and only while the lease holds: a worker that
 * lost its lease (timed out, requeued elsewhere) gets 409 lease_lost and stops.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { secretMatches } from '../auth/tokens.js';
import type { Lease } from '../db/service-store.js';
import type { App, ServiceContext } from '../context.js';
import { noteState } from '../context.js';
import { Build, ErrorBody, FinishJob, Id, JobEventsAnswer, WorkerEvents } from '../protocol.js';
import { ApiError } from './errors.js';

export const LeaseParams = z.object({ lease: Id });
export const JOB_TOKEN_HEADER = 'x-kiln-job-token';

/** The lease, when this request holds its job token and the build still runs under it. */
export async function heldLease(ctx: ServiceContext, request: FastifyRequest, leaseId: string): Promise<Lease> {
  const header = request.headers[JOB_TOKEN_HEADER];
  const token = Array.isArray(header) ? header[0] : header;
  if (!token) throw new ApiError(401, 'unauthorized', `job endpoints need the lease's job token in X-Kiln-Job-Token`);
  const lease = await ctx.store.lease(leaseId);
  // Compared even without a lease, so the answer's timing does not tell which leases exist.
  const matches = secretMatches(token, lease?.tokenHash ?? '0'.repeat(64));
  if (!lease) throw new ApiError(409, 'lease_lost', `lease ${leaseId} is not held any more (the job was requeued or ended); stop the build`);
  if (!matches) throw new ApiError(403, 'forbidden', `X-Kiln-Job-Token does not match lease ${leaseId}`);
  const build = await ctx.store.getBuild(lease.buildId);
  const current = build?.state === 'running' && (await ctx.store.workerLeases(lease.workerId)).some((l) => l.id === lease.id);
  if (!current) {
    throw new ApiError(409, 'lease_lost', `lease ${leaseId} is not held any more (build ${lease.buildId} is ${build?.state ?? 'gone'}); stop the build`);
  }
  return lease;
}

export function jobRoutes(app: App, ctx: ServiceContext): void {
  const config = { auth: ['worker' as const] };

  app.post(
    '/v1/jobs/:lease/events',
    {
      config,
      schema: {
        tags: ['jobs'],
        description: 'Events numbered by the worker from 1 per lease; numbers already stored are ignored, so resending is safe.',
        params: LeaseParams,
        body: WorkerEvents,
        response: { 200: JobEventsAnswer, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      const lease = await heldLease(ctx, request, request.params.lease);
      const stored = await ctx.store.appendWorkerEvents(lease.id, request.body.events);
      return { stored: stored.length, cancel: await ctx.store.cancelRequested(lease.buildId) };
    },
  );

  app.post(
    '/v1/jobs/:lease/finish',
    { config, schema: { tags: ['jobs'], params: LeaseParams, body: FinishJob, response: { 200: Build, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody } } },
    async (request) => {
      const lease = await heldLease(ctx, request, request.params.lease);
      const build = await ctx.store.finishLease(lease.id, { ok: request.body.ok, ...(request.body.error !== undefined ? { error: request.body.error } : {}) });
      noteState(ctx, build);
      request.log.info({ build: build.id, lease: lease.id, state: build.state }, 'job finished');
      return build;
    },
  );
}
