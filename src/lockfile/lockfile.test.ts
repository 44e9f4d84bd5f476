import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../errors.js';
import { debOfFileName, lockMismatches, lockText, readLock, type LockFile } from './lockfile.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const LOCK: LockFile = {
  kilnLock: 1,
  distro: { name: 'debian', release: 'bookworm', mirror: 'http://deb.debian.org/debian' },
  arch: 'amd64',
  sourceDateEpoch: 1783764997,
  packages: [
    { name: 'zstd', version: '1.5.4+dfsg2-5', arch: 'amd64', sha256: A, auto: true },
    { name: 'systemd', version: '1:252.39-1~deb12u2', arch: 'amd64', sha256: B },
  ],
};

void test('a .deb file name gives name, version (epoch colon restored) and arch', () => {
  assert.deepEqual(debOfFileName('systemd_1%3a252.39-1~deb12u2_amd64.deb'), { name: 'systemd', version: '1:252.39-1~deb12u2', arch: 'amd64' });
  assert.deepEqual(debOfFileName('tzdata_2026b-0+deb12u1_all.deb'), { name: 'tzdata', version: '2026b-0+deb12u1', arch: 'all' });
  assert.equal(debOfFileName('partial.deb'), undefined);
});

void test('the lock is written sorted and read back', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'kiln.lock');
  writeFileSync(file, lockText(LOCK));
  const back = readLock(file);
  assert.deepEqual(back.packages.map((p) => p.name), ['systemd', 'zstd']);
  assert.deepEqual(back.packages.map((p) => p.auto), [undefined, true]);
  assert.deepEqual({ ...back, packages: [] }, { ...LOCK, packages: [] });
});

void test('a file that is not a lock is exit 2 with what is wrong', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bad.lock'), '{ "kilnLock": 1, "arch": "amd64" }');
  assert.throws(() => readLock(join(dir, 'bad.lock')), (e) => e instanceof UserError && /--lock .*bad\.lock: distro: .*; give the kiln\.lock a build wrote/.test(e.message));
  writeFileSync(join(dir, 'text.lock'), 'hello');
  assert.throws(() => readLock(join(dir, 'text.lock')), (e) => e instanceof UserError && /not JSON/.test(e.message));
});

void test('mismatches name the package: other bytes, or not installed', () => {
  assert.deepEqual(lockMismatches(LOCK, LOCK.packages), []);
  assert.deepEqual(lockMismatches(LOCK, [{ ...LOCK.packages[0]!, sha256: B }]), [
    `zstd 1.5.4+dfsg2-5 (amd64) has sha256 ${B.slice(0, 12)}…, the lock says ${A.slice(0, 12)}…`,
    'systemd 1:252.39-1~deb12u2 (amd64) was not installed',
  ]);
});
