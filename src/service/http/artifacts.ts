/**
 * Artifacts: the worker's streamed, checked upload, and everyone's list and download (Range,
 * ETag = the sha256, Content-Digest, X-Kiln-Sha256).
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isSystemError } from '../../errors.js';
import { adoptArtifact, ARTIFACT_NAME, ChecksumMismatch, storeArtifact } from '../artifacts/files.js';
import { localSource } from '../artifacts/local-source.js';
import type { ArtifactRow } from '../db/service-store.js';
import type { App, ServiceContext } from '../context.js';
import { noteState } from '../context.js';
import { Artifact, ArtifactList, ErrorBody, Id, LOCAL_FILE_HEADER, SHA256_HEADER } from '../protocol.js';
import { BuildParams, findBuild } from './builds.js';
import { ApiError, notFound } from './errors.js';
import { heldLease, LeaseParams } from './jobs.js';
import { parseRange, rangeError } from './range.js';

const ArtifactName = z.string().regex(ARTIFACT_NAME, 'a plain file name (no folders, not starting with ".")');

const view = (a: ArtifactRow): z.infer<typeof Artifact> => ({ name: a.name, size: a.size, sha256: a.sha256, createdAt: a.createdAt });

export function artifactRoutes(app: App, ctx: ServiceContext): void {
  app.put(
    '/v1/jobs/:lease/artifacts/:name',
    {
      config: { auth: ['worker'] },
      schema: {
        tags: ['jobs'],
        description: `Body: the file (application/octet-stream), streamed; header X-Kiln-Sha256 its sha256 (hex). Listed only once stored and checked. The server's own in-process worker may instead name the file's path on this machine in ${LOCAL_FILE_HEADER}, with no body.`,
        params: LeaseParams.extend({ name: ArtifactName }),
        response: { 201: Artifact, 200: Artifact, 400: ErrorBody, 409: ErrorBody, 413: ErrorBody, 422: ErrorBody, 507: ErrorBody },
      },
    },
    async (request, reply) => {
      const { lease: leaseId, name } = request.params;
      const expected = String(request.headers[SHA256_HEADER] ?? '').toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(expected)) throw new ApiError(400, 'invalid_request', 'headers.x-kiln-sha256: the sha256 (64 hex digits) of the file is required');
      const lease = await heldLease(ctx, request, leaseId);
      const length = Number(request.headers['content-length'] ?? 0);
      if (length > ctx.maxArtifact) throw new ApiError(413, 'too_large', `the artifact (${length} bytes) is larger than ${ctx.maxArtifact} bytes (the server's --max-artifact)`);
      const existing = (await ctx.store.artifacts(lease.buildId)).find((a) => a.name === name);
      if (existing) {
        request.raw.resume();
        // A resend after a lost answer is fine; other content under a listed name is not.
        if (existing.sha256 === expected) return reply.code(200).send(view(existing));
        throw new ApiError(409, 'conflict', `build ${lease.buildId} already has an artifact ${name} with another sha256`);
      }
      const local = request.headers[LOCAL_FILE_HEADER];
      const rel = { build: lease.buildId, lease: lease.id, name };
      const stillHeld = async () => {
        await heldLease(ctx, request, leaseId);
      };
      let stored;
      try {
        if (typeof local === 'string') {
          request.raw.resume();
          stored = await adoptArtifact(ctx.artifactsDir, rel, await localSource(ctx.localWorkDir, lease.id, local), expected, ctx.maxArtifact, stillHeld);
        } else {
          stored = await storeArtifact(ctx.artifactsDir, rel, request.raw, expected, ctx.maxArtifact, stillHeld);
        }
      } catch (err) {
        if (err instanceof ChecksumMismatch) throw new ApiError(422, 'checksum_mismatch', err.message);
        if (isSystemError(err) && err.code === 'ENOSPC') {
          // The build cannot succeed without its artifact: it fails with the reason, here and now.
          const message = `the server has no space left to store artifact ${name}`;
          const build = await ctx.store.finishLease(lease.id, { ok: false, error: message }).catch(() => undefined);
          if (build) noteState(ctx, build);
          throw new ApiError(507, 'no_space', message);
        }
        throw err;
      }
      const row: ArtifactRow = { buildId: lease.buildId, name, size: stored.size, sha256: stored.sha256, path: stored.path, createdAt: new Date().toISOString() };
      await ctx.store.addArtifact(row);
      await ctx.store.appendEvent(lease.buildId, { type: 'artifact', time: row.createdAt, artifact: view(row) });
      request.log.info({ build: lease.buildId, artifact: name, size: row.size }, 'artifact stored');
      return reply.code(201).send(view(row));
    },
  );

  app.get('/v1/builds/:id/artifacts', { config: { auth: ['read'] }, schema: { tags: ['builds'], params: BuildParams, response: { 200: ArtifactList, 404: ErrorBody } } }, async (request) => {
    await findBuild(ctx, request.params.id);
    return { artifacts: (await ctx.store.artifacts(request.params.id)).map(view) };
  });

  app.get(
    '/v1/builds/:id/artifacts/:name',
    {
      config: { auth: ['read'] },
      schema: {
        tags: ['builds'],
        description: 'The file; Range (206/416), ETag and If-None-Match, Content-Digest (sha-256) and X-Kiln-Sha256.',
        params: z.object({ id: Id, name: ArtifactName }),
      },
    },
    async (request, reply) => {
      const a = (await ctx.store.artifacts(request.params.id)).find((x) => x.name === request.params.name);
      if (!a) throw notFound(`artifact ${request.params.name} of build ${request.params.id}`);
      const etag = `"${a.sha256}"`;
      // RFC 9530: Content-Digest covers the bytes sent, Repr-Digest the whole file; a 206 has only the latter.
      const digest = `sha-256=:${Buffer.from(a.sha256, 'hex').toString('base64')}:`;
      reply
        .header('ETag', etag)
        .header('Accept-Ranges', 'bytes')
        .header('X-Kiln-Sha256', a.sha256)
        .header('Repr-Digest', digest)
        .header('Content-Disposition', `attachment; filename="${a.name}"`)
        .type('application/octet-stream');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      const range = parseRange(request.headers.range, a.size);
      if (range === 'unsatisfiable') throw rangeError(reply, a.size);
      const file = join(ctx.artifactsDir, a.path);
      if (!range) return reply.header('Content-Length', a.size).header('Content-Digest', digest).send(createReadStream(file));
      return reply
        .code(206)
        .header('Content-Range', `bytes ${range.start}-${range.end}/${a.size}`)
        .header('Content-Length', range.end - range.start + 1)
        .send(createReadStream(file, { start: range.start, end: range.end }));
    },
  );
}
