import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Id } from '../protocol.js';
import { idTime, newId } from './ids.js';

void test('ids match the protocol, carry their time, and sort by creation even within one millisecond', () => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  const ids = [newId(at - 1), newId(at), newId(at), newId(at), newId(at + 1)];
  for (const id of ids) assert.ok(Id.safeParse(id).success, id);
  assert.equal(ids[0]?.length, 26);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(idTime(ids[1] ?? ''), at);
  // A clock that steps back still yields increasing ids.
  const back = newId(at - 1000);
  assert.ok(back > (ids[4] ?? ''));
});
