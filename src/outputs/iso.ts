/**
 * The live ISO: the root tree as a zstd squashfs, the image's kernel and initramfs (with
 * live-boot's hook), and GRUB for BIOS and UEFI, laid out by grub-mkrescue through xorriso as a
 * hybrid image: El Torito for CDs, an MBR with an EFI partition for USB sticks. No mount, no loop
 * device. The squashfs gets an fstab without the disk's partitions (a live system has no disk).
 */
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { disklessFstab } from '../disk/diskless-fstab.js';
import { BuildError } from '../errors.js';
import type { Exec } from '../host/exec.js';
import { quote } from '../host/shell.js';
import { SQUASHFS_COMPRESSION } from '../host/squashfs.js';
import { ISO_MAX_BYTES, LIVE_DIR, liveGrubConfig, type LiveBoot } from './iso-boot.js';

/** What the ISO needs of its stage (a structural slice of the stage context: outputs stay below stages). */
export interface IsoContext {
  root: string;
  scratch: string;
  work: string;
  facts: { kernel?: { vmlinuz: string; initrd: string } };
  exec: Exec;
  log(line: string): void;
}

/** A mksquashfs pseudo file: NAME in the squashfs, with SOURCE's bytes (sh-quoted: any path works). */
export function pseudoFile(name: string, mode: string, source: string): string {
  return `${name} f ${mode} 0 0 cat ${quote(source)}`;
}

/** What an ISO adds to the live system: mksquashfs pseudo files, in a medium folder of its own. */
export interface IsoExtras {
  medium: string;
  pseudo: string[];
  /** The GRUB menu entry's kind, after the title: "live" or "install". */
  menu: string;
}

/** Writes `file` (in the image stages' folder) from ctx.root; the kernel comes from the kernel stage's facts. */
export async function writeLiveIso(ctx: IsoContext, file: string, live: LiveBoot, extras: IsoExtras = { medium: 'iso', pseudo: [], menu: 'live' }): Promise<void> {
  const kernel = ctx.facts.kernel;
  if (!kernel) throw new BuildError('an ISO needs the kernel stage, and it did not run (kernel.package: none?)');
  const medium = join(ctx.scratch, extras.medium);
  await mkdir(join(medium, LIVE_DIR), { recursive: true });
  await mkdir(join(medium, 'boot/grub'), { recursive: true });
  await copyFile(join(ctx.root, kernel.vmlinuz), join(medium, LIVE_DIR, 'vmlinuz'));
  await copyFile(join(ctx.root, kernel.initrd), join(medium, LIVE_DIR, 'initrd.img'));
  await writeFile(join(medium, 'boot/grub/grub.cfg'), liveGrubConfig(live, extras.menu));

  const fstab = join(ctx.scratch, `${extras.medium}.fstab`);
  const image = join(ctx.root, 'etc/fstab');
  await writeFile(fstab, disklessFstab(existsSync(image) ? await readFile(image, 'utf8') : '', 'live system: the root is the medium\'s squashfs under an overlay in RAM (live-boot adds it)'));
  ctx.log(`squashfs of the root tree (zstd, level 6)`);
  await ctx.exec('mksquashfs', [
    ctx.root, join(medium, LIVE_DIR, 'filesystem.squashfs'),
    '-noappend', '-no-progress', '-quiet', ...SQUASHFS_COMPRESSION,
    '-p', pseudoFile('etc/fstab', '644', fstab),
    ...extras.pseudo.flatMap((p) => ['-p', p]),
    // -e takes every argument after it: it comes last. The pseudo file above replaces the excluded one.
    '-wildcards', '-e', 'etc/fstab', 'proc/*', 'sys/*', 'dev/*', 'run/*', 'tmp/*',
  ]);
  // The tree's size is known only now: past the format's limit, say so rather than let xorriso fail.
  const squashfs = (await stat(join(medium, LIVE_DIR, 'filesystem.squashfs'))).size;
  if (squashfs > ISO_MAX_BYTES - 64 * 1024 ** 2) {
    throw new BuildError(`the root tree compresses to ${Math.round(squashfs / 1024 ** 3)} GiB, more than an ISO 9660 medium holds (8 TiB); leave large data out of the image (or use a disk output)`);
  }
  ctx.log(`ISO ${file}: GRUB for BIOS and UEFI, volume ${live.label}`);
  await ctx.exec('grub-mkrescue', [
    '--output', join(ctx.work, file), '--compress=xz', '--fonts=', '--locales=', '--themes=',
    medium,
    // xorriso's own commands: the label live-boot finds; level 3 lets the squashfs pass 4 GiB.
    '--', '-volid', live.label, '-compliance', 'iso_9660_level=3',
  ]);
}
