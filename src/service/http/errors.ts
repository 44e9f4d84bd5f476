/**
 * Every failure the API answers with, as one ErrorBody (protocol.ts): a stable code for programs,
 * words for people, the recipe's positioned diagnostics on 422, and the request id to find the log.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { Diagnostic, ErrorBody } from '../protocol.js';
import { BundleError } from '../bundle/unpack.js';
import { LeaseLostError } from '../db/service-store.js';

export type DiagnosticItem = z.infer<typeof Diagnostic>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly diagnostics?: DiagnosticItem[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} does not exist`);

export function errorBody(code: string, message: string, requestId?: string, diagnostics?: DiagnosticItem[]): ErrorBody {
  return { error: { code, message, ...(diagnostics ? { diagnostics } : {}), ...(requestId ? { requestId } : {}) } };
}

export function sendError(reply: FastifyReply, request: FastifyRequest, err: ApiError): FastifyReply {
  return reply.code(err.status).type('application/json').send(errorBody(err.code, err.message, request.id, err.diagnostics));
}

/** "body.recipe: Invalid input; querystring.limit: ..." — the field first, as recipe messages do. */
function validationMessage(err: FastifyError & { validationContext?: string }): string {
  const where = err.validationContext ?? 'request';
  if (!hasZodFastifySchemaValidationErrors(err)) return err.message;
  return err.validation
    .map((v) => {
      const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
      const keys = (v.params as { keys?: string[] }).keys;
      const field = [where, path].filter(Boolean).join('.');
      if (v.keyword === 'unrecognized_keys' && keys) return `${field}: unknown field ${keys.map((k) => JSON.stringify(k)).join(', ')}`;
      return `${field}: ${v.message}`;
    })
    .join('; ');
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { validationContext?: string }, request, reply) => {
    if (err instanceof ApiError) return sendError(reply, request, err);
    if (err instanceof LeaseLostError) return sendError(reply, request, new ApiError(409, 'lease_lost', `${err.message}; stop the build`));
    if (err instanceof BundleError) return sendError(reply, request, new ApiError(err.code === 'too_large' ? 413 : 422, err.code, err.message));
    if (err.validation) return sendError(reply, request, new ApiError(400, 'invalid_request', validationMessage(err)));
    const status = err.statusCode ?? 500;
    if (status === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, request, new ApiError(413, 'too_large', err.message));
    if (status === 415 || err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, request, new ApiError(415, 'invalid_request', `${err.message}; see /openapi.json for what each endpoint accepts`));
    if (status >= 400 && status < 500) return sendError(reply, request, new ApiError(status, 'invalid_request', err.message));
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return sendError(reply, request, new ApiError(507, 'no_space', 'the server has no space left to store this'));
    request.log.error({ err }, 'request failed');
    return sendError(reply, request, new ApiError(500, 'internal', 'the server failed; the log has the details under this request id'));
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, request, new ApiError(404, 'not_found', `no endpoint ${request.method} ${request.url.split('?')[0]}; see /openapi.json`)));
}
