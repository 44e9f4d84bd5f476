import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationOf, formatBytes, formatSeconds } from './format.js';

void test('sizes and durations as people read them', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(300 * 1024 * 1024), '300 MiB');
  assert.equal(formatSeconds(4.24), '4.2 s');
  assert.equal(formatSeconds(185), '3 min 05 s');
  assert.equal(formatSeconds(3720), '1 h 02 min');
  assert.equal(durationOf(undefined, undefined, 0), undefined);
  assert.equal(durationOf('2026-01-01T00:00:00Z', '2026-01-01T00:01:30Z', 0), 90);
  assert.equal(durationOf('2026-01-01T00:00:00Z', undefined, Date.parse('2026-01-01T00:00:10Z')), 10);
});
