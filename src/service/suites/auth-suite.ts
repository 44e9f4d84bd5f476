/** Auth, tokens, request validation, health, metrics and the OpenAPI document, on one store engine. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withService, type OpenStore, errorOf, type Loose } from '../test-support/harness.js';

/** The secret part of `kiln_<id>_<secret>`: base64url, so it may itself hold underscores. */
function secretOf(token: string): string {
  const secret = token.split('_').slice(2).join('_');
  assert.ok(secret.length >= 20, `a token's secret is long (got ${secret.length} characters)`);
  return secret;
}

export function authSuite(engine: string, open: () => OpenStore): void {
  void describe(`service auth and validation (${engine})`, () => {
    void it('tells a missing or wrong token (401) from a missing scope (403)', () =>
      withService(open(), async (h) => {
        const none = await h.app.inject({ method: 'GET', url: '/v1/builds' });
        assert.equal(none.statusCode, 401);
        assert.equal(errorOf(none).code, 'unauthorized');
        assert.ok(errorOf(none).requestId);
        const wrong = await h.app.inject({ method: 'GET', url: '/v1/builds', headers: h.auth(`${h.admin.slice(0, -4)}AAAA`) });
        assert.equal(wrong.statusCode, 401);
        const garbage = await h.app.inject({ method: 'GET', url: '/v1/builds', headers: { authorization: 'Bearer nonsense' } });
        assert.equal(garbage.statusCode, 401);
        const read = await h.token(['read']);
        assert.equal((await h.app.inject({ method: 'GET', url: '/v1/builds', headers: h.auth(read) })).statusCode, 200);
        const post = await h.app.inject({ method: 'POST', url: '/v1/builds', headers: h.auth(read), payload: { recipe: 'hello' } });
        assert.equal(post.statusCode, 403);
        assert.equal(errorOf(post).code, 'forbidden');
        assert.match(errorOf(post).message, /lacks the scope build/);
        const worker = await h.token(['worker']);
        assert.equal((await h.app.inject({ method: 'GET', url: '/v1/builds', headers: h.auth(worker) })).statusCode, 403);
        const build = await h.token(['build']);
        assert.equal((await h.app.inject({ method: 'GET', url: '/v1/builds', headers: h.auth(build) })).statusCode, 200, 'build implies read');
        assert.equal((await h.app.inject({ method: 'GET', url: '/v1/tokens', headers: h.auth(build) })).statusCode, 403);
        assert.equal((await h.app.inject({ method: 'POST', url: '/v1/workers', headers: h.auth(build), payload: { name: 'w', arches: ['amd64'], concurrency: 1, version: '1' } })).statusCode, 403);
        // Every valid token may ask what it may do; no token may not.
        const who = await h.app.inject({ method: 'GET', url: '/v1/whoami', headers: h.auth(worker) });
        assert.equal(who.statusCode, 200);
        assert.deepEqual(who.json<Loose>().scopes, ['worker']);
        assert.equal((await h.app.inject({ method: 'GET', url: '/v1/whoami' })).statusCode, 401);
      }));

    void it('makes, lists and revokes tokens; a revoked token is refused; tokens never reach the log', () =>
      withService(open(), async (h) => {
        const made = await h.app.inject({ method: 'POST', url: '/v1/tokens', headers: h.auth(h.admin), payload: { name: 'ci', scopes: ['read'] } });
        assert.equal(made.statusCode, 201);
        const { id, token } = made.json<{ id: string; token: string }>();
        assert.match(token, /^kiln_[0-9a-z]+_[A-Za-z0-9_-]+$/);
        const list = await h.app.inject({ method: 'GET', url: '/v1/tokens', headers: h.auth(h.admin) });
        const listed = list.json<{ tokens: { id: string; name: string }[] }>().tokens;
        assert.ok(listed.some((t) => t.id === id && t.name === 'ci'));
        assert.ok(!list.body.includes(secretOf(token)), 'a listing never shows a secret');
        assert.equal((await h.app.inject({ method: 'GET', url: '/v1/recipes', headers: h.auth(token) })).statusCode, 200);
        assert.equal((await h.app.inject({ method: 'DELETE', url: `/v1/tokens/${id}`, headers: h.auth(h.admin) })).statusCode, 204);
        assert.equal((await h.app.inject({ method: 'GET', url: '/v1/recipes', headers: h.auth(token) })).statusCode, 401);
        assert.equal((await h.app.inject({ method: 'DELETE', url: '/v1/tokens/0000000000nope', headers: h.auth(h.admin) })).statusCode, 404);
        const logs = h.logs.join('');
        assert.ok(logs.length > 0);
        for (const secret of [token, h.admin]) assert.ok(!logs.includes(secretOf(secret)), 'no secret in the log');
      }));

    void it('refuses unknown fields and wrong types with 400 naming the field', () =>
      withService(open(), async (h) => {
        const extra = await h.app.inject({ method: 'POST', url: '/v1/builds', headers: h.auth(h.admin), payload: { recipe: 'hello', colour: 'blue' } });
        assert.equal(extra.statusCode, 400);
        assert.equal(errorOf(extra).code, 'invalid_request');
        assert.match(errorOf(extra).message, /^body: unknown field "colour"/);
        const type = await h.app.inject({ method: 'POST', url: '/v1/builds', headers: h.auth(h.admin), payload: { recipe: 5 } });
        assert.equal(type.statusCode, 400);
        assert.match(errorOf(type).message, /^body\.recipe: /);
        const query = await h.app.inject({ method: 'GET', url: '/v1/builds?limit=many', headers: h.auth(h.admin) });
        assert.equal(query.statusCode, 400);
        assert.match(errorOf(query).message, /querystring\.limit/);
        const unknownQuery = await h.app.inject({ method: 'GET', url: '/v1/builds?colour=blue', headers: h.auth(h.admin) });
        assert.equal(unknownQuery.statusCode, 400);
        const badId = await h.app.inject({ method: 'GET', url: '/v1/builds/NOT-AN-ID', headers: h.auth(h.admin) });
        assert.equal(badId.statusCode, 400);
        assert.match(errorOf(badId).message, /params\.id/);
        const unknown = await h.app.inject({ method: 'GET', url: '/v1/builds/0000000000zzzz', headers: h.auth(h.admin) });
        assert.equal(unknown.statusCode, 404);
        assert.equal(errorOf(unknown).code, 'not_found');
        const noRoute = await h.app.inject({ method: 'GET', url: '/v1/nothing', headers: h.auth(h.admin) });
        assert.equal(noRoute.statusCode, 404);
      }));

    void it('answers /healthz without a token, /metrics and /openapi.json with one', () =>
      withService(open(), async (h) => {
        const health = await h.app.inject({ method: 'GET', url: '/healthz' });
        assert.equal(health.statusCode, 200);
        assert.equal(health.json<Loose>().ok, true);
        assert.ok(health.headers['x-request-id']);
        assert.equal((await h.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
        const metrics = await h.app.inject({ method: 'GET', url: '/metrics', headers: h.auth(await h.token(['read'])) });
        assert.equal(metrics.statusCode, 200);
        for (const name of ['kiln_queue_depth', 'kiln_builds{state="queued"}', 'kiln_workers{state="idle"}', 'kiln_build_duration_seconds_bucket']) {
          assert.ok(metrics.body.includes(name), `metrics lack ${name}`);
        }
        const doc = await h.app.inject({ method: 'GET', url: '/openapi.json', headers: h.auth(h.admin) });
        assert.equal(doc.statusCode, 200);
        const paths = Object.keys(doc.json<{ paths: Record<string, unknown> }>().paths);
        for (const path of ['/v1/recipes', '/v1/builds', '/v1/builds/{id}', '/v1/builds/{id}/events', '/v1/builds/{id}/log', '/v1/builds/{id}/artifacts/{name}', '/v1/workers/{id}/claim', '/v1/jobs/{lease}/events', '/v1/jobs/{lease}/artifacts/{name}', '/v1/tokens']) {
          assert.ok(paths.includes(path), `openapi.json lacks ${path}: ${paths.join(' ')}`);
        }
        const create = doc.json<{ paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } } }> }>().paths['/v1/builds']?.post;
        assert.deepEqual(create?.requestBody?.content['application/json']?.schema.required, ['recipe']);
      }));

    void it('keeps a client-given request id and answers with it', () =>
      withService(open(), async (h) => {
        const res = await h.app.inject({ method: 'GET', url: '/v1/builds/0000000000zzzz', headers: { ...h.auth(h.admin), 'x-request-id': 'abc-123' } });
        assert.equal(res.headers['x-request-id'], 'abc-123');
        assert.equal(errorOf(res).requestId, 'abc-123');
      }));
  });
}
