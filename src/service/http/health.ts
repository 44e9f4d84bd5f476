/** /healthz (no token: load balancers and systemd probes), /metrics and /openapi.json (read). */
import { z } from 'zod';
import type { App, ServiceContext } from '../context.js';

export function healthRoutes(app: App, ctx: ServiceContext): void {
  app.get('/healthz', { config: { auth: 'none' }, schema: { hide: true, response: { 200: z.object({ ok: z.boolean(), engine: z.string() }) } } }, () => ({
    ok: true,
    engine: ctx.store.engine,
  }));
  app.get('/metrics', { config: { auth: ['read'] }, schema: { hide: true } }, async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
  app.get('/openapi.json', { config: { auth: ['read'] }, schema: { hide: true } }, () => app.swagger());
}
