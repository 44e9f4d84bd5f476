import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeStageRows, type StageRow } from './stage-rows.js';

const streamed: StageRow[] = [
  { name: 'bootstrap', state: 'done', seconds: 31 },
  { name: 'system', state: 'running', startedAt: 1000 },
  { name: 'outputs', state: 'pending' },
];

void test('a build fetched before the worker sent its stage list does not empty the timeline', () => {
  assert.deepEqual(mergeStageRows(streamed, 0, { attempt: 0, stages: [] }), streamed);
});

void test('an older answer does not undo a row the stream moved on; a newer one wins', () => {
  const rows = mergeStageRows(streamed, 0, {
    attempt: 0,
    stages: [
      { name: 'bootstrap', state: 'running' },
      { name: 'system', state: 'done', seconds: 4, cached: true },
      { name: 'outputs', state: 'pending' },
    ],
  });
  assert.deepEqual(
    rows.map((r) => [r.name, r.state, r.seconds]),
    [
      ['bootstrap', 'done', 31],
      ['system', 'done', 4],
      ['outputs', 'pending', undefined],
    ],
  );
  assert.equal(rows[1]?.cached, true);
});

void test('a requeued attempt starts over from the server list', () => {
  const rows = mergeStageRows(streamed, 0, { attempt: 1, stages: [] });
  assert.deepEqual(rows, []);
});

void test('the first load takes the server list as it is', () => {
  const stages: StageRow[] = [{ name: 'bootstrap', state: 'running' }];
  assert.deepEqual(mergeStageRows([], undefined, { attempt: 0, stages }), stages);
});
