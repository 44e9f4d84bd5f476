/** A worker's job end to end: events, live log with Range, SSE resume, artifacts, lease checks. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { HELLO, pushYaml, withService, type Harness, type OpenStore, errorOf, type Loose } from '../test-support/harness.js';
import { claimJob, createBuild, type Claimed } from './builds-suite.js';

const now = () => new Date().toISOString();
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function logEvents(from: number, lines: string[]) {
  return lines.map((line, i) => ({ n: from + i, type: 'log' as const, time: now(), stage: 'tar', line }));
}

async function postEvents(h: Harness, c: Claimed, events: unknown[]) {
  return h.app.inject({ method: 'POST', url: `/v1/jobs/${c.job.lease}/events`, headers: c.headers, payload: { events } });
}

async function upload(h: Harness, c: Claimed, name: string, data: Buffer, digest = sha(data)) {
  return h.app.inject({ method: 'PUT', url: `/v1/jobs/${c.job.lease}/artifacts/${name}`, headers: { ...c.headers, 'content-type': 'application/octet-stream', 'x-kiln-sha256': digest }, payload: data });
}

/** Parses an SSE body into its events' ids and types. */
function parseSse(body: string): { id: number; type: string; data: { seq: number; type: string; state?: string } }[] {
  return body
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => {
      const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
      return { id: Number(field('id')), type: field('event'), data: JSON.parse(field('data')) as { seq: number; type: string; state?: string } };
    });
}

export function jobSuite(engine: string, open: () => OpenStore): void {
  void describe(`service jobs (${engine})`, () => {
    void it('stores events once, serves the log with Range while running, and replays SSE from Last-Event-ID without duplicates', () =>
      withService(open(), async (h) => {
        await pushYaml(h, HELLO);
        const build = await createBuild(h);
        const c = await claimJob(h);
        const first = await postEvents(h, c, [{ n: 1, type: 'stage-start', time: now(), stage: 'tar', index: 1, total: 1 }, ...logEvents(2, ['one', 'two'])]);
        assert.deepEqual(first.json(), { stored: 3, cancel: false });
        // A resend after a lost answer stores nothing twice.
        const resent = await postEvents(h, c, [...logEvents(2, ['one', 'two']), ...logEvents(4, ['three'])]);
        assert.equal(resent.json<Loose>().stored, 1);
        const log = await h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}/log`, headers: h.auth(h.admin) });
        assert.equal(log.body, 'one\ntwo\nthree\n');
        const part = await h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}/log`, headers: { ...h.auth(h.admin), range: 'bytes=4-6' } });
        assert.equal(part.statusCode, 206);
        assert.equal(part.body, 'two');
        assert.equal(part.headers['content-range'], 'bytes 4-6/14');
        const tail = await h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}/log`, headers: { ...h.auth(h.admin), range: 'bytes=-6' } });
        assert.equal(tail.body, 'three\n');
        const outside = await h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}/log`, headers: { ...h.auth(h.admin), range: 'bytes=99-' } });
        assert.equal(outside.statusCode, 416);
        assert.equal(outside.headers['content-range'], 'bytes */14');

        await postEvents(h, c, [{ n: 5, type: 'stage-end', time: now(), stage: 'tar', cached: false, seconds: 1.5 }]);
        const finished = await h.app.inject({ method: 'POST', url: `/v1/jobs/${c.job.lease}/finish`, headers: c.headers, payload: { ok: true } });
        assert.equal(finished.json<Loose>().state, 'succeeded');

        const whole = await h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}/events`, headers: h.auth(h.admin) });
        assert.match(String(whole.headers['content-type']), /^text\/event-stream/);
        const all = parseSse(whole.body);
        assert.deepEqual(all.map((e) => e.id), all.map((_, i) => i + 1), 'every event once, in order');
        assert.deepEqual(all.map((e) => (e.type === 'state' ? `state:${e.data.state}` : e.type)), ['state:queued', 'state:running', 'stage-start', 'log', 'log', 'log', 'stage-end', 'state:succeeded']);
        assert.ok(all.every((e) => e.id === e.data.seq && e.type === e.data.type));
        const resumed = await h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}/events`, headers: { ...h.auth(h.admin), 'last-event-id': '4' } });
        assert.deepEqual(parseSse(resumed.body).map((e) => e.id), [5, 6, 7, 8]);
        const byQuery = await h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}/events?after=7`, headers: h.auth(h.admin) });
        assert.deepEqual(parseSse(byQuery.body).map((e) => e.id), [8]);
        const bad = await h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}/events`, headers: { ...h.auth(h.admin), 'last-event-id': 'x' } });
        assert.equal(bad.statusCode, 400);
      }));

    void it('follows a running build over SSE as events arrive, then ends', () =>
      withService(open(), async (h) => {
        await pushYaml(h, HELLO);
        const build = await createBuild(h);
        const c = await claimJob(h);
        const stream = h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}/events`, headers: { ...h.auth(h.admin), 'last-event-id': '2' } });
        await new Promise((r) => setTimeout(r, 200));
        await postEvents(h, c, logEvents(1, ['live']));
        await new Promise((r) => setTimeout(r, 200));
        await h.app.inject({ method: 'POST', url: `/v1/jobs/${c.job.lease}/finish`, headers: c.headers, payload: { ok: false, error: 'stage tar failed' } });
        const events = parseSse((await stream).body);
        assert.deepEqual(events.map((e) => (e.type === 'state' ? `state:${e.data.state}` : e.type)), ['log', 'state:failed']);
      }));

    void it('stores a checked artifact, refuses a wrong sha256 without listing it, serves Range, ETag and digests', () =>
      withService(open(), async (h) => {
        await pushYaml(h, HELLO);
        const build = await createBuild(h);
        const c = await claimJob(h);
        const data = Buffer.from('0123456789abcdef'.repeat(64));
        const wrong = await upload(h, c, 'image.tar', data, sha('something else'));
        assert.equal(wrong.statusCode, 422);
        assert.equal(errorOf(wrong).code, 'checksum_mismatch');
        const listed = async () => (await h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}/artifacts`, headers: h.auth(h.admin) })).json<{ artifacts: { name: string }[] }>().artifacts;
        assert.deepEqual(await listed(), []);
        assert.deepEqual(await readdir(`${h.dataDir}/artifacts/${build.id}/${c.job.lease}`), [], 'the temporary file is gone');
        const good = await upload(h, c, 'image.tar', data);
        assert.equal(good.statusCode, 201, good.body);
        assert.deepEqual(good.json<Loose>().sha256, sha(data));
        assert.equal((await upload(h, c, 'image.tar', data)).statusCode, 200, 'a resend of the same file is fine');
        assert.equal((await upload(h, c, 'image.tar', Buffer.from('other'))).statusCode, 409);
        assert.equal((await upload(h, c, '.hidden', data)).statusCode, 400);
        assert.deepEqual((await listed()).map((a) => a.name), ['image.tar']);

        const url = `/v1/builds/${build.id}/artifacts/image.tar`;
        const full = await h.app.inject({ method: 'GET', url, headers: h.auth(h.admin) });
        assert.equal(full.statusCode, 200);
        assert.deepEqual(full.rawPayload, data);
        assert.equal(full.headers.etag, `"${sha(data)}"`);
        assert.equal(full.headers['x-kiln-sha256'], sha(data));
        assert.equal(full.headers['content-digest'], `sha-256=:${createHash('sha256').update(data).digest('base64')}:`);
        const part = await h.app.inject({ method: 'GET', url, headers: { ...h.auth(h.admin), range: 'bytes=16-31' } });
        assert.equal(part.statusCode, 206);
        assert.equal(part.body, '0123456789abcdef');
        assert.equal(part.headers['content-range'], `bytes 16-31/${data.length}`);
        const cached = await h.app.inject({ method: 'GET', url, headers: { ...h.auth(h.admin), 'if-none-match': `"${sha(data)}"` } });
        assert.equal(cached.statusCode, 304);
        assert.equal((await h.app.inject({ method: 'GET', url, headers: { ...h.auth(h.admin), range: `bytes=${data.length}-` } })).statusCode, 416);
        assert.equal((await h.app.inject({ method: 'GET', url: `/v1/builds/${build.id}/artifacts/nope.tar`, headers: h.auth(h.admin) })).statusCode, 404);
        const events = await h.store.events(build.id, 0, 100);
        assert.equal(events.filter((e) => e.type === 'artifact').length, 1, 'one artifact event, for the stored file only');
      }));

    void it('requeues the job of a worker that stops heartbeating; its old lease is refused', () =>
      withService(
        open(),
        async (h) => {
          await pushYaml(h, HELLO);
          const build = await createBuild(h);
          const lost = await claimJob(h);
          let current = build;
          for (let i = 0; i < 50 && current.attempt === 0; i++) {
            await new Promise((r) => setTimeout(r, 100));
            current = (await h.store.getBuild(build.id)) ?? current;
          }
          assert.equal(current.state, 'queued');
          assert.equal(current.attempt, 1);
          const late = await postEvents(h, lost, logEvents(1, ['too late']));
          assert.equal(late.statusCode, 409);
          assert.equal(errorOf(late).code, 'lease_lost');
          const next = await claimJob(h);
          assert.equal(next.job.build.id, build.id);
          const done = await h.app.inject({ method: 'POST', url: `/v1/jobs/${next.job.lease}/finish`, headers: next.headers, payload: { ok: true } });
          assert.equal(done.json<Loose>().state, 'succeeded');
          const states = (await h.store.events(build.id, 0, 100)).map((e) => (e.type === 'state' ? e.state : e.type));
          assert.deepEqual(states, ['queued', 'running', 'queued', 'running', 'succeeded']);
          const workers = await h.app.inject({ method: 'GET', url: '/v1/workers', headers: h.auth(h.admin) });
          assert.equal(workers.json<{ workers: { id: string; state: string }[] }>().workers.find((w) => w.id === lost.workerId)?.state, 'lost');
        },
        { heartbeatSeconds: 0.2, lostAfterSeconds: 0.6 },
      ));

    void it('checks the job token and refuses a lost lease with 409 lease_lost', () =>
      withService(open(), async (h) => {
        await pushYaml(h, HELLO);
        await createBuild(h);
        const c = await claimJob(h);
        const noJobToken = await h.app.inject({ method: 'POST', url: `/v1/jobs/${c.job.lease}/events`, headers: h.auth(c.worker), payload: { events: [] } });
        assert.equal(noJobToken.statusCode, 401);
        const wrongJobToken = await h.app.inject({ method: 'POST', url: `/v1/jobs/${c.job.lease}/events`, headers: { ...h.auth(c.worker), 'x-kiln-job-token': 'x'.repeat(43) }, payload: { events: [] } });
        assert.equal(wrongJobToken.statusCode, 403);
        const readToken = await h.app.inject({ method: 'POST', url: `/v1/jobs/${c.job.lease}/events`, headers: { ...c.headers, ...h.auth(await h.token(['read'])) }, payload: { events: [] } });
        assert.equal(readToken.statusCode, 403);
        const finish = await h.app.inject({ method: 'POST', url: `/v1/jobs/${c.job.lease}/finish`, headers: c.headers, payload: { ok: true } });
        assert.equal(finish.statusCode, 200);
        for (const [method, url, payload] of [
          ['POST', `/v1/jobs/${c.job.lease}/events`, { events: logEvents(1, ['late']) }],
          ['POST', `/v1/jobs/${c.job.lease}/finish`, { ok: true }],
        ] as const) {
          const res = await h.app.inject({ method, url, headers: c.headers, payload });
          assert.equal(res.statusCode, 409, `${url}: ${res.body}`);
          assert.equal(errorOf(res).code, 'lease_lost');
        }
        assert.equal((await upload(h, c, 'late.tar', Buffer.from('x'))).statusCode, 409);
        const unknown = await h.app.inject({ method: 'POST', url: '/v1/jobs/0000000000zzzz/finish', headers: c.headers, payload: { ok: true } });
        assert.equal(unknown.statusCode, 409);
      }));
  });
}
