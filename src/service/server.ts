/**
 * The build service's HTTP server: fastify with the zod schemas of protocol.ts validating every
 * request and generating /openapi.json, bearer-token auth, pino logs with a request id (never a
 * token: request headers are not logged), and the lease sweeper. The store is the caller's.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { pino } from 'pino';
import type { App, ServiceContext } from './context.js';
import type { ServiceStore } from './db/service-store.js';
import { artifactRoutes } from './http/artifacts.js';
import { installAuth } from './http/auth.js';
import { buildRoutes } from './http/builds.js';
import { installErrorHandlers } from './http/errors.js';
import { diffRoutes } from './http/diff.js';
import { eventRoutes } from './http/events-sse.js';
import { healthRoutes } from './http/health.js';
import { jobRoutes } from './http/jobs.js';
import { logRoutes } from './http/logs.js';
import { BUNDLE_TYPES, recipeRoutes, YAML_TYPES } from './http/recipes.js';
import { tokenRoutes } from './http/tokens.js';
import { workerRoutes } from './http/workers.js';
import { serviceMetrics } from './metrics.js';
import { BundleFiles } from './recipes/bundle-files.js';
import { startSweeper } from './sweeper.js';

export const DEFAULTS = { host: '127.0.0.1', port: 8080, maxUpload: 256 * 1024 ** 2, maxArtifact: 64 * 1024 ** 3, heartbeatSeconds: 15, lostAfterSeconds: 120, maxRetries: 2, sseHeartbeatMs: 15_000 } as const;

export interface ServerOptions {
  /** Opened and migrated by the caller, and closed by it after the server. */
  store: ServiceStore;
  /** This server's temporary folders (`tmp/`) and, by default, the artifact folder. */
  dataDir: string;
  /** Shared by every server of one database: recipe bundles (`recipes/`) and artifacts (`<build>/`). Default `<data>/artifacts`. */
  artifactsDir?: string;
  /** The in-process worker's folder: files in it may be handed over by path instead of uploaded. */
  localWorkDir?: string;
  /** Default 127.0.0.1: the service is exposed on purpose, never by accident. */
  host?: string;
  /** Default 8080; 0 picks a free port (tests). */
  port?: number;
  /** Largest recipe push in bytes (YAML or bundle, compressed and unpacked); default 256 MiB. */
  maxUpload?: number;
  /** Largest artifact in bytes; default 64 GiB. */
  maxArtifact?: number;
  /** Quiet time before an event stream gets a keep-alive comment; default 15 s. */
  sseHeartbeatMs?: number;
  heartbeatSeconds?: number;
  lostAfterSeconds?: number;
  /** Requeues of a lost worker's build before it fails with "worker lost"; default 2. */
  maxRetries?: number;
  /** A pino logger; default JSON lines on stdout at info; false for none. */
  logger?: FastifyBaseLogger | false;
  /**
   * More routes, added after authentication is installed: `kiln serve` passes the web interface's
   * (src/web sits above the service and imports its protocol, so the service cannot import it).
   */
  routes?: ((app: FastifyInstance) => void)[];
}

export interface ServiceApp {
  app: App;
  /** Stops the sweeper, ends event streams and long polls, closes the server (not the store). */
  close(): Promise<void>;
}

export interface RunningServer extends ServiceApp {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The app with every route, not listening: `app.inject` in tests, or `startServer`. */
export async function createApp(options: ServerOptions): Promise<ServiceApp> {
  const closing = new AbortController();
  const artifactsDir = options.artifactsDir ?? join(options.dataDir, 'artifacts');
  await mkdir(artifactsDir, { recursive: true });
  const bundles = new BundleFiles(artifactsDir, options.dataDir);
  await bundles.init();
  const ctx: ServiceContext = {
    store: options.store,
    bundles,
    artifactsDir,
    ...(options.localWorkDir ? { localWorkDir: options.localWorkDir } : {}),
    maxUpload: options.maxUpload ?? DEFAULTS.maxUpload,
    maxArtifact: options.maxArtifact ?? DEFAULTS.maxArtifact,
    sseHeartbeatMs: options.sseHeartbeatMs ?? DEFAULTS.sseHeartbeatMs,
    heartbeatSeconds: options.heartbeatSeconds ?? DEFAULTS.heartbeatSeconds,
    lostAfterSeconds: options.lostAfterSeconds ?? DEFAULTS.lostAfterSeconds,
    maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
    metrics: serviceMetrics(options.store),
    closing: closing.signal,
  };
  const logger = options.logger === false ? pino({ enabled: false }) : (options.logger ?? pino({ level: 'info' }));
  const app = fastify({
    loggerInstance: logger,
    // close() comes after the in-process worker has drained: keep-alive connections a client
    // opened and left idle would otherwise hold the process open until their timeout.
    forceCloseConnections: true,
    // Worker event batches are JSON; files (bundles, artifacts) stream past this limit, counted by their routes.
    bodyLimit: 32 * 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>() as App;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  // Files arrive as streams: the routes count their bytes and write them where they belong.
  app.addContentTypeParser([...YAML_TYPES, ...BUNDLE_TYPES, 'application/octet-stream'], (_request, payload, done) => done(null, payload));
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'kiln build service', version: '1', description: 'Recipes, builds, live logs, artifacts and workers. Every endpoint but /healthz needs Authorization: Bearer.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  installAuth(app, options.store);
  for (const add of options.routes ?? []) add(app);
  for (const routes of [healthRoutes, tokenRoutes, recipeRoutes, buildRoutes, logRoutes, eventRoutes, artifactRoutes, diffRoutes, workerRoutes, jobRoutes]) routes(app, ctx);
  await app.ready();
  const stopSweeper = startSweeper(ctx, app.log);
  return {
    app,
    close: async () => {
      closing.abort();
      await stopSweeper();
      await app.close();
    },
  };
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const service = await createApp(options);
  const host = options.host ?? DEFAULTS.host;
  try {
    await service.app.listen({ host, port: options.port ?? DEFAULTS.port });
  } catch (err) {
    await service.close();
    throw err;
  }
  const address = service.app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? DEFAULTS.port);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { ...service, url };
}
