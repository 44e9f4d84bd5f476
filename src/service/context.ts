/** What every route module is given: the store, the folders, the limits and the server's metrics. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ServiceStore } from './db/service-store.js';
import type { Build } from './protocol.js';
import type { ServiceMetrics } from './metrics.js';
import type { BundleFiles } from './recipes/bundle-files.js';

export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface ServiceContext {
  store: ServiceStore;
  bundles: BundleFiles;
  /** Where artifacts live (shared between servers on one database, e.g. over NFS). */
  artifactsDir: string;
  /** The in-process worker's folder, the only place files handed over by path may come from. */
  localWorkDir?: string;
  /** Bytes a pushed recipe (YAML or bundle) may have. */
  maxUpload: number;
  /** Bytes one artifact may have: images are far larger than recipes. */
  maxArtifact: number;
  /** Quiet time after which an event stream gets a comment, so proxies keep it open. */
  sseHeartbeatMs: number;
  heartbeatSeconds: number;
  lostAfterSeconds: number;
  maxRetries: number;
  metrics: ServiceMetrics;
  /** Aborted when the server closes: long polls and event streams end at once. */
  closing: AbortSignal;
}

/** Counts a build that ended (the store has already appended its `state` event). */
export function noteState(ctx: ServiceContext, build: Build): void {
  if (build.state === 'succeeded' || build.state === 'failed' || build.state === 'canceled') ctx.metrics.finished(build);
}
