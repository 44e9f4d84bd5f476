import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkerEvent } from '../service/protocol.js';
import { ApiError } from './api.js';
import { EventSender } from './event-sender.js';

const log = (line: string) => ({ type: 'log' as const, time: '2026-12-02T08:00:00.000Z', line });

/** A server that dedupes by n, as the real one does; fails the requests listed in `failOn`. */
function server(failOn: number[] = []) {
  const stored: WorkerEvent[] = [];
  const batches: number[][] = [];
  let calls = 0;
  const post = (events: WorkerEvent[]) => {
    calls += 1;
    batches.push(events.map((e) => e.n));
    if (failOn.includes(calls)) {
      // Half of the failures are "stored, but the answer was lost": the resend must not duplicate.
      if (calls % 2 === 0) for (const e of events) if (!stored.some((s) => s.n === e.n)) stored.push(e);
      return Promise.reject(new ApiError('no answer', 0, 'unreachable'));
    }
    for (const e of events) if (!stored.some((s) => s.n === e.n)) stored.push(e);
    return Promise.resolve();
  };
  return { stored, batches, post };
}

void test('events are batched, resent after failures with the same numbers, and stored once each in order', async () => {
  const s = server([1, 2]);
  const sender = new EventSender({ post: s.post, onRefused: () => assert.fail('not refused'), intervalMs: 5, batch: 4, backoff: () => 5 });
  for (let i = 0; i < 10; i++) sender.push(log(`line ${i}`));
  await sender.flush();
  assert.deepEqual(s.stored.map((e) => e.n), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(s.stored.map((e) => (e.type === 'log' ? e.line : '')), Array.from({ length: 10 }, (_, i) => `line ${i}`));
  assert.ok(s.batches.every((b) => b.length <= 4));
  assert.deepEqual(s.batches[0], s.batches[1], 'the failed batch was resent as it was');
  assert.equal(sender.sent, 10);
  sender.stop();
});

void test('a refusal stops the sender and is reported once', async () => {
  let refused: ApiError | undefined;
  const sender = new EventSender({ post: () => Promise.reject(new ApiError('lease gone', 409, 'lease_lost')), onRefused: (e) => (refused = e), intervalMs: 1 });
  sender.push(log('a'));
  await assert.rejects(sender.flush(), /lease gone/);
  assert.equal(refused?.code, 'lease_lost');
  sender.push(log('b'));
  await assert.rejects(sender.flush());
});

void test('flush with nothing pending resolves at once', async () => {
  const sender = new EventSender({ post: () => assert.fail('nothing to send'), onRefused: () => undefined });
  await sender.flush();
  sender.stop();
});

void test('a stage starting goes at once; log lines wait for the interval', async () => {
  const s = server();
  const sender = new EventSender({ post: s.post, onRefused: () => assert.fail('not refused'), intervalMs: 60_000 });
  sender.push(log('waits'));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.batches.length, 0, 'a log line alone waits for the interval');
  sender.push({ type: 'stage-start', time: '2026-12-02T08:00:00.000Z', stage: 'bootstrap', index: 0, total: 9 });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(s.batches, [[1, 2]], 'the stage took the waiting line along');
  sender.stop();
});
