/** Tokens (admin): make one (the secret is in this answer only), list them, revoke one. */
import { z } from 'zod';
import { createToken } from '../auth/tokens.js';
import type { StoredToken } from '../db/service-store.js';
import type { App, ServiceContext } from '../context.js';
import { CreateToken, CreatedToken, ErrorBody, Id, TokenInfo, TokenList } from '../protocol.js';
import { notFound } from './errors.js';

const info = (t: StoredToken): z.infer<typeof TokenInfo> => ({
  id: t.id,
  name: t.name,
  scopes: t.scopes,
  createdAt: t.createdAt,
  ...(t.lastUsedAt ? { lastUsedAt: t.lastUsedAt } : {}),
  revoked: t.revoked,
});

export const WhoAmI = z.object({ id: Id, name: z.string(), scopes: TokenInfo.shape.scopes });

export function tokenRoutes(app: App, ctx: ServiceContext): void {
  // Any valid token may ask what it is: the web interface hides what the token cannot do.
  app.get('/v1/whoami', { config: { auth: ['read', 'worker'] }, schema: { tags: ['tokens'], response: { 200: WhoAmI } } }, (request) => {
    const token = request.token;
    if (!token) throw new Error('authentication did not run');
    return { id: token.id, name: token.name, scopes: token.scopes };
  });
  const config = { auth: ['admin' as const] };
  app.post('/v1/tokens', { config, schema: { tags: ['tokens'], body: CreateToken, response: { 201: CreatedToken, 400: ErrorBody } } }, async (request, reply) => {
    const { token, row } = await createToken(ctx.store, request.body.name, request.body.scopes);
    request.log.info({ tokenId: row.id, scopes: row.scopes }, 'token created');
    return reply.code(201).send({ ...info(row), token });
  });
  app.get('/v1/tokens', { config, schema: { tags: ['tokens'], response: { 200: TokenList } } }, async () => ({ tokens: (await ctx.store.listTokens()).map(info) }));
  app.delete('/v1/tokens/:id', { config, schema: { tags: ['tokens'], params: z.object({ id: Id }), response: { 204: z.null(), 404: ErrorBody } } }, async (request, reply) => {
    if (!(await ctx.store.revokeToken(request.params.id))) throw notFound(`token ${request.params.id}`);
    app.forgetToken(request.params.id);
    request.log.info({ tokenId: request.params.id }, 'token revoked');
    return reply.code(204).send(null);
  });
}
