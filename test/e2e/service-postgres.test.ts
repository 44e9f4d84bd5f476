/**
 * The build service scaled out on PostgreSQL (a cluster of the test's own on 127.0.0.1): two
 * `kiln serve` processes share one database and one artifact folder, two `kiln worker` processes
 * (one per server) share ten queued builds and each build runs exactly once; then a worker killed
 * with SIGKILL mid-build loses its job to the other, which finishes it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPostgres } from '../../src/testing/postgres.js';
import { kiln, linkedCache, scratch } from './kiln.js';
import { api, isFinal, readEvents, recipeFolder, serve, startWorker, submit, waitForBuild, type Serve } from './service-kit.js';

const cache = linkedCache('service-pg');
const env = { KILN_CACHE: cache };
const folder = recipeFolder(join(scratch('service-pg-recipe'), 'svc'));
const artifacts = scratch('service-pg-artifacts');
// Heartbeats every second and a worker lost after 8 s, so the lost-worker test takes seconds.
const timing = ['--workers', '0', '--artifacts', artifacts, '--heartbeat', '1', '--lost-after', '8'];

let pg: Awaited<ReturnType<typeof startPostgres>>;
let one: Serve;
let two: Serve;

before(async () => {
  pg = await startPostgres();
  one = await serve(scratch('service-pg-one'), timing, env, pg.url);
  two = await serve(scratch('service-pg-two'), timing, env, pg.url);
});

after(async () => {
  await one.stop();
  await two.stop();
  await pg.stop();
});

void test('service on PostgreSQL: two servers, two workers, ten queued builds, each run exactly once', async () => {
  assert.equal((await kiln(['remote', 'push', folder, '--server', one.url, '--token', one.admin])).code, 0);
  // Queued before any worker exists, half through each server.
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) ids.push(await submit(i % 2 ? two : one, { recipe: 'svc', set: { NOTE: `n${i}` } }));
  const a = startWorker(one, 'worker-a', env, ['--heartbeat', '1']);
  const b = startWorker(two, 'worker-b', env, ['--heartbeat', '1']);
  try {
    const ran = new Map<string, number>();
    for (const id of ids) {
      const done = await waitForBuild(one, id, isFinal, 900);
      assert.equal(done.state, 'succeeded', `${JSON.stringify(done)}\n${a.output().slice(-2000)}\n${b.output().slice(-2000)}`);
      assert.equal(done.attempt, 0);
      ran.set(done.worker ?? '?', (ran.get(done.worker ?? '?') ?? 0) + 1);
      const running = (await readEvents(two, id)).filter((e) => e.event === 'state' && (JSON.parse(e.data) as { state: string }).state === 'running');
      assert.equal(running.length, 1, `build ${id} started once`);
    }
    assert.equal(ran.size, 2, `both workers built: ${JSON.stringify([...ran])}`);
    // Either server lists every artifact of every build: one database, one artifact folder.
    const listed = await api<{ artifacts: { name: string }[] }>(two, 'GET', `/v1/builds/${ids[0] ?? ''}/artifacts`);
    assert.ok(listed.json.artifacts.some((x) => x.name === 'svc.tar'));
    // Two builds compared as `kiln diff` would: only the note differs.
    const diff = await api<{ identical: boolean; files: { changed: { path: string }[] }; packages: { added: unknown[] } }>(one, 'GET', `/v1/builds/${ids[1] ?? ''}/diff?against=${ids[0] ?? ''}`);
    assert.equal(diff.status, 200, JSON.stringify(diff.json));
    assert.equal(diff.json.identical, false);
    assert.ok(diff.json.files.changed.some((f) => f.path === '/etc/svc-note'), JSON.stringify(diff.json.files));
    assert.deepEqual(diff.json.packages.added, []);
  } finally {
    await a.stop();
    await b.stop();
  }
});

void test('service on PostgreSQL: a worker killed mid-build loses its job, which the other worker finishes', async () => {
  const a = startWorker(one, 'worker-c', env, ['--heartbeat', '1']);
  let b: ReturnType<typeof startWorker> | undefined;
  try {
    const id = await submit(one, { recipe: 'svc', set: { SLEEP: '30', NOTE: 'lost' } });
    await waitForBuild(one, id, (x) => x.stages.some((st) => st.name === 'customize-hooks' && st.state === 'running'), 600);
    await a.stop('SIGKILL');
    b = startWorker(two, 'worker-d', env, ['--heartbeat', '1']);
    const done = await waitForBuild(two, id, isFinal, 600);
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.equal(done.attempt, 1);
    const workers = await api<{ workers: { name: string; state: string }[] }>(one, 'GET', '/v1/workers');
    assert.equal(workers.json.workers.find((w) => w.name === 'worker-c')?.state, 'lost');
  } finally {
    await a.stop();
    await b?.stop();
  }
});
