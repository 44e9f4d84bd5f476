/** Builds: create (checked like `kiln build` would before it is queued), list, show, cancel, retry. */
import { z } from 'zod';
import type { App, ServiceContext } from '../context.js';
import { noteState } from '../context.js';
import { Build, BuildList, BuildQuery, CreateBuild, ErrorBody, FINAL_STATES, Id } from '../protocol.js';
import { checkRecipe } from '../recipes/check.js';
import { ApiError, notFound } from './errors.js';
import { findVersion } from './recipes.js';

export const BuildParams = z.object({ id: Id });

export async function findBuild(ctx: ServiceContext, id: string): Promise<Build> {
  const build = await ctx.store.getBuild(id);
  if (!build) throw notFound(`build ${id}`);
  return build;
}

/** Checks the recipe version with these values before anything is queued: errors come now, not from a worker. */
async function queue(ctx: ServiceContext, body: CreateBuild, retryOf?: string): Promise<Build> {
  const version = await findVersion(ctx, body.recipe, body.version);
  const arch = await ctx.bundles.withTemp(async (dir) => {
    await ctx.bundles.extract(version.hash, dir);
    return checkRecipe(dir, version.file, { ...(body.set ? { set: body.set } : {}), ...(body.arch ? { arch: body.arch } : {}) }).loaded.recipe.arch;
  });
  const build = await ctx.store.createBuild({ recipe: version.name, version: version.version, arch, set: body.set ?? {}, ...(retryOf ? { retryOf } : {}) });
  noteState(ctx, build);
  return build;
}

export function buildRoutes(app: App, ctx: ServiceContext): void {
  app.post(
    '/v1/builds',
    { config: { auth: ['build'] }, schema: { tags: ['builds'], body: CreateBuild, response: { 202: Build, 400: ErrorBody, 404: ErrorBody, 422: ErrorBody } } },
    async (request, reply) => {
      const build = await queue(ctx, request.body);
      request.log.info({ build: build.id, recipe: build.recipe, version: build.version }, 'build queued');
      return reply.code(202).send(build);
    },
  );

  app.get('/v1/builds', { config: { auth: ['read'] }, schema: { tags: ['builds'], querystring: BuildQuery, response: { 200: BuildList, 400: ErrorBody } } }, async (request) => {
    const { state, recipe, limit, cursor } = request.query;
    if (cursor !== undefined && !Id.safeParse(cursor).success) throw new ApiError(400, 'invalid_request', 'querystring.cursor: not a cursor this server returned (use `next` of the previous page)');
    const builds = await ctx.store.listBuilds({ limit, ...(state ? { state } : {}), ...(recipe ? { recipe } : {}), ...(cursor ? { before: cursor } : {}) });
    const last = builds[builds.length - 1];
    return { builds, ...(builds.length === limit && last ? { next: last.id } : {}) };
  });

  app.get('/v1/builds/:id', { config: { auth: ['read'] }, schema: { tags: ['builds'], params: BuildParams, response: { 200: Build, 404: ErrorBody } } }, (request) =>
    findBuild(ctx, request.params.id),
  );

  app.post(
    '/v1/builds/:id/cancel',
    {
      config: { auth: ['build'] },
      schema: {
        tags: ['builds'],
        description: '200 when a queued build was canceled, 202 when a running build was asked to stop (its worker kills it), 409 when it had ended.',
        params: BuildParams,
        response: { 200: Build, 202: Build, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const outcome = await ctx.store.requestCancel(request.params.id);
      if (outcome === 'missing') throw notFound(`build ${request.params.id}`);
      const build = await findBuild(ctx, request.params.id);
      if (outcome === 'final') throw new ApiError(409, 'conflict', `build ${build.id} has already ${build.state}`);
      if (outcome === 'canceled') noteState(ctx, build);
      request.log.info({ build: build.id, outcome }, 'cancel');
      return reply.code(outcome === 'canceled' ? 200 : 202).send(build);
    },
  );

  app.post(
    '/v1/builds/:id/retry',
    { config: { auth: ['build'] }, schema: { tags: ['builds'], description: 'A new build of the same recipe version, values and arch.', params: BuildParams, response: { 202: Build, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody } } },
    async (request, reply) => {
      const old = await findBuild(ctx, request.params.id);
      if (!FINAL_STATES.includes(old.state)) throw new ApiError(409, 'conflict', `build ${old.id} is ${old.state}; retry it once it has ended (or cancel it first)`);
      const build = await queue(ctx, { recipe: old.recipe, version: old.version, set: old.set, arch: old.arch }, old.id);
      return reply.code(202).send(build);
    },
  );
}
