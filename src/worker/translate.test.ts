import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BuildEvent } from '../engine/events.js';
import { WorkerEvent } from '../service/protocol.js';
import { EventNumberer, fromBuildEvent, fromStderrLine, fromStdoutLine, MAX_LINE } from './translate.js';

const T = '2026-12-02T08:00:00.000Z';

void test('every build event becomes the worker event of the protocol, numbered from 1', () => {
  const events: BuildEvent[] = [
    { type: 'build-start', name: 'x', stages: [{ name: 'bootstrap', id: 'abc', summary: 'debootstrap' }], time: T },
    { type: 'stage-start', stage: 'bootstrap', index: 0, total: 1, time: T },
    { type: 'output', stage: 'bootstrap', line: 'I: retrieving', time: T },
    { type: 'stage-end', stage: 'bootstrap', seconds: 1.5, cached: false, time: T },
    { type: 'stage-fail', stage: 'bootstrap', seconds: 2, message: 'boom', time: T },
    { type: 'build-end', ok: true, seconds: 3, time: T },
  ];
  const numberer = new EventNumberer();
  const out = events.map(fromBuildEvent).filter((e) => e !== undefined).map((e) => numberer.number(e));
  assert.deepEqual(out, [
    { n: 1, type: 'stages', time: T, stages: [{ name: 'bootstrap', summary: 'debootstrap' }] },
    { n: 2, type: 'stage-start', time: T, stage: 'bootstrap', index: 0, total: 1 },
    { n: 3, type: 'log', time: T, stage: 'bootstrap', line: 'I: retrieving' },
    { n: 4, type: 'stage-end', time: T, stage: 'bootstrap', cached: false, seconds: 1.5 },
    { n: 5, type: 'stage-fail', time: T, stage: 'bootstrap', seconds: 2, message: 'boom' },
  ]);
  for (const e of out) assert.ok(WorkerEvent.safeParse(e).success, JSON.stringify(e));
  assert.equal(numberer.last, 5);
});

void test('stdout lines that are not build events, and stderr lines, become log lines without a stage', () => {
  assert.deepEqual(fromStdoutLine('plain text', T), { type: 'log', time: T, line: 'plain text' });
  assert.deepEqual(fromStdoutLine('{"not": "an event"}', T), { type: 'log', time: T, line: '{"not": "an event"}' });
  assert.deepEqual(fromStdoutLine('{broken', T), { type: 'log', time: T, line: '{broken' });
  assert.equal(fromStdoutLine('', T), undefined);
  assert.deepEqual(fromStdoutLine(JSON.stringify({ type: 'stage-start', stage: 's', index: 1, total: 3, time: T }), 'other'), { type: 'stage-start', time: T, stage: 's', index: 1, total: 3 });
  assert.equal(fromStdoutLine(JSON.stringify({ type: 'build-end', ok: false, seconds: 1, time: T }), T), undefined);
  assert.deepEqual(fromStderrLine('error: stage x failed', T), { type: 'log', time: T, line: 'error: stage x failed' });
});

void test('a line longer than the protocol allows is cut, and still valid', () => {
  const e = fromStderrLine('x'.repeat(MAX_LINE + 10), T);
  assert.ok(e && e.type === 'log' && e.line.length <= MAX_LINE && e.line.endsWith('[... line cut]'));
  assert.ok(WorkerEvent.safeParse({ ...e, n: 1 }).success);
});
