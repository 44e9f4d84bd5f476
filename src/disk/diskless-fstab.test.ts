import assert from 'node:assert/strict';
import { test } from 'node:test';
import { disklessFstab } from './diskless-fstab.js';

void test("an fstab without the disk's partitions keeps tmpfs and network entries", () => {
  const fstab = [
    'UUID=0b0c / ext4 rw 0 1',
    'PARTUUID=1234-02 /data ext4 rw 0 2',
    'PARTLABEL=esp /boot/efi vfat umask=0077 0 2',
    'LABEL=swap none swap sw 0 0',
    '/dev/vdb1 /srv ext4 rw 0 2',
    'tmpfs /tmp tmpfs nosuid,nodev 0 0',
    'server:/export /mnt nfs defaults 0 0',
  ].join('\n');
  assert.equal(disklessFstab(fstab, 'why'), '# why\ntmpfs /tmp tmpfs nosuid,nodev 0 0\nserver:/export /mnt nfs defaults 0 0');
});
