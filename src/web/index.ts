/**
 * The web interface: a client-side app (plain TypeScript compiled by tsc to browser modules, no
 * framework, no bundler; link.ts joins the modules into one script at server start) that talks
 * only to the public API. This plugin serves it: index.html at `/`, assets under `/ui/<hash>/`.
 * None of it needs a token; the app asks for one and sends it to the API itself.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { loadAssets, pickEncoding, type Asset, type UiAssets } from './assets.js';

/** The page may load only its own scripts and styles and talk only to its own server. */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

function send(request: FastifyRequest, reply: FastifyReply, a: Asset, cache: string): FastifyReply {
  reply.header('cache-control', cache).header('etag', a.etag).header('vary', 'accept-encoding').header('x-content-type-options', 'nosniff');
  if (request.headers['if-none-match'] === a.etag) return reply.code(304).send();
  // Brotli is made in the background after start; gzip serves whoever comes before it is done.
  const encoding = pickEncoding(request.headers['accept-encoding'], a.br ? ['br', 'gzip'] : ['gzip']);
  if (encoding) reply.header('content-encoding', encoding);
  return reply.type(a.type).send(encoding === 'br' && a.br ? a.br : encoding === 'gzip' ? a.gzip() : a.raw);
}

export function registerWebUi(app: FastifyInstance, assets: UiAssets = loadAssets()): void {
  assets.ready.catch((err: unknown) => app.log.warn({ err }, 'web interface: brotli compression failed; serving gzip'));
  const config = { auth: 'none' as const };
  const schema = { hide: true };
  app.get('/', { config, schema }, (request, reply) =>
    send(request, reply.header('content-security-policy', CONTENT_SECURITY_POLICY).header('referrer-policy', 'no-referrer'), assets.index, 'no-cache'),
  );
  app.get('/ui/*', { config, schema }, (request, reply) => {
    const path = (request.params as { '*': string })['*'];
    const under = `/ui/${path}`.startsWith(assets.base) ? `/ui/${path}`.slice(assets.base.length) : undefined;
    const a = under === undefined ? undefined : assets.files.get(under);
    if (!a) {
      return reply
        .code(404)
        .header('cache-control', 'no-store')
        .type('application/json')
        .send({ error: { code: 'not_found', message: `no interface file ${request.url}; reload the page (kiln may have been upgraded)` } });
    }
    return send(request, reply, a, 'public, max-age=31536000, immutable');
  });
}
