/**
 * The live ISO (examples/live.yaml): one hybrid file that boots from a CD or a USB stick, with
 * BIOS and UEFI, into the image's own system running from RAM, and never touches the machine's disk.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Console, withConsole } from './console.js';
import { assertLoginPrompt, blankDisk, bootCheck, kiln, run, scratch, sharedCache } from './kiln.js';

const cache = sharedCache('iso');

interface GptTable {
  partitiontable: { label: string; partitions: { type: string }[] };
}

void test('live ISO: hybrid layout, the image tree as a squashfs, boots with UEFI (CD) and BIOS to the image login', async () => {
  const dir = scratch('iso');
  const out = join(dir, 'out');
  const built = await kiln(['build', 'examples/live.yaml', '--layer', 'vm', '--layer', 'emulated', '-o', out], { KILN_CACHE: cache });
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  const iso = join(out, 'live.iso');

  // The medium: the label live-boot looks for, El Torito entries for BIOS and UEFI (CD), and a
  // partition table with an EFI system partition (USB stick).
  assert.match(run('xorriso', ['-indev', iso, '-pvd_info']), /Volume Id\s*:\s*KILN_LIVE/);
  const torito = run('xorriso', ['-indev', iso, '-report_el_torito', 'plain']);
  assert.match(torito, /boot img :\s+\d+\s+BIOS\s+y/);
  assert.match(torito, /boot img :\s+\d+\s+UEFI\s+y/);
  const table = (JSON.parse(run('sfdisk', ['-J', iso])) as GptTable).partitiontable;
  assert.ok(table.partitions.some((p) => p.type === 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'), 'no EFI system partition for USB sticks');
  const files = run('xorriso', ['-indev', iso, '-ls', '/live']);
  for (const name of ['filesystem.squashfs', 'vmlinuz', 'initrd.img']) assert.match(files, new RegExp(`'${name}'`));

  // The root tree: the recipe's files, and an fstab that mounts no partition of a disk it does not have.
  const squashfs = join(dir, 'filesystem.squashfs');
  run('osirrox', ['-indev', iso, '-extract', '/live/filesystem.squashfs', squashfs]);
  assert.equal(run('unsquashfs', ['-cat', squashfs, 'etc/hostname']).trim(), 'kiln-live');
  assert.match(run('unsquashfs', ['-cat', squashfs, 'etc/motd']), /Running live/);
  assert.doesNotMatch(run('unsquashfs', ['-cat', squashfs, 'etc/fstab']), /^[^#\s]/m);
  // The vm layer: no modules for hardware a VM never has; those of QEMU's own devices stay.
  const modules = run('unsquashfs', ['-l', squashfs, 'usr/lib/modules']);
  // (dpkg leaves the folders of the files it left out.)
  assert.doesNotMatch(modules, /\/kernel\/(sound|drivers\/net\/wireless|drivers\/media|drivers\/gpu\/drm\/amd)\/\S*\.ko/);
  assert.match(modules, /\/kernel\/drivers\/net\/ethernet\/intel\/e1000\/e1000\.ko/);
  assert.match(modules, /\/kernel\/drivers\/net\/virtio_net\.ko/);

  // UEFI from the CD drive, with a blank disk the live system must leave alone.
  const disk = blankDisk(join(dir, 'blank.raw'), 1 << 30);
  await withConsole(() => Console.start(iso, undefined, [disk]), async (vm) => {
    await vm.login('root', 'root');
    assert.match((await vm.run('hostname')).out, /^kiln-live$/m);
    assert.match((await vm.run('cat /etc/motd')).out, /Running live from kiln/);
    // The root is live-boot's overlay: the squashfs below, RAM on top, so writing works.
    assert.match((await vm.run('findmnt -n -o FSTYPE /')).out, /^overlay$/m);
    assert.equal((await vm.run('touch /root/written && ls /root/written')).status, 0);
    const state = await vm.run('systemctl is-system-running --wait; systemctl --failed --no-legend', 300);
    assert.match(state.out, /^running$/m, `units failed:\n${state.out}`);
    assert.match((await vm.run('lsblk -dn -o SIZE /dev/vda')).out, /^\s*1G$/m);
    // QEMU's virtio NIC has its driver, and the link is there.
    assert.match((await vm.run('ls -1 /sys/class/net')).out, /^(en|eth)\S+$/m);
  });
  assert.equal(run('sh', ['-c', `du -k '${disk}' | cut -f1`]).trim(), '0', 'the live system wrote to the disk');

  // BIOS (SeaBIOS, El Torito) through `kiln boot`, which attaches the ISO as a CD and a blank disk.
  const bios = await bootCheck(iso, ['--firmware', 'bios', '--disk', '1G']);
  assertLoginPrompt(bios, 'kiln-live');
});
