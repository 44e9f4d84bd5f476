/** The store contract, continued: claims, leases, cancel, events, lost workers and wake-ups. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkerEvent } from '../protocol.js';
import { LeaseLostError, type ServiceStore } from './service-store.js';
import { hash, log, queued, time, withStores, worker, type SuiteEngine } from './store-suite-kit.js';

const ODD_LINE = 'a\u0000b "q" \\ \t ünï 🔥';

type It = (name: string, fn: (s: ServiceStore) => Promise<void>) => Promise<void>;

export function queueSuite(engine: SuiteEngine, it: It): void {
  void it('claim: oldest first, only matching arches, never over concurrency, not for lost or draining workers', async (s) => {
    const [amd1, amd2] = await queued(s, 2, 'amd64');
    const [arm] = await queued(s, 1, 'arm64');
    const w = await worker(s, 'arm', ['arm64'], 1);
    const got = await s.claim(w.id, ['arm64'], hash('t'));
    assert.equal(got?.build.id, arm);
    assert.deepEqual([got?.build.state, got?.build.worker, got?.lease.tokenHash, got?.lease.lastEventN], ['running', 'arm', hash('t'), 0]);
    assert.ok(got?.build.startedAt);
    assert.equal(await s.claim(w.id, ['arm64', 'amd64'], hash('t')), undefined, 'concurrency 1 is full');
    const x = await worker(s, 'x86', ['amd64'], 4);
    assert.equal((await s.claim(x.id, ['amd64'], hash('t')))?.build.id, amd1);
    await s.heartbeat(x.id, 'draining', time);
    assert.equal(await s.claim(x.id, ['amd64'], hash('t')), undefined, 'draining');
    await s.heartbeat(x.id, 'busy', time);
    assert.equal((await s.claim(x.id, ['amd64'], hash('t')))?.build.id, amd2);
    assert.equal(await s.claim(x.id, ['amd64'], hash('t')), undefined, 'queue empty');
    assert.equal(await s.claim('nope', ['amd64'], hash('t')), undefined, 'unknown worker');
    assert.deepEqual((await s.workerLeases(x.id)).map((l) => l.buildId), [amd1, amd2]);
    const listed = await s.listWorkers();
    assert.deepEqual(listed.map((l) => [l.name, l.builds]), [['arm', [arm]], ['x86', [amd1, amd2]]]);
    assert.equal(listed[0]?.state, 'busy');
  });

  void test('four claim loops on four stores share 50 queued builds: each claimed exactly once', () =>
    withStores(engine, 4, async (...stores) => {
      const ids = await queued(stores[0] as ServiceStore, 50);
      const claimed = await Promise.all(
        stores.map(async (s, i) => {
          const w = await worker(s, `loop${i}`, ['amd64'], 64);
          const mine: string[] = [];
          for (let job = await s.claim(w.id, ['amd64'], hash('t')); job; job = await s.claim(w.id, ['amd64'], hash('t'))) {
            mine.push(job.build.id);
            await s.finishLease(job.lease.id, { ok: true });
          }
          return mine;
        }),
      );
      assert.deepEqual(claimed.flat().sort(), [...ids].sort());
      if (engine.name === 'postgres') assert.ok(claimed.filter((c) => c.length > 0).length > 1, `claims spread over loops: ${claimed.map((c) => c.length).join(' ')}`);
      for (const id of ids) {
        const states = (await stores[1]?.events(id, 0, 100))?.map((e) => (e.type === 'state' ? e.state : e.type));
        assert.deepEqual(states, ['queued', 'running', 'succeeded']);
      }
    }));

  void it('cancel: a queued build at once, a running one on request, final and unknown ones not', async (s) => {
    const [q, r] = await queued(s, 2);
    assert.equal(await s.requestCancel(q ?? ''), 'canceled');
    const canceled = await s.getBuild(q ?? '');
    assert.deepEqual([canceled?.state, canceled?.error], ['canceled', 'canceled before it started']);
    assert.ok(canceled?.finishedAt);
    assert.equal(await s.requestCancel(q ?? ''), 'final');
    assert.equal(await s.requestCancel('nope'), 'missing');
    const w = await worker(s);
    const job = await s.claim(w.id, ['amd64'], hash('t'));
    assert.equal(job?.build.id, r);
    assert.equal(await s.cancelRequested(r ?? ''), false);
    assert.equal(await s.requestCancel(r ?? ''), 'requested');
    assert.equal(await s.requestCancel(r ?? ''), 'requested');
    assert.equal(await s.cancelRequested(r ?? ''), true);
    assert.equal((await s.getBuild(r ?? ''))?.state, 'running');
    const done = await s.finishLease(job?.lease.id ?? '', { ok: true });
    assert.deepEqual([done.state, done.error], ['canceled', 'canceled while running']);
    assert.equal(await s.lease(job?.lease.id ?? ''), undefined);
    await assert.rejects(s.finishLease(job?.lease.id ?? '', { ok: true }), LeaseLostError);
    assert.equal((await s.listWorkers())[0]?.state, 'idle');
  });

  void it('events: numbered without gaps, resends deduplicated, stage progress kept, read after a seq', async (s) => {
    const [id] = await queued(s, 1);
    const w = await worker(s);
    const job = await s.claim(w.id, ['amd64'], hash('t'));
    const lease = job?.lease.id ?? '';
    const first: WorkerEvent[] = [
      { n: 1, type: 'stages', time, stages: [{ name: 'bootstrap', summary: 'b' }, { name: 'tar', summary: 't' }] },
      { n: 2, type: 'stage-start', time, stage: 'bootstrap', index: 0, total: 2 },
      // Build output is any text: NUL (which PostgreSQL's text refuses), quotes, non-ASCII.
      log(3, ODD_LINE),
    ];
    assert.deepEqual((await s.appendWorkerEvents(lease, first)).map((e) => e.seq), [3, 4, 5]);
    // A resend after a timeout: 2 and 3 again, then new ones (out of order, one twice).
    const again = [first[1] as WorkerEvent, first[2] as WorkerEvent, { n: 5, type: 'stage-start', time, stage: 'tar', index: 1, total: 2 } as WorkerEvent, log(4, 'two'), log(4, 'two')];
    again.splice(3, 0, { n: 4, type: 'stage-end', time, stage: 'bootstrap', cached: true, seconds: 1.5 });
    const stored = await s.appendWorkerEvents(lease, again);
    assert.deepEqual(stored.map((e) => [e.seq, e.type]), [[6, 'stage-end'], [7, 'stage-start']]);
    assert.equal((await s.lease(lease))?.lastEventN, 5);
    assert.deepEqual(await s.appendWorkerEvents(lease, [log(5, 'dup')]), []);
    assert.deepEqual((await s.getBuild(id ?? ''))?.stages, [
      { name: 'bootstrap', state: 'done', cached: true, seconds: 1.5 },
      { name: 'tar', state: 'running' },
    ]);
    await s.appendWorkerEvents(lease, [{ n: 6, type: 'stage-fail', time, stage: 'tar', seconds: 2, message: 'boom' }]);
    const artifact = { name: 'a.tar', size: 3, sha256: hash('f'), createdAt: time };
    assert.equal((await s.appendEvent(id ?? '', { type: 'artifact', time, artifact })).seq, 9);
    const done = await s.finishLease(lease, { ok: false, error: 'tar failed\u0000' });
    assert.deepEqual([done.state, done.error, done.stages[1]], ['failed', 'tar failed\ufffd', { name: 'tar', state: 'failed', seconds: 2 }]);
    const all = await s.events(id ?? '', 0, 100);
    assert.deepEqual(all.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(all.map((e) => e.type), ['state', 'state', 'stages', 'stage-start', 'log', 'stage-end', 'stage-start', 'stage-fail', 'artifact', 'state']);
    assert.deepEqual(all[1], { type: 'state', seq: 2, time: all[1]?.time, state: 'running', worker: 'w1' });
    assert.deepEqual(all[4], { type: 'log', seq: 5, time, line: ODD_LINE });
    assert.deepEqual(all[8], { type: 'artifact', seq: 9, time, artifact });
    assert.deepEqual((await s.events(id ?? '', 7, 2)).map((e) => e.seq), [8, 9]);
    assert.deepEqual(await s.events(id ?? '', 10, 100), []);
    await assert.rejects(s.appendWorkerEvents(lease, [log(7, 'late')]), LeaseLostError);
  });

  void it('a 100,000-line log is stored and read back in order', async (s) => {
    const [id] = await queued(s, 1);
    const w = await worker(s);
    const lease = (await s.claim(w.id, ['amd64'], hash('t')))?.lease.id ?? '';
    const total = 100_000;
    for (let n = 1; n <= total; n += 5000) {
      await s.appendWorkerEvents(lease, Array.from({ length: 5000 }, (_, i) => log(n + i, `line ${n + i}`)));
    }
    let seen = 0;
    for (let page = await s.events(id ?? '', 2, 20_000); page.length > 0; page = await s.events(id ?? '', page.at(-1)?.seq ?? 0, 20_000)) {
      for (const e of page) {
        seen += 1;
        assert.ok(e.type === 'log' && e.line === `line ${seen}` && e.seq === seen + 2);
      }
    }
    assert.equal(seen, total);
  });

  void it('expireLeases: a silent worker is lost, its build requeued twice, then failed "worker lost"', async (s) => {
    const [id] = await queued(s, 1);
    const later = (ms: number) => new Date(Date.now() + ms).toISOString();
    for (let attempt = 0; attempt <= 2; attempt++) {
      const w = await worker(s, `w${attempt}`);
      const job = await s.claim(w.id, ['amd64'], hash('t'));
      assert.equal(job?.build.attempt, attempt);
      await s.appendWorkerEvents(job?.lease.id ?? '', [{ n: 1, type: 'stage-start', time, stage: 'x', index: 0, total: 1 }]);
      assert.deepEqual(await s.expireLeases(later(0), 60_000, 2), [], 'not silent long enough');
      const touched = await s.expireLeases(later(120_000), 60_000, 2);
      assert.deepEqual(touched.map((b) => [b.id, b.state, b.attempt]), [[id, attempt < 2 ? 'queued' : 'failed', attempt < 2 ? attempt + 1 : 2]]);
      assert.equal((await s.listWorkers()).find((x) => x.id === w.id)?.state, 'lost');
      // A requeued build starts again with no stage progress of the lost attempt.
      if (attempt < 2) assert.deepEqual([(await s.getBuild(id ?? ''))?.stages, (await s.getBuild(id ?? ''))?.worker], [[], undefined]);
      await assert.rejects(s.finishLease(job?.lease.id ?? '', { ok: true }), LeaseLostError);
    }
    const b = await s.getBuild(id ?? '');
    assert.deepEqual([b?.state, b?.error, b?.attempt], ['failed', 'worker lost', 2]);
    // A lost worker that was only silent (no newer one of its name) comes back with a heartbeat.
    const w2 = (await s.listWorkers()).find((x) => x.name === 'w2');
    assert.equal((await s.heartbeat(w2?.id ?? '', 'idle', time))?.state, 'idle');
    const states = (await s.events(id ?? '', 0, 100)).flatMap((e) => (e.type === 'state' ? [e.state] : []));
    assert.deepEqual(states, ['queued', 'running', 'queued', 'running', 'queued', 'running', 'failed']);
  });

  void it('a worker name registered again loses its old leases at once, and the old id is refused', async (s) => {
    const [id] = await queued(s, 1);
    const old = await worker(s, 'box');
    const job = await s.claim(old.id, ['amd64'], hash('t'));
    const fresh = await worker(s, 'box');
    assert.notEqual(fresh.id, old.id);
    const b = await s.getBuild(id ?? '');
    assert.deepEqual([b?.state, b?.attempt, b?.worker, b?.stages], ['queued', 1, undefined, []]);
    assert.equal(await s.lease(job?.lease.id ?? ''), undefined);
    assert.deepEqual((await s.listWorkers()).map((w) => [w.name, w.state]), [['box', 'lost'], ['box', 'idle']]);
    assert.equal(await s.heartbeat(old.id, 'idle', time), undefined);
    assert.equal((await s.heartbeat(fresh.id, 'busy', time))?.lastHeartbeat, time);
    assert.equal(await s.heartbeat('nope', 'idle', time), undefined);
    assert.equal((await s.claim(fresh.id, ['amd64'], hash('t')))?.build.id, id);
  });

  void test('waitForWork wakes within 100 ms of a build queued through another store', () =>
    withStores(engine, 2, async (a, b) => {
      const start = Date.now();
      const woke = a.waitForWork(5000).then(() => Date.now());
      await new Promise((r) => setTimeout(r, 50));
      await b.createBuild({ recipe: 'r', version: 1, arch: 'amd64', set: {} });
      const queuedAt = Date.now();
      const at = await woke;
      assert.ok(at - queuedAt < 100 && at - start >= 50, `woke ${at - queuedAt} ms after the build was queued`);
      const aborted = new AbortController();
      const waiting = a.waitForWork(5000, aborted.signal);
      aborted.abort();
      await waiting;
    }));

  void test('waitForEvents wakes for its build only, within 100 ms of an event appended through another store', () =>
    withStores(engine, 2, async (a, b) => {
      const [one, two] = await queued(b, 2);
      // Let the wake-ups of creating them pass (NOTIFY arrives a moment after the commit).
      await new Promise((r) => setTimeout(r, 100));
      const other = a.waitForEvents(two ?? '', 400).then(() => Date.now());
      const woke = a.waitForEvents(one ?? '', 5000).then(() => Date.now());
      const start = Date.now();
      await b.appendEvent(one ?? '', { type: 'log', time, line: 'x' });
      const appendedAt = Date.now();
      assert.ok((await woke) - appendedAt < 100);
      assert.ok((await other) - start >= 350, 'the other build was not woken');
    }));
}
