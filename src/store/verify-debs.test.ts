import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveName, indexHashes, linkVerified } from './verify-debs.js';

void test('apt names archives name_version_arch.deb with the epoch colon as %3a', () => {
  assert.equal(archiveName('zstd', '1.5.4+dfsg2-5', 'amd64'), 'zstd_1.5.4+dfsg2-5_amd64.deb');
  assert.equal(archiveName('systemd', '1:252.38-1', 'amd64'), 'systemd_1%3a252.38-1_amd64.deb');
});

void test('hashes come from each stanza of the Packages index', () => {
  const packages = [
    'Package: zstd\nVersion: 1.5.4+dfsg2-5\nArchitecture: amd64\nSize: 10\nSHA256: AB12\nDescription: x\n',
    'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\nMD5sum: 00\n',
    'Package: zstd\nVersion: 1.5.4+dfsg2-5\nArchitecture: amd64\nSHA256: cd34\n',
  ].join('\n');
  const index = indexHashes([packages]);
  assert.deepEqual([...(index.get('zstd_1.5.4+dfsg2-5_amd64.deb') ?? [])], ['ab12', 'cd34']);
  assert.equal(index.has('base-files_12.4+deb12u5_amd64.deb'), false, 'no SHA256, no trust');
});

void test('only whole lines count: a description line or a longer field name is not a field', () => {
  const packages = 'Package: hello\nPackage-Type: udeb\nVersion: 2.10-3\nArchitecture: amd64\nDescription: x\n SHA256: 666\nSHA256: 1f2e';
  assert.deepEqual([...(indexHashes([packages]).get('hello_2.10-3_amd64.deb') ?? [])], ['1f2e']);
});

void test('only the wanted packages are indexed; blank lines between stanzas and a last line without a newline are fine', () => {
  const packages = Buffer.from('Package: zstd\nVersion: 1\nArchitecture: amd64\nSHA256: aa\n\n\n\nPackage: hello\nVersion: 2\nArchitecture: amd64\nSHA256: bb\n\nArchitecture: all\nPackage: tzdata\nSHA256: cc\nVersion: 3');
  assert.deepEqual([...indexHashes([packages], new Set(['zstd', 'tzdata'])).keys()], ['zstd_1_amd64.deb', 'tzdata_3_all.deb']);
  assert.deepEqual([...indexHashes([packages]).keys()], ['zstd_1_amd64.deb', 'hello_2_amd64.deb', 'tzdata_3_all.deb']);
  // A stanza shorter than a field's name, at the very end: no field, no error.
  assert.equal(indexHashes([Buffer.from('Package: zstd\nVersion: 1\nArchitecture: amd64\nSHA256: aa\n\nPackage: a')]).size, 1);
});

void test('only cached .debs the index vouches for are linked; skipped names are neither hashed nor linked', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-verify-'));
  try {
    const [cache, archives, lists] = [join(dir, 'cache'), join(dir, 'archives'), join(dir, 'lists')] as const;
    for (const d of [cache, archives, lists]) mkdirSync(d);
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    writeFileSync(join(cache, 'hello_2_amd64.deb'), 'hello');
    writeFileSync(join(cache, 'zstd_1_amd64.deb'), 'corrupted');
    writeFileSync(join(cache, 'udev_3_amd64.deb'), 'udev');
    const stanza = (name: string, version: string, text: string) => `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\nSHA256: ${sha(text)}\n`;
    writeFileSync(join(lists, 'deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages'), [stanza('hello', '2', 'hello'), stanza('zstd', '1', 'zstd'), stanza('udev', '3', 'udev')].join('\n'));
    const result = await linkVerified(cache, archives, lists, new Set(['udev_3_amd64.deb']));
    assert.deepEqual(result, { linked: 1, refused: ['not using cached zstd_1_amd64.deb: its SHA256 does not match the signed index'] });
    assert.ok(existsSync(join(archives, 'hello_2_amd64.deb')));
    assert.ok(!existsSync(join(archives, 'zstd_1_amd64.deb')));
    assert.ok(!existsSync(join(archives, 'udev_3_amd64.deb')), 'an installed version apt will not fetch again is left out');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
