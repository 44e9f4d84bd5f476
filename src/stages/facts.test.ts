import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkMadeFacts, storedFacts } from './facts.js';

const KERNEL = { version: '6.1.0-28-amd64', vmlinuz: '/boot/vmlinuz-6.1.0-28-amd64', initrd: '/boot/initrd.img-6.1.0-28-amd64' };

void test('a stage returns exactly the facts it makes, each as its schema says', () => {
  assert.deepEqual(checkMadeFacts('kernel', ['kernel'], { kernel: KERNEL }), { kernel: KERNEL });
  assert.deepEqual(checkMadeFacts('files', [], undefined), {});
  assert.throws(() => checkMadeFacts('kernel', ['kernel'], undefined), { message: 'stage kernel makes kernel but returned none' });
  assert.throws(() => checkMadeFacts('files', [], { image: 'a.raw' }), { message: 'stage files makes no facts but returned image' });
  assert.throws(() => checkMadeFacts('kernel', ['kernel'], { kernel: { version: 6 } }), /^Error: stage kernel returned facts that do not match their schemas/);
  assert.throws(() => checkMadeFacts('kernel', ['kernel'], { kernel: KERNEL, kernal: KERNEL }), /unrecognized key/i);
});

void test('facts read back from the store are checked; keys no stage makes are dropped', () => {
  assert.deepEqual(storedFacts({ sourceDateEpoch: 1700000000, image: 'a.raw', old: true }), { sourceDateEpoch: 1700000000, image: 'a.raw' });
  assert.throws(() => storedFacts({ sourceDateEpoch: '1700000000' }), /a store entry's facts do not match their schemas/);
});
