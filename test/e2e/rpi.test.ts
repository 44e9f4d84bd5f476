/**
 * The Raspberry Pi image (examples/rpi.yaml), built on amd64: its FAT partition holds Debian's
 * firmware, DTBs, kernel, initramfs, config.txt and a cmdline.txt whose PARTUUID is the root
 * partition's in the MBR; `kiln boot` runs its own kernel and DTB under -M raspi3b to a login
 * prompt on the GPIO serial port (ttyS1), after growroot filled the (larger) SD card.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootCheck, Ext4, fatFile, kiln, partitions, run, scratch, sharedCache } from './kiln.js';

const cache = sharedCache('rpi');

void test('rpi: firmware partition as Debian makes it, root by PARTUUID, boots under raspi3b', async () => {
  const out = join(scratch('rpi'), 'out');
  const built = await kiln(['build', 'examples/rpi.yaml', '--layer', 'emulated', '-o', out], { KILN_CACHE: cache });
  assert.equal(built.code, 0, built.stderr.slice(-3000));
  const image = join(out, 'rpi.raw');

  const table = JSON.parse(run('sfdisk', ['-J', image])) as { partitiontable: { label: string; id: string; partitions: { start: number; size: number; type: string }[] } };
  assert.equal(table.partitiontable.label, 'dos');
  const [firmware, root] = partitions(image);
  assert.ok(firmware && root);
  assert.deepEqual(table.partitiontable.partitions.map((p) => p.type), ['c', '83']);

  const files = run('mdir', ['-b', '-i', `${image}@@${firmware.start * 512}`, '::/']);
  for (const name of ['bootcode.bin', 'start.elf', 'fixup.dat', 'start4.elf', 'fixup4.dat', 'bcm2837-rpi-3-b.dtb', 'bcm2711-rpi-4-b.dtb', 'config.txt', 'cmdline.txt']) {
    assert.match(files, new RegExp(`::/${name.replace(/\./g, '\\.')}\\s*$`, 'm'), `${name} on the firmware partition`);
  }
  assert.match(files, /::\/vmlinuz-\d+\.\d+\.\S+-arm64/);
  assert.match(files, /::\/initrd\.img-\d+\.\d+\.\S+-arm64/);

  const config = fatFile(image, firmware, '/config.txt');
  for (const line of ['arm_64bit=1', 'enable_uart=1', 'upstream_kernel=1']) assert.match(config, new RegExp(`^${line}$`, 'm'));
  assert.match(config, /^kernel=vmlinuz-\d+\.\d+\.\S+-arm64$/m);
  assert.match(config, /^initramfs initrd\.img-\d+\.\d+\.\S+-arm64$/m);

  // The disk id in the MBR, and the root partition's number: what PARTUUID means on MBR.
  const cmdline = fatFile(image, firmware, '/cmdline.txt');
  const diskId = table.partitiontable.id.replace(/^0x/, '').toLowerCase();
  assert.match(cmdline, new RegExp(`root=PARTUUID=${diskId}-02 rw`));
  assert.match(cmdline, /console=tty0 console=ttyS1,115200/);
  // BOARD=3 keeps Debian's CMA; the settings are kept for kernel upgrades on the board.
  assert.match(cmdline, /cma=64M/);
  // A layer's kernel arguments (emulated: no page zeroing under TCG) reach cmdline.txt too.
  assert.match(cmdline, / init_on_alloc=0\b/);
  const defaults = new Ext4(image, root).cat('/etc/default/raspi-firmware');
  assert.match(defaults, new RegExp(`^ROOTPART=PARTUUID=${diskId}-02$`, 'm'));
  assert.match(defaults, /^CONSOLES="tty0 ttyS1,115200"$/m);

  // The bootstrap made no initramfs and the firmware packages' updates of it were left to the kernel
  // stage (after the layers' package sets), which made it once; its post-update hook copied it to
  // the firmware partition, so both copies are the same. Nothing later changed what it is made from.
  const record = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { stages: { name: string; cached: boolean }[] };
  if (!record.stages.find((s) => s.name === 'kernel')?.cached) {
    const log = readFileSync(join(out, 'build.log'), 'utf8');
    assert.match(log, /layer raspberrypi: the initramfs update it asked for is left to kiln/);
    assert.match(log, /\[kernel\] the initramfs: made once/);
  }
  if (!record.stages.find((s) => s.name === 'initramfs')?.cached) {
    assert.match(readFileSync(join(out, 'build.log'), 'utf8'), /\[initramfs\] the initramfs the kernel stage made is current/);
  }
  const initrd = /::\/(initrd\.img-\S+)/.exec(files)?.[1] ?? '';
  const dir = scratch('rpi-initrd');
  run('mcopy', ['-n', '-i', `${image}@@${firmware.start * 512}`, `::/${initrd}`, join(dir, 'firmware')]);
  run('debugfs', ['-R', `dump /boot/${initrd} ${join(dir, 'root')}`, new Ext4(image, root).spec]);
  const sha = (f: string) => createHash('sha256').update(readFileSync(join(dir, f))).digest('hex');
  assert.equal(sha('firmware'), sha('root'), 'the firmware partition has the initramfs the kernel stage made');

  const console = await bootCheck(image);
  assert.match(console, /Machine model: Raspberry Pi 3 Model B/);
  assert.match(console, /EXT4-fs \(mmcblk0p2\): mounted filesystem/);
  assert.match(console, /kiln-growroot\[\d+\]: kiln-growpart: partition 2 of \/dev\/mmcblk0 grew from \d+ MiB to \d+ MiB/);
  assert.match(console, /Debian GNU\/Linux \d+ rpi ttyS1/);
});
