import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';

const SECTOR = 512;
/** Where boot.img keeps the sector core.img starts at (GRUB_BOOT_MACHINE_KERNEL_SECTOR). */
const KERNEL_SECTOR = 0x5c;
/** The blocklist at the end of core.img's first sector: where the rest of it starts (8 bytes). */
const BLOCKLIST_START = SECTOR - 12;
/** boot.img's code ends where the disk signature and partition table begin. */
const BOOT_CODE = 440;

export const grubBiosInstall = defineStage({
  name: 'grub-bios-install',
  version: 1,
  kind: 'image',
  summary: "Writes GRUB's BIOS boot code into the disk image as grub-install would, without a device: boot.img's code into the MBR (keeping the partition table) and core.img into the gap after it (MBR) or into the bios-boot partition (GPT), each pointed at the other's sectors.",
  options: z.strictObject({ biosBoot: z.string().nullable() }),
  async run(ctx, o) {
    const { layout, image: file } = ctx.facts;
    if (file === undefined || !layout) throw new BuildError('grub-bios-install needs the partition-table stage first');
    const boot = await readFile(join(ctx.root, 'boot/grub/i386-pc/boot.img'));
    const core = await readFile(join(ctx.root, 'boot/grub/i386-pc/core.img'));
    const target = o.biosBoot === null ? undefined : layout.partitions.find((p) => p.name === o.biosBoot);
    if (o.biosBoot !== null && !target) throw new BuildError(`grub-bios-install: no partition ${o.biosBoot} in the layout`);
    const first = target ? target.firstLba : 1;
    const room = target ? target.lastLba - target.firstLba + 1 : Math.min(...layout.partitions.map((p) => p.firstLba)) - 1;
    const sectors = Math.ceil(core.length / SECTOR);
    if (sectors > room) {
      throw new BuildError(`GRUB's core image needs ${sectors} sectors but ${target ? `partition ${target.name}` : 'the gap before the first partition'} has ${room}`);
    }
    boot.writeBigUInt64LE(BigInt(first), KERNEL_SECTOR);
    core.writeBigUInt64LE(BigInt(first + 1), BLOCKLIST_START);
    const image = await open(join(ctx.work, file), 'r+');
    try {
      await image.write(boot, 0, BOOT_CODE, 0);
      await image.write(core, 0, core.length, first * SECTOR);
    } finally {
      await image.close();
    }
    ctx.log(`boot code in the MBR; core image (${sectors} sectors) at sector ${first}${target ? ` (partition ${target.name})` : ''}`);
  },
});
