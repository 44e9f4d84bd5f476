import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser } from './sse.js';

void test('events as the server writes them: id, event, data; comments and retry ignored', () => {
  const p = new SseParser();
  const out = p.feed('retry: 2000\n\n: keep-alive\n\nid: 1\nevent: log\ndata: {"seq":1}\n\nid: 2\nevent: state\ndata: {"seq":2}\n\n');
  assert.deepEqual(out, [
    { id: '1', event: 'log', data: '{"seq":1}' },
    { id: '2', event: 'state', data: '{"seq":2}' },
  ]);
  assert.equal(p.lastId, '2');
});

void test('an event split anywhere across chunks, CRLF and CR line ends, multi-line data', () => {
  const text = 'id: 7\r\nevent: log\r\ndata: a\r\ndata: b\r\n\r\nid: 8\rdata:c\r\r\n';
  for (let cut = 0; cut <= text.length; cut++) {
    const p = new SseParser();
    const out = [...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut))];
    assert.deepEqual(out, [
      { id: '7', event: 'log', data: 'a\nb' },
      { id: '8', event: 'message', data: 'c' },
    ], `cut at ${cut}`);
  }
});

void test('an event without its blank line yet is not delivered', () => {
  const p = new SseParser();
  assert.deepEqual(p.feed('id: 1\ndata: x\n'), []);
  assert.deepEqual(p.feed('\n'), [{ id: '1', event: 'message', data: 'x' }]);
});
