/**
 * Bearer-token authentication for every route but those marked `auth: 'none'`. Each route names
 * the scopes that may call it (any one suffices; admin always does). 401 when the token is missing
 * or wrong, 403 when it is fine but lacks the scope: a client can tell "log in" from "ask for more".
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { grants, verifyToken } from '../auth/tokens.js';
import type { ServiceStore, StoredToken } from '../db/service-store.js';
import type { Scope } from '../protocol.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scopes that may call the route (any one); 'none' for no token at all. Absent: admin only. */
    auth?: Scope[] | 'none';
  }
  interface FastifyRequest {
    token?: StoredToken;
  }
  interface FastifyInstance {
    /** Drops a token from this server's cache at once (it was revoked here). */
    forgetToken(id: string): void;
  }
}

/** How often lastUsedAt is written per token: not on every request of a polling client. */
const TOUCH_EVERY_MS = 60_000;

/**
 * How long a server keeps a token's row: a polling client then costs one database query per
 * request, not two. The secret is still checked against the row's hash on every request; a token
 * revoked on this server is dropped at once, one revoked on another server within this time.
 */
export const TOKEN_CACHE_MS = 2_000;

export function installAuth(app: FastifyInstance, store: ServiceStore): void {
  app.decorateRequest('token', undefined);
  const touched = new Map<string, number>();
  const rows = new Map<string, { row: StoredToken | undefined; until: number }>();
  app.decorate('forgetToken', (id: string) => void rows.delete(id));
  const lookup = async (id: string) => {
    const now = Date.now();
    const known = rows.get(id);
    if (known && known.until > now) return known.row;
    const row = await store.tokenById(id);
    // Bounded: ids come from requests, and unknown ones are cached too (briefly).
    if (rows.size > 10_000) rows.clear();
    rows.set(id, { row, until: now + TOKEN_CACHE_MS });
    return row;
  };
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const needed = request.routeOptions.config.auth ?? ['admin'];
    if (needed === 'none') return;
    const header = request.headers.authorization;
    if (!header) throw new ApiError(401, 'unauthorized', 'this endpoint needs "Authorization: Bearer <token>" (make one with `kiln serve token create`)');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const token = match?.[1] ? await verifyToken(lookup, match[1]) : undefined;
    if (!token) throw new ApiError(401, 'unauthorized', 'the bearer token is unknown, revoked or malformed');
    if (!needed.some((scope) => grants(token.scopes, scope))) {
      throw new ApiError(403, 'forbidden', `this token (scopes: ${token.scopes.join(', ')}) lacks the scope ${needed.join(' or ')}`);
    }
    request.token = token;
    const now = Date.now();
    if (now - (touched.get(token.id) ?? 0) > TOUCH_EVERY_MS) {
      touched.set(token.id, now);
      await store.touchToken(token.id, new Date(now).toISOString());
    }
  });
}
