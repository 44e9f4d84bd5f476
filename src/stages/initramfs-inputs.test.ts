/** What counts as a change to what the initramfs is made from, and the changes read from layers on disk. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { changesIn, firstInput, normalize, type Change } from './initramfs-inputs.js';

const file = (path: string, stage = 'packages'): Change => ({ path, stage, folder: false });
const folder = (path: string, stage = 'packages'): Change => ({ path, stage, folder: true });
const INITRD = new Set(['usr/bin/kmod', 'usr/lib/x86_64-linux-gnu/libc.so.6', 'lib', 'bin', 'etc/ld.so.cache', 'usr/lib/udev/rules.d/60-block.rules']);

void test('a merged-/usr path has one spelling', () => {
  assert.equal(normalize('usr/lib/modules/6.12'), 'lib/modules/6.12');
  assert.equal(normalize('/lib/modules/'), 'lib/modules');
  assert.equal(normalize('usr/share/initramfs-tools/hooks/x'), 'share/initramfs-tools/hooks/x');
  assert.equal(normalize('usr/local/bin/x'), 'usr/local/bin/x');
  assert.equal(normalize('etc/fstab'), 'etc/fstab');
});

void test('a new program, its documentation and the folders above it leave the initramfs as it is', () => {
  const changes = [folder('usr'), folder('usr/bin'), file('usr/bin/hello'), folder('usr/lib'), folder('usr/share/doc/hello'), file('usr/share/doc/hello/copyright'), file('etc/ld.so.cache'), file('etc/passwd', 'users')];
  assert.equal(firstInput(changes, INITRD), undefined);
});

void test('a file the initramfs has a copy of, a hook, a module, firmware or a setting it reads makes it again', () => {
  assert.deepEqual(firstInput([file('usr/bin/hello'), file('usr/lib/x86_64-linux-gnu/libc.so.6')], INITRD), file('usr/lib/x86_64-linux-gnu/libc.so.6'));
  // The initramfs holds /usr/bin/kmod; the layer has it under either spelling of a merged /usr.
  assert.ok(firstInput([file('bin/kmod')], INITRD));
  for (const path of ['usr/share/initramfs-tools/hooks/cryptroot', 'etc/initramfs-tools/modules', 'usr/lib/modules/6.12.57+deb13-amd64/updates/x.ko', 'usr/lib/firmware/iwlwifi.ucode', 'etc/modprobe.d/blacklist.conf', 'etc/crypttab', 'etc/fstab', 'etc/initramfs/post-update.d/z50-raspi-firmware', 'etc/udev/rules.d/70-x.rules', 'etc/systemd/network/10-lan.link', 'usr/sbin/mkinitramfs', 'usr/bin/zstd']) {
    assert.ok(firstInput([file(path, 'files')], INITRD), path);
  }
  // A folder counts when it is one of the inputs: an emptied module folder is a change too.
  assert.ok(firstInput([folder('usr/lib/modules')], INITRD));
  // Not a prefix of a name: /etc/fstab.bak is not /etc/fstab.
  assert.equal(firstInput([file('etc/fstab.bak'), file('etc/udevx')], INITRD), undefined);
});

void test('the changes of layers on disk: every path, with the stage that made it and whether it is a folder', async () => {
  const base = mkdtempSync(join(tmpdir(), 'kiln-layers-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  mkdirSync(join(base, 'a/usr/bin'), { recursive: true });
  writeFileSync(join(base, 'a/usr/bin/hello'), '');
  mkdirSync(join(base, 'b/etc'), { recursive: true });
  writeFileSync(join(base, 'b/etc/crypttab'), '');
  const changes = await changesIn([{ stage: 'packages', tree: join(base, 'a') }, { stage: 'files', tree: join(base, 'b') }]);
  assert.deepEqual(changes, [folder('usr'), folder('usr/bin'), file('usr/bin/hello'), folder('etc', 'files'), file('etc/crypttab', 'files')]);
  assert.deepEqual(firstInput(changes, INITRD), file('etc/crypttab', 'files'));
});
