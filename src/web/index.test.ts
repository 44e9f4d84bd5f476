import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import fastify from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { loadAssets, pickEncoding } from './assets.js';
import { registerWebUi } from './index.js';

const assets = loadAssets();
await assets.ready;

async function app() {
  const a = fastify();
  // As the service's auth hook does: a route without `auth: 'none'` would need a token.
  a.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.auth !== 'none') await reply.code(401).send({ error: { code: 'unauthorized', message: 'token' } });
  });
  registerWebUi(a, assets);
  await a.ready();
  return a;
}

void test('/ is the shell: no token needed, strict CSP, revalidated each time, 304 on its ETag', async () => {
  const a = await app();
  const r = await a.inject({ url: '/' });
  assert.equal(r.statusCode, 200);
  assert.match(String(r.headers['content-type']), /^text\/html/);
  assert.equal(r.headers['cache-control'], 'no-cache');
  assert.match(String(r.headers['content-security-policy']), /script-src 'self'/);
  assert.match(r.body, new RegExp(`<script type="module" src="${assets.base}app.js">`));
  assert.doesNotMatch(r.body, /modulepreload/);
  assert.match(r.body, /"states":\["queued","running","succeeded","failed","canceled"\]/);
  const again = await a.inject({ url: '/', headers: { 'if-none-match': String(r.headers.etag) } });
  assert.equal(again.statusCode, 304);
  await a.close();
});

void test('every asset the page names is served, cached for a year, in br, gzip or as is', async () => {
  const a = await app();
  const index = assets.index.raw.toString();
  const urls = [...index.matchAll(/(?:href|src)="(\/ui\/[^"]+)"/g)].map((m) => m[1] ?? '');
  assert.deepEqual(urls.map((u) => u.slice(assets.base.length)), ['app.css', 'app.js']);
  urls.push(`${assets.base}client/app.js`, `${assets.base}client/page-build.js`);
  for (const url of urls) {
    const br = await a.inject({ url, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(br.statusCode, 200, url);
    assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(br.headers['content-encoding'], 'br');
    const gz = await a.inject({ url, headers: { 'accept-encoding': 'gzip' } });
    const plain = await a.inject({ url });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.deepEqual(brotliDecompressSync(br.rawPayload), plain.rawPayload);
    assert.deepEqual(gunzipSync(gz.rawPayload), plain.rawPayload);
    assert.equal(gz.headers['content-encoding'], 'gzip');
  }
  await a.close();
});

void test('an asset of another build of kiln is a 404 in words, never cached', async () => {
  const a = await app();
  const r = await a.inject({ url: '/ui/0000000000000000/client/app.js' });
  assert.equal(r.statusCode, 404);
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.match(r.json<{ error: { message: string } }>().error.message, /reload the page/);
  await a.close();
});

void test('the browser code imports only its own served files (no zod, no node: modules)', () => {
  for (const [path, a] of assets.files) {
    if (!path.startsWith('client/') || !path.endsWith('.js')) continue;
    const text = a.raw.toString();
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"\n;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2] ?? '';
      assert.ok(spec.startsWith('./') || spec.startsWith('../'), `${path} imports ${spec}`);
      const resolved = new URL(spec, `http://x/${path}`).pathname.slice(1);
      assert.ok(assets.files.has(resolved), `${path} imports ${spec}, which is not served`);
    }
  }
});

void test('the first load (page, stylesheet, every module) is well under 200 KB compressed', () => {
  const first = [assets.index, ...['app.css', 'app.js'].map((p) => assets.files.get(p)).filter((a) => a !== undefined)];
  assert.equal(first.length, 3);
  const br = first.reduce((n, a) => n + (a.br?.length ?? Infinity), 0);
  const raw = first.reduce((n, a) => n + a.raw.length, 0);
  assert.ok(br < 200_000, `${br} bytes`);
  console.log(`first load: ${first.length} files, ${raw} bytes, ${br} with brotli`);
});

void test('Accept-Encoding: br first, then gzip, q=0 refuses', () => {
  assert.equal(pickEncoding('gzip, deflate, br'), 'br');
  assert.equal(pickEncoding('gzip'), 'gzip');
  assert.equal(pickEncoding('br;q=0, gzip;q=0.5'), 'gzip');
  assert.equal(pickEncoding('*'), 'br');
  assert.equal(pickEncoding(undefined), undefined);
  assert.equal(pickEncoding('identity'), undefined);
  assert.equal(pickEncoding('gzip, br', ['gzip']), 'gzip');
});

void test('the service’s app (zod type provider) takes the plugin as it is', async () => {
  const a = fastify().withTypeProvider<ZodTypeProvider>();
  registerWebUi(a, assets);
  await a.ready();
  assert.equal((await a.inject({ url: '/' })).statusCode, 200);
  await a.close();
});
