import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../worker/api.js';
import { explain } from './remote.js';
import { plainLine } from './reporters.js';
import { toBuildEvent } from './remote-render.js';

const T = '2026-12-02T08:00:05.000Z';
const build = { id: 'b1abcdefghij', recipe: 'demo' };

void test('stream events render as the lines of a local build', () => {
  const lines = [
    toBuildEvent({ type: 'stages', seq: 2, time: T, stages: [{ name: 'bootstrap', summary: 's' }] }, build),
    toBuildEvent({ type: 'stage-start', seq: 3, time: T, stage: 'bootstrap', index: 0, total: 1 }, build),
    toBuildEvent({ type: 'log', seq: 4, time: T, stage: 'bootstrap', line: 'I: ok' }, build),
    toBuildEvent({ type: 'log', seq: 5, time: T, line: 'a note' }, build),
    toBuildEvent({ type: 'stage-end', seq: 6, time: T, stage: 'bootstrap', cached: true, seconds: 0 }, build),
    toBuildEvent({ type: 'state', seq: 7, time: T, state: 'succeeded' }, build, '2026-12-02T08:00:00.000Z'),
  ].map((s) => (s && 'event' in s ? plainLine(s.event) : s?.note));
  assert.deepEqual(lines, [
    '08:00:05 build demo: 1 stages',
    '08:00:05 [1/1] bootstrap',
    '08:00:05   bootstrap: I: ok',
    '08:00:05   kiln: a note',
    '08:00:05 bootstrap cached in 0.0 s',
    '08:00:05 build done in 5.0 s: download with: kiln remote download b1abcdefghij',
  ]);
  assert.deepEqual(toBuildEvent({ type: 'state', seq: 1, time: T, state: 'running', worker: 'w1' }, build), { note: '08:00:05 running on w1' });
  assert.equal(plainLine((toBuildEvent({ type: 'state', seq: 9, time: T, state: 'failed', error: 'x' }, build) as { event: Parameters<typeof plainLine>[0] }).event), '08:00:05 build failed');
});

void test("the server's refusals become exit-2 user errors, its failures and silence exit-1 build errors", () => {
  const refused = explain(new ApiError('recipe.yaml:1:1 name: required', 422, 'invalid_recipe', [{ file: 'recipe.yaml', line: 1, col: 1, text: 'nam: x', message: 'name: required' }]));
  assert.ok(refused instanceof Error && refused.name === 'UserError');
  // Colour codes (FORCE_COLOR in CI) aside.
  // eslint-disable-next-line no-control-regex
  assert.equal(refused.message.replace(/\u001b\[[0-9;]*m/g, ''), 'recipe.yaml:1:1 name: required\n  1 | nam: x\n    | ^');
  const missing = explain(new ApiError('build x does not exist', 404, 'not_found'));
  assert.ok(missing instanceof Error && missing.name === 'UserError' && missing.message === 'build x does not exist');
  const down = explain(new ApiError('GET http://h/v1/builds: no answer (ECONNREFUSED)', 0, 'unreachable'));
  assert.ok(down instanceof Error && down.name === 'BuildError' && down.message === 'GET http://h/v1/builds: no answer (ECONNREFUSED)');
  const broken = explain(new ApiError('database gone', 500, 'internal'));
  assert.ok(broken instanceof Error && broken.name === 'BuildError' && broken.message === 'the server failed: database gone');
});
