/**
 * GET /v1/builds/:id/diff?against=ID: what `kiln diff --json` reports between two builds' stored
 * outputs (packages, partition table, files, disk regions), for the web interface's comparison.
 * The artifacts are linked into two throwaway build folders, so the CLI's own reader sees them.
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { compareSnapshots } from '../../diff/compare.js';
import { snapshotOf } from '../../diff/snapshot.js';
import { UserError } from '../../errors.js';
import type { App, ServiceContext } from '../context.js';
import { ErrorBody, Id } from '../protocol.js';
import { BuildParams, findBuild } from './builds.js';
import { ApiError } from './errors.js';

async function buildFolder(ctx: ServiceContext, id: string, into: string): Promise<string> {
  await findBuild(ctx, id);
  const dir = join(into, id);
  await mkdir(dir);
  const rows = await ctx.store.artifacts(id);
  if (!rows.some((a) => a.name === 'build.json')) throw new ApiError(409, 'conflict', `build ${id} has no build.json artifact (it has not succeeded): compare two finished builds`);
  for (const a of rows) await symlink(join(ctx.artifactsDir, a.path), join(dir, a.name));
  return dir;
}

export function diffRoutes(app: App, ctx: ServiceContext): void {
  app.get(
    '/v1/builds/:id/diff',
    {
      config: { auth: ['read'] },
      schema: {
        tags: ['builds'],
        description: "What differs between this build's outputs and another's: the JSON of `kiln diff --json` (packages, partitions, files, regions, identical).",
        params: BuildParams,
        querystring: z.strictObject({ against: Id }),
        response: { 200: z.looseObject({ a: Id, b: Id, identical: z.boolean() }), 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
      },
    },
    async (request) => {
      const temp = await mkdtemp(join(tmpdir(), 'kiln-serve-diff-'));
      try {
        const a = await buildFolder(ctx, request.query.against, temp);
        const b = await buildFolder(ctx, request.params.id, temp);
        const [sa, sb] = [await snapshotOf(a), await snapshotOf(b)];
        return { a: request.query.against, b: request.params.id, ...compareSnapshots(sa, sb) };
      } catch (err) {
        if (err instanceof UserError) throw new ApiError(422, 'invalid_request', err.message.replaceAll(`${temp}/`, ''));
        throw err;
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    },
  );
}
