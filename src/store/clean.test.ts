import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseFrom, chooseKeepLast, type CleanEntry } from './clean.js';

const at = (day: number) => new Date(Date.UTC(2026, 0, day));
// Recipe a built three times on one shared bootstrap (b): leaves a1 (day 1), a2 (day 3), a3 (day 2).
// Recipe z built once, reusing the same bootstrap entry b.
const entries: CleanEntry[] = [
  { id: 'b', input: null, recipe: 'a.yaml', bytes: 100, lastUsed: at(3) },
  { id: 'a1', input: 'b', recipe: 'a.yaml', bytes: 1, lastUsed: at(1) },
  { id: 'a2', input: 'b', recipe: 'a.yaml', bytes: 2, lastUsed: at(3) },
  { id: 'a3x', input: 'b', recipe: 'a.yaml', bytes: 3, lastUsed: at(2) },
  { id: 'a3', input: 'a3x', recipe: 'a.yaml', bytes: 4, lastUsed: at(2) },
  { id: 'z1', input: 'b', recipe: 'z.yaml', bytes: 5, lastUsed: at(1) },
];
const sorted = (s: Set<string>) => [...s].sort();

void test('--keep-last keeps the builds used last per recipe, with every entry under them', () => {
  assert.deepEqual(sorted(chooseKeepLast(entries, 1)), ['a1', 'a3', 'a3x']);
  assert.deepEqual(sorted(chooseKeepLast(entries, 2)), ['a1']);
  assert.deepEqual(sorted(chooseKeepLast(entries, 3)), []);
});

void test('--keep-last 0 removes a recipe entirely but keeps what another recipe stands on', () => {
  assert.deepEqual(sorted(chooseKeepLast(entries, 0, 'a.yaml')), ['a1', 'a2', 'a3', 'a3x']);
  assert.deepEqual(sorted(chooseKeepLast(entries, 0)), ['a1', 'a2', 'a3', 'a3x', 'b', 'z1']);
});

void test('--from removes the stage, the later ones and whatever is stacked on them', () => {
  assert.deepEqual(sorted(chooseFrom(entries, ['a3x', 'a3'])), ['a3', 'a3x']);
  assert.deepEqual(sorted(chooseFrom(entries, ['b'])), ['a1', 'a2', 'a3', 'a3x', 'b', 'z1']);
  assert.deepEqual(sorted(chooseFrom(entries, ['not-stored'])), []);
});
