import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../errors.js';
import { parseMatrix } from './matrix.js';

void test('no --matrix is one build in the usual folder', () => {
  assert.deepEqual(parseMatrix([]), [{ label: '', set: {} }]);
});

void test('arch=amd64,arm64 is two builds, each labelled by its arch', () => {
  assert.deepEqual(parseMatrix(['arch=amd64,arm64']), [
    { label: 'amd64', arch: 'amd64', set: {} },
    { label: 'arm64', arch: 'arm64', set: {} },
  ]);
});

void test('two keys build every combination; a variable key sets the variable', () => {
  assert.deepEqual(parseMatrix(['arch=amd64,arm64', 'BOARD=3,4']).map((v) => [v.label, v.arch, v.set.BOARD]), [
    ['amd64-3', 'amd64', '3'],
    ['amd64-4', 'amd64', '4'],
    ['arm64-3', 'arm64', '3'],
    ['arm64-4', 'arm64', '4'],
  ]);
});

void test('malformed, repeated or unsafe entries are exit 2 with an example', () => {
  for (const bad of [['arch'], ['arch='], ['=amd64'], ['arch=amd64,../x'], ['arch=amd64,amd64'], ['arch=amd64', 'arch=arm64']]) {
    assert.throws(() => parseMatrix(bad), (e) => e instanceof UserError && /^--matrix /.test(e.message), bad.join(' '));
  }
});
