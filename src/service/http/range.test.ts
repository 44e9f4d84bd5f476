import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRange } from './range.js';

void describe('parseRange', () => {
  void it('reads one range of bytes, as RFC 9110 defines it', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=90-500', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-500', 100), { start: 0, end: 99 });
  });
  void it('answers the whole body for no, malformed or several ranges, and 416 for ranges outside', () => {
    for (const header of [undefined, 'bytes=a-b', 'items=0-1', 'bytes=0-1,5-6', 'bytes=-']) assert.equal(parseRange(header, 100), undefined, header);
    for (const header of ['bytes=100-', 'bytes=5-2', 'bytes=-0']) assert.equal(parseRange(header, 100), 'unsatisfiable', header);
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  });
});
