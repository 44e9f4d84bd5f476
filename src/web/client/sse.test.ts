import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser, type SseMessage } from './sse.js';

function feed(chunks: (string | Uint8Array)[]): SseMessage[] {
  const p = new SseParser();
  return chunks.flatMap((c) => p.push(c));
}

void test('an event split at every possible chunk boundary parses the same', () => {
  const text = 'retry: 2000\n\nid: 7\nevent: log\ndata: {"a":1}\n\nid: 8\nevent: state\ndata: x\n\n';
  const whole = feed([text]);
  assert.deepEqual(whole, [
    { id: '7', event: 'log', data: '{"a":1}' },
    { id: '8', event: 'state', data: 'x' },
  ]);
  for (let cut = 1; cut < text.length; cut++) assert.deepEqual(feed([text.slice(0, cut), text.slice(cut)]), whole, `cut at ${cut}`);
  assert.deepEqual(feed([...text]), whole);
});

void test('multi-line data joins with newlines; a missing space after the colon is fine', () => {
  assert.deepEqual(feed(['data: one\ndata:two\ndata:  three\n\n']), [{ id: '', event: 'message', data: 'one\ntwo\n three' }]);
});

void test('comments and unknown fields are ignored; a blank line without data dispatches nothing', () => {
  assert.deepEqual(feed([': heartbeat\n\n', 'foo: bar\n\n', 'event: x\n\n', 'data: y\n\n']), [{ id: '', event: 'message', data: 'y' }]);
});

void test('ids carry over to later events; an id with NUL is ignored; retry is read', () => {
  const p = new SseParser();
  const out = p.push('id: 3\ndata: a\n\ndata: b\n\nid: 4\u0000\ndata: c\n\nretry: 1500\n');
  assert.deepEqual(out.map((m) => m.id), ['3', '3', '3']);
  assert.equal(p.retryMs, 1500);
  assert.equal(p.lastEventId, '3');
});

void test('CRLF and CR line ends, even with CR and LF in different chunks', () => {
  const whole = [{ id: '1', event: 'e', data: 'd' }];
  assert.deepEqual(feed(['id: 1\r\nevent: e\r\ndata: d\r\n\r\n']), whole);
  assert.deepEqual(feed(['id: 1\revent: e\rdata: d\r\r']), whole);
  assert.deepEqual(feed(['id: 1\r', '\nevent: e\r', '\ndata: d\r', '\n\r', '\n']), whole);
});

void test('a UTF-8 character split across chunks and a leading BOM', () => {
  const bytes = new TextEncoder().encode('\ufeffdata: héllo ✓\n\n');
  const out = feed([bytes.subarray(0, 9), bytes.subarray(9, 10), bytes.subarray(10, 16), bytes.subarray(16)]);
  assert.deepEqual(out, [{ id: '', event: 'message', data: 'héllo ✓' }]);
});

void test('an event without its closing blank line is not dispatched', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('data: partial\n'), []);
  p.end();
  assert.deepEqual(p.push('data: next\n\n'), [{ id: '', event: 'message', data: 'next' }]);
});
