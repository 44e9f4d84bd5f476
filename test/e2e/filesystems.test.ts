/**
 * Every file system kind on one disk (examples/data-partition.yaml): each passes its own checker,
 * and the image boots with every one of them mounted or swapped on by systemd. Then a read-only
 * partition too small for its content fails the build, saying by how much.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertLoginPrompt, bootCheck, kiln, partitions, plain, run, scratch, sharedCache } from './kiln.js';

const cache = sharedCache('filesystems');

void test('filesystems: ext4, ext2, vfat, swap, squashfs, erofs and btrfs each check clean and are mounted at boot', async () => {
  const out = join(scratch('filesystems'), 'out');
  // The vm layer's short initramfs: this test is about the file systems, not the initramfs.
  const built = await kiln(['build', 'examples/data-partition.yaml', '--layer', 'vm', '--layer', 'emulated', '-o', out], { KILN_CACHE: cache });
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  const image = join(out, 'data-partition.raw');
  assert.match(run('sgdisk', ['-v', image]), /No problems found/);
  const parts = partitions(image);
  assert.deepEqual(parts.map((p) => p.name), ['esp', 'root', 'swap', 'docs', 'licenses', 'home', 'srv']);
  const extract = (index: number) => {
    const p = parts[index];
    assert.ok(p);
    const file = join(out, `${p.name}.part`);
    run('dd', [`if=${image}`, `of=${file}`, 'bs=512', `skip=${p.start}`, `count=${p.size}`, 'conv=sparse', 'status=none']);
    return file;
  };
  run('fsck.fat', ['-n', extract(0)]);
  // bootloader: grub-efi: the ESP's removable-media loader is GRUB, and grub.cfg is on the root.
  assert.match(run('sh', ['-c', `mtype -i '${extract(0)}' ::/EFI/BOOT/BOOTX64.EFI | strings | grep -m1 -o 'GRUB' || true`]), /GRUB/);
  run('e2fsck', ['-fn', extract(1)]);
  assert.match(run('blkid', ['-p', '-o', 'export', extract(2)]), /TYPE=swap/);
  assert.match(run('unsquashfs', ['-l', extract(3)]), /squashfs-root\/systemd\/copyright/);
  run('fsck.erofs', [extract(4)]);
  assert.match(run('blkid', ['-p', '-o', 'export', extract(4)]), /TYPE=erofs/);
  run('e2fsck', ['-fn', extract(5)]);
  assert.match(run('blkid', ['-p', '-o', 'export', extract(5)]), /TYPE=ext2/);
  run('btrfs', ['check', '--readonly', extract(6)]);
  assert.match(run('blkid', ['-p', '-o', 'export', extract(6)]), /LABEL=srv/);

  const console = plain(await bootCheck(image));
  // systemd shortens long unit names on the console; each line ends with the mount point.
  for (const mount of ['/srv', '/usr/share/doc', '/usr/share/common-licenses', '/home']) {
    assert.match(console, new RegExp(`Mounted \\S.* - ${mount}\\.`), `${mount} was mounted:\n${console.slice(-3000)}`);
  }
  // The ESP is mounted when first used: boot does not wait for it.
  assert.match(console, /Set up automount boot-efi\.automount\./);
  assert.match(console, /Activated swap/);
  assert.doesNotMatch(console, /Failed to mount/);
  assertLoginPrompt(console, 'data-partition');
});

void test('filesystems: a partition too small for its content fails before any file system is made, saying by how much', async () => {
  const folder = scratch('filesystems-small');
  const recipe = join(folder, 'small.yaml');
  writeFileSync(recipe, readFileSync('examples/data-partition.yaml', 'utf8').replace('size: 64M, fs: squashfs', 'size: 1M, fs: squashfs'));
  const built = await kiln(['build', recipe, '--layer', 'vm', '--layer', 'emulated', '-o', join(folder, 'out')], { KILN_CACHE: cache });
  assert.equal(built.code, 1, built.stderr);
  assert.match(built.stderr, /stage partition-table failed: disk layout: partitions\[3\] \("docs"\) is 1 MiB, but its contents need [\d.]+ [KM]iB \([\d.]+ [KM]iB missing\)/);
});
