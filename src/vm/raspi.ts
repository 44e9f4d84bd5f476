/**
 * Booting a Raspberry Pi image under QEMU. `-M raspi3b` has no firmware to run the Pi's own boot
 * chain (start.elf reading config.txt), so kiln plays the firmware's part: it reads config.txt and
 * cmdline.txt from the image's FAT partition and hands QEMU the kernel, initramfs and Pi 3 DTB
 * they name, with the image as the SD card. The image itself boots on a real board unchanged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { UserError } from '../errors.js';
import { readSfdisk } from '../host/sfdisk.js';

/** systemd's timeouts for devices and unit starts (90 s by default), for an emulated Pi. */
export const EMULATED_BOOT_ARGS = 'systemd.default_device_timeout_sec=900 systemd.default_timeout_start_sec=900';

/** QEMU 7.2 models the Pi 3 (raspi3b), not the Pi 4: a Pi 4 image carries this DTB too. */
const DTB = 'bcm2837-rpi-3-b.dtb';

export interface RaspiBoot {
  kernel: string;
  initrd?: string;
  dtb: string;
  append: string;
  /** A qcow2 overlay on the image: QEMU wants an SD card whose size is a power of two. */
  sd: string;
}

const mtools = (args: string[]) => execa(args[0] ?? '', args.slice(1), { env: { MTOOLS_SKIP_CHECK: '1' } });

/** The offset of the image's Raspberry Pi firmware partition (FAT with config.txt and start.elf), if it has one. */
export async function raspiFirmwareOffset(image: string): Promise<number | undefined> {
  const table = readSfdisk(image);
  if (table?.label !== 'dos') return undefined;
  for (const p of table.partitions.filter((q) => ['c', 'b', 'e'].includes(q.type))) {
    const listing = await execa('mdir', ['-b', '-i', `${image}@@${p.start * 512}`, '::/'], { env: { MTOOLS_SKIP_CHECK: '1' }, reject: false });
    if (/config\.txt/i.test(listing.stdout) && /start\.elf/i.test(listing.stdout)) return p.start * 512;
  }
  return undefined;
}

/** config.txt's kernel= and initramfs lines (the [all] and [pi3] sections that apply to a Pi 3). */
export function parseConfigTxt(text: string): { kernel?: string; initramfs?: string } {
  const out: { kernel?: string; initramfs?: string } = {};
  let applies = true;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) applies = ['all', 'pi3', 'pi3+'].includes(section[1] ?? '');
    else if (applies && line.startsWith('kernel=')) out.kernel = line.slice('kernel='.length).trim();
    else if (applies && /^initramfs\s/.test(line)) out.initramfs = line.split(/\s+/)[1];
  }
  return out;
}

export async function prepareRaspiBoot(image: string, offset: number, tmp: string): Promise<RaspiBoot> {
  const spec = `${image}@@${offset}`;
  const read = async (name: string) => (await mtools(['mtype', '-i', spec, `::/${name}`])).stdout;
  const config = parseConfigTxt(await read('config.txt'));
  if (!config.kernel) throw new UserError(`${image}: config.txt names no kernel= (is raspi-firmware's hook configured?)`);
  const copy = async (name: string) => {
    const to = path.join(tmp, path.basename(name));
    await mtools(['mcopy', '-n', '-i', spec, `::/${name}`, to]);
    return to;
  };
  const kernel = await copy(config.kernel);
  const initrd = config.initramfs ? await copy(config.initramfs) : undefined;
  const dtb = await copy(DTB).catch(() => {
    throw new UserError(`${image}: the firmware partition has no ${DTB}, which QEMU's raspi3b machine needs`);
  });
  // Under emulation a Pi boots many times slower than on the board (trixie's xz-compressed modules:
  // each modprobe of udev's coldplug takes seconds), so systemd's 90 s waits for devices and units
  // would end in emergency mode on a healthy image. Only this emulated command line gets longer ones.
  const append = `${(await read('cmdline.txt')).trim()} ${EMULATED_BOOT_ARGS}`;
  const size = fs.statSync(image).size;
  const sd = path.join(tmp, 'sd.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', path.resolve(image), '-F', 'raw', sd, String(2 ** Math.ceil(Math.log2(size)))]);
  return { kernel, ...(initrd ? { initrd } : {}), dtb, append, sd };
}

/** QEMU's arguments for the Pi 3: the mini UART (ttyS1, the Pi's GPIO serial port) is QEMU's second serial port. */
export function raspiArgs(boot: RaspiBoot, interactive: boolean): string[] {
  return [
    '-machine', 'raspi3b', '-accel', 'tcg',
    '-kernel', boot.kernel, ...(boot.initrd ? ['-initrd', boot.initrd] : []), '-dtb', boot.dtb, '-append', boot.append,
    '-drive', `if=sd,format=qcow2,file=${boot.sd.replaceAll(',', ',,')}`,
    '-no-reboot',
    ...(interactive ? ['-nographic', '-serial', 'null', '-serial', 'mon:stdio'] : ['-display', 'none', '-serial', 'null', '-serial', 'stdio', '-monitor', 'none']),
  ];
}
