import assert from 'node:assert/strict';
import { test } from 'node:test';
import { choosePrune, parseDuration, type CacheItem } from './prune.js';

const day = 86400_000;
const now = new Date('2026-11-22T12:00:00Z');
const ago = (days: number) => new Date(now.getTime() - days * day);

// A chain a -> b -> c (c stacks on b, b on a), a second chain x -> y, and two packages.
const items: CacheItem[] = [
  { key: 'a', kind: 'stage', bytes: 600, lastUsed: ago(1), input: null },
  { key: 'b', kind: 'stage', bytes: 10, lastUsed: ago(1), input: 'a' },
  { key: 'c', kind: 'stage', bytes: 300, lastUsed: ago(1), input: 'b' },
  { key: 'x', kind: 'stage', bytes: 500, lastUsed: ago(20), input: null },
  { key: 'y', kind: 'stage', bytes: 5, lastUsed: ago(3), input: 'x' },
  { key: 'p1.deb', kind: 'package', bytes: 50, lastUsed: ago(30) },
  { key: 'p2.deb', kind: 'package', bytes: 50, lastUsed: ago(2) },
];

const sorted = (s: Set<string>) => [...s].sort();

void test('nothing is removed without a policy except orphans', () => {
  assert.deepEqual(sorted(choosePrune(items, { now })), []);
  const orphan: CacheItem = { key: 'o', kind: 'stage', bytes: 1, lastUsed: ago(0), input: 'gone' };
  assert.deepEqual(sorted(choosePrune([...items, orphan], { now })), ['o']);
});

void test('--older-than removes items unused for longer, and the entries built on them', () => {
  // x was last used 20 days ago; y (3 days) stacks on x and is useless without it.
  assert.deepEqual(sorted(choosePrune(items, { now, olderThanMs: 14 * day })), ['p1.deb', 'x', 'y']);
});

void test('--max-size removes the least recently used first until the rest fits', () => {
  // Total 1515. Oldest first: p1 (30 d) -> 1465, x (20 d) and y stacked on it -> 960 <= 1000: stop.
  // The recently used chain a -> b -> c and p2 stay.
  assert.deepEqual(sorted(choosePrune(items, { now, maxBytes: 1000 })), ['p1.deb', 'x', 'y']);
  // 960 > 950: p2 (2 d) goes too -> 910.
  assert.deepEqual(sorted(choosePrune(items, { now, maxBytes: 950 })), ['p1.deb', 'p2.deb', 'x', 'y']);
});

void test('removing the base of a chain removes the whole chain', () => {
  assert.deepEqual(sorted(choosePrune(items, { now, maxBytes: 0 })), ['a', 'b', 'c', 'p1.deb', 'p2.deb', 'x', 'y']);
  const onlyA = items.map((i) => (i.key === 'a' ? { ...i, lastUsed: ago(100) } : i));
  assert.deepEqual(sorted(choosePrune(onlyA, { now, olderThanMs: 50 * day })), ['a', 'b', 'c']);
});

void test('durations', () => {
  assert.equal(parseDuration('14d'), 14 * day);
  assert.equal(parseDuration('12h'), 12 * 3600_000);
  assert.equal(parseDuration('2w'), 14 * day);
  assert.equal(parseDuration('30m'), 1800_000);
  assert.equal(parseDuration('14'), undefined);
  assert.equal(parseDuration('two weeks'), undefined);
});
