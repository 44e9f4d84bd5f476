/** Builds: create, list, cancel, retry, the queue's long poll and heartbeats, on one store engine. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import type { Build, Job } from '../protocol.js';
import { HELLO, pushYaml, withService, type Harness, type OpenStore, errorOf, type Loose } from '../test-support/harness.js';

type BuildBody = z.infer<typeof Build>;

export async function createBuild(h: Harness, body: Record<string, unknown> = { recipe: 'hello' }): Promise<BuildBody> {
  const res = await h.app.inject({ method: 'POST', url: '/v1/builds', headers: h.auth(h.admin), payload: body });
  assert.equal(res.statusCode, 202, res.body);
  return res.json();
}

export interface Claimed {
  job: Job;
  worker: string;
  workerId: string;
  /** Headers of a job call: the worker token and the lease's job token. */
  headers: Record<string, string>;
}

/** A registered worker that claimed the next job. */
export async function claimJob(h: Harness, arches = ['amd64']): Promise<Claimed> {
  const worker = await h.token(['worker']);
  const reg = await h.app.inject({ method: 'POST', url: '/v1/workers', headers: h.auth(worker), payload: { name: `w-${Math.random()}`, arches, concurrency: 1, version: 'test' } });
  assert.equal(reg.statusCode, 201, reg.body);
  const workerId = reg.json<{ id: string }>().id;
  const claim = await h.app.inject({ method: 'POST', url: `/v1/workers/${workerId}/claim?wait=0`, headers: h.auth(worker) });
  assert.equal(claim.statusCode, 200, claim.body);
  const job = claim.json<Job>();
  return { job, worker, workerId, headers: { ...h.auth(worker), 'x-kiln-job-token': job.jobToken } };
}

export function buildSuite(engine: string, open: () => OpenStore): void {
  void describe(`service builds (${engine})`, () => {
    void it('queues a checked build (202), refuses unknown recipes (404) and values the recipe refuses (422)', () =>
      withService(open(), async (h) => {
        assert.equal((await pushYaml(h, HELLO)).status, 201);
        const build = await createBuild(h, { recipe: 'hello', arch: 'arm64' });
        assert.equal(build.state, 'queued');
        assert.equal(build.arch, 'arm64');
        assert.equal(build.version, 1);
        const shown = await h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}`, headers: h.auth(h.admin) });
        assert.equal(shown.json<Loose>().id, build.id);
        const missing = await h.app.inject({ method: 'POST', url: '/v1/builds', headers: h.auth(h.admin), payload: { recipe: 'nope' } });
        assert.equal(missing.statusCode, 404);
        const version = await h.app.inject({ method: 'POST', url: '/v1/builds', headers: h.auth(h.admin), payload: { recipe: 'hello', version: 7 } });
        assert.equal(version.statusCode, 404);
        assert.match(errorOf(version).message, /version 7 of recipe hello/);
        assert.equal((await pushYaml(h, 'name: pick\nkernel: {package: none}\nbootloader: none\noutputs: [tar]\nhostname: ${HOST:-box}\n')).status, 201);
        const bad = await h.app.inject({ method: 'POST', url: '/v1/builds', headers: h.auth(h.admin), payload: { recipe: 'pick', set: { HOST: 'not a hostname!' } } });
        assert.equal(bad.statusCode, 422, bad.body);
        assert.equal(errorOf(bad).code, 'invalid_recipe');
        assert.equal(errorOf(bad).diagnostics?.[0]?.file, 'recipe.yaml');
      }));

    void it('lists builds newest first with filters and a cursor', () =>
      withService(open(), async (h) => {
        await pushYaml(h, HELLO);
        await pushYaml(h, HELLO.replace('hello', 'other'));
        const ids = [];
        for (let i = 0; i < 3; i++) ids.push((await createBuild(h)).id);
        const otherId = (await createBuild(h, { recipe: 'other' })).id;
        const page1 = await h.app.inject({ method: 'GET', url: '/v1/builds?recipe=hello&limit=2', headers: h.auth(h.admin) });
        const body1 = page1.json<{ builds: BuildBody[]; next?: string }>();
        assert.deepEqual(body1.builds.map((b) => b.id), [ids[2], ids[1]]);
        assert.ok(body1.next);
        const page2 = await h.app.inject({ method: 'GET', url: `/v1/builds?recipe=hello&limit=2&cursor=${body1.next}`, headers: h.auth(h.admin) });
        assert.deepEqual(page2.json<{ builds: BuildBody[] }>().builds.map((b) => b.id), [ids[0]]);
        const all = await h.app.inject({ method: 'GET', url: '/v1/builds?state=queued', headers: h.auth(h.admin) });
        assert.equal(all.json<{ builds: BuildBody[] }>().builds[0]?.id, otherId);
        const none = await h.app.inject({ method: 'GET', url: '/v1/builds?state=running', headers: h.auth(h.admin) });
        assert.deepEqual(none.json<Loose>().builds, []);
      }));

    void it('cancels a queued build at once, refuses to cancel it twice, and retries it', () =>
      withService(open(), async (h) => {
        await pushYaml(h, HELLO);
        const build = await createBuild(h);
        const cancel = await h.app.inject({ method: 'POST', url: `/v1/builds/${build.id}/cancel`, headers: h.auth(h.admin) });
        assert.equal(cancel.statusCode, 200);
        assert.equal(cancel.json<Loose>().state, 'canceled');
        const twice = await h.app.inject({ method: 'POST', url: `/v1/builds/${build.id}/cancel`, headers: h.auth(h.admin) });
        assert.equal(twice.statusCode, 409);
        assert.equal(errorOf(twice).code, 'conflict');
        const retry = await h.app.inject({ method: 'POST', url: `/v1/builds/${build.id}/retry`, headers: h.auth(h.admin) });
        assert.equal(retry.statusCode, 202);
        assert.equal(retry.json<Loose>().retryOf, build.id);
        assert.equal(retry.json<Loose>().state, 'queued');
        const early = await h.app.inject({ method: 'POST', url: `/v1/builds/${retry.json<BuildBody>().id}/retry`, headers: h.auth(h.admin) });
        assert.equal(early.statusCode, 409);
        assert.equal((await h.app.inject({ method: 'POST', url: '/v1/builds/0000000000zzzz/cancel', headers: h.auth(h.admin) })).statusCode, 404);
      }));

    void it('hands a job to a long-polling worker as soon as a build is queued, only to a matching arch', () =>
      withService(open(), async (h) => {
        await pushYaml(h, HELLO);
        const worker = await h.token(['worker']);
        const reg = await h.app.inject({ method: 'POST', url: '/v1/workers', headers: h.auth(worker), payload: { name: 'arm', arches: ['arm64'], concurrency: 1, version: 'test' } });
        const id = reg.json<{ id: string }>().id;
        const empty = await h.app.inject({ method: 'POST', url: `/v1/workers/${id}/claim?wait=0`, headers: h.auth(worker) });
        assert.equal(empty.statusCode, 204);
        await createBuild(h); // amd64: not for this worker
        const started = Date.now();
        const polling = h.app.inject({ method: 'POST', url: `/v1/workers/${id}/claim?wait=20`, headers: h.auth(worker) });
        await new Promise((r) => setTimeout(r, 300));
        const arm = await createBuild(h, { recipe: 'hello', arch: 'arm64' });
        const claimed = await polling;
        assert.equal(claimed.statusCode, 200, claimed.body);
        assert.equal(claimed.json<Job>().build.id, arm.id);
        assert.equal(claimed.json<Job>().build.state, 'running');
        assert.ok(Date.now() - started < 5000, 'woken by the new build, not by the end of the wait');
        assert.equal(claimed.json<Job>().bundleUrl, '/v1/recipes/hello/versions/1?format=bundle');
        const tooLong = await h.app.inject({ method: 'POST', url: `/v1/workers/${id}/claim?wait=61`, headers: h.auth(worker) });
        assert.equal(tooLong.statusCode, 400);
        const workers = await h.app.inject({ method: 'GET', url: '/v1/workers', headers: h.auth(h.admin) });
        assert.deepEqual(workers.json<{ workers: { id: string; builds: string[] }[] }>().workers.find((w) => w.id === id)?.builds, [arm.id]);
      }));

    void it('answers heartbeats with the leases to cancel and those lost', () =>
      withService(open(), async (h) => {
        await pushYaml(h, HELLO);
        const build = await createBuild(h);
        const c = await claimJob(h);
        const beat = (leases: string[]) => h.app.inject({ method: 'POST', url: `/v1/workers/${c.workerId}/heartbeat`, headers: h.auth(c.worker), payload: { state: 'busy', leases } });
        assert.deepEqual((await beat([c.job.lease])).json(), { cancel: [], lost: [] });
        const cancel = await h.app.inject({ method: 'POST', url: `/v1/builds/${build.id}/cancel`, headers: h.auth(h.admin) });
        assert.equal(cancel.statusCode, 202);
        assert.deepEqual((await beat([c.job.lease, '0000000000gone'])).json(), { cancel: [c.job.lease], lost: ['0000000000gone'] });
        const events = await h.app.inject({ method: 'POST', url: `/v1/jobs/${c.job.lease}/events`, headers: c.headers, payload: { events: [] } });
        assert.equal(events.json<Loose>().cancel, true);
        const finish = await h.app.inject({ method: 'POST', url: `/v1/jobs/${c.job.lease}/finish`, headers: c.headers, payload: { ok: false, error: 'canceled' } });
        assert.equal(finish.json<Loose>().state, 'canceled');
        const unknown = await h.app.inject({ method: 'POST', url: '/v1/workers/0000000000zzzz/heartbeat', headers: h.auth(c.worker), payload: { state: 'idle', leases: [] } });
        assert.equal(unknown.statusCode, 404);
      }));
  });
}
