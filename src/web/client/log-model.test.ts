import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atBottom, cleanLine, frameBatcher, LINE_HEIGHT, LogModel, OVERSCAN } from './log-model.js';

void test('many lines in one frame are drawn once', () => {
  const frames: (() => void)[] = [];
  let flushes = 0;
  const model = new LogModel();
  const request = frameBatcher(
    () => {
      flushes++;
      model.flush();
    },
    (cb) => frames.push(cb),
  );
  for (let i = 0; i < 100_000; i++) {
    model.push(`line ${i}`);
    request();
  }
  assert.equal(frames.length, 1);
  assert.equal(model.lines.length, 0);
  frames.shift()?.();
  assert.equal(flushes, 1);
  assert.equal(model.lines.length, 100_000);
  request();
  assert.equal(frames.length, 1, 'a new frame after the last one ran');
});

void test('only the lines in view (and overscan) are drawn, wherever the log is scrolled', () => {
  const model = new LogModel();
  for (let i = 0; i < 100_000; i++) model.push(String(i));
  model.flush();
  const top = model.window(0, 400);
  assert.deepEqual(top, { start: 0, end: Math.ceil(400 / LINE_HEIGHT) + 1 + OVERSCAN });
  const middle = model.window(50_000 * LINE_HEIGHT, 400);
  assert.equal(middle.start, 50_000 - OVERSCAN);
  assert.ok(middle.end - middle.start < 150, `${middle.end - middle.start} rows`);
  const end = model.window(100_000 * LINE_HEIGHT, 400);
  assert.equal(end.end, 100_000);
});

void test('the oldest lines go past the cap, and say how many', () => {
  const model = new LogModel(10);
  for (let i = 0; i < 25; i++) model.push(String(i));
  model.flush();
  assert.deepEqual(model.lines, ['15', '16', '17', '18', '19', '20', '21', '22', '23', '24']);
  assert.equal(model.dropped, 15);
});

void test('search is case-insensitive and finds every line', () => {
  const model = new LogModel();
  ['Get:1 http://deb', 'unpacking', 'Setting up libc6', 'get:2 http://deb'].forEach((l) => model.push(l));
  model.flush();
  assert.deepEqual(model.search('GET:'), [0, 3]);
  assert.deepEqual(model.search(''), []);
});

void test('following: at the bottom within a few pixels, not above', () => {
  assert.equal(atBottom(600, 400, 1000), true);
  assert.equal(atBottom(597, 400, 1000), true);
  assert.equal(atBottom(500, 400, 1000), false);
});

void test('each line is one row: carriage returns, colours and control characters go', () => {
  assert.equal(cleanLine('Progress: 10%\rProgress: 50%\rProgress: 100%'), 'Progress: 100%');
  assert.equal(cleanLine('done\r'), 'done');
  assert.equal(cleanLine('\x1b[1;31merror\x1b[0m: no\x07'), 'error: no');
  assert.equal(cleanLine('a\tb'), 'a\tb');
  const model = new LogModel();
  model.push('one\ntwo');
  model.flush();
  assert.deepEqual(model.lines, ['one', 'two']);
});
