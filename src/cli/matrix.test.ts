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

void test('release=bookworm,trixie is two builds that replace distro.release, combined with arch', () => {
  assert.deepEqual(parseMatrix(['release=bookworm,trixie']), [
    { label: 'bookworm', release: 'bookworm', set: {} },
    { label: 'trixie', release: 'trixie', set: {} },
  ]);
  assert.deepEqual(parseMatrix(['arch=amd64,arm64', 'release=bookworm,trixie']).map((v) => [v.label, v.arch, v.release]), [
    ['amd64-bookworm', 'amd64', 'bookworm'],
    ['amd64-trixie', 'amd64', 'trixie'],
    ['arm64-bookworm', 'arm64', 'bookworm'],
    ['arm64-trixie', 'arm64', 'trixie'],
  ]);
});

void test('a release kiln has no table entry for is refused naming the flag', () => {
  assert.throws(
    () => parseMatrix(['release=trixie,buster']),
    (e) => e instanceof UserError && e.message === '--matrix release=trixie,buster: "buster" is not a Debian release kiln builds (bookworm, trixie, forky, sid, oldstable, stable, testing, unstable)',
  );
});
