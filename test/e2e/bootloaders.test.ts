/**
 * GRUB without grub-install or loop devices: an MBR disk booted by SeaBIOS, and one GPT disk
 * (grub-hybrid) booted both by SeaBIOS and by OVMF, the latter from its qcow2 output.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertLoginPrompt, bootCheck, Ext4, kiln, run, scratch, sharedCache } from './kiln.js';

const cache = sharedCache('bootloaders');

/** With the vm layer's short initramfs and the emulated layer's faster boot: these tests are about the boot loader. */
async function build(recipe: string): Promise<string> {
  const out = join(scratch('bootloaders'), 'out');
  const built = await kiln(['build', recipe, '--layer', 'vm', '--layer', 'emulated', '-o', out], { KILN_CACHE: cache });
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  return out;
}

interface SfdiskTable {
  partitiontable: { label: string; id: string; partitions: { start: number; size: number; type: string; bootable?: boolean }[] };
}

void test('grub-bios on an MBR disk boots with SeaBIOS', async () => {
  const out = await build('examples/bios-mbr.yaml');
  const image = join(out, 'bios-mbr.raw');
  const table = (JSON.parse(run('sfdisk', ['-J', image])) as SfdiskTable).partitiontable;
  assert.equal(table.label, 'dos');
  assert.equal(table.partitions.length, 1);
  assert.equal(table.partitions[0]?.type, '83');
  assert.equal(table.partitions[0]?.bootable, true);
  assert.equal(table.partitions[0]?.start, 2048);
  assert.doesNotMatch(run('fdisk', ['-l', image]), /does not start on physical sector boundary|Partition table entries are not in disk order/);
  const root = { start: 2048, size: 0, name: 'root', uuid: '' };
  run('e2fsck', ['-fn', `${image}?offset=${root.start * 512}`]);
  const fs = new Ext4(image, root);
  assert.match(fs.cat('/boot/grub/grub.cfg'), new RegExp(`root=PARTUUID=${table.id.replace(/^0x/, '')}-01 rw`));
  // boot.img's code is in the MBR (GRUB's signature string), the table is intact.
  assert.match(run('sh', ['-c', `head -c 440 '${image}' | strings`]), /GRUB/);
  const console = await bootCheck(image, ['--firmware', 'bios']);
  assertLoginPrompt(console, 'bios-mbr');
});

void test('grub-hybrid: one GPT disk boots with SeaBIOS (raw) and with OVMF (qcow2)', async () => {
  const out = await build('examples/hybrid.yaml');
  const image = join(out, 'hybrid.raw');
  assert.match(run('sgdisk', ['-v', image]), /No problems found/);
  for (const format of ['qcow2', 'vmdk']) run('qemu-img', ['check', join(out, `hybrid.${format}`)]);
  const bios = await bootCheck(image, ['--firmware', 'bios']);
  assertLoginPrompt(bios, 'hybrid');
  const uefi = await bootCheck(join(out, 'hybrid.qcow2'));
  assertLoginPrompt(uefi, 'hybrid');
});
