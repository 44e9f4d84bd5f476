import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';

const FIRMWARE = '/boot/firmware';

/**
 * The Raspberry Pi boot partition the Debian way: raspi-firmware's own kernel hook copies the
 * firmware, the DTBs, the kernel and the initramfs to /boot/firmware and writes config.txt and
 * cmdline.txt. kiln only sets what the hook cannot know inside a build (the root partition and the
 * consoles, in /etc/default/raspi-firmware), so a kernel upgrade on the device later writes the
 * same files again.
 */
export const rpiFirmware = defineStage({
  name: 'rpi-firmware',
  version: 2,
  kind: 'tree',
  summary:
    "Fills /boot/firmware (the Raspberry Pi's FAT partition) with Debian's raspi-firmware kernel hook: firmware, DTBs, kernel, initramfs, config.txt and a cmdline.txt that finds root by PARTUUID; the settings go to /etc/default/raspi-firmware so kernel upgrades keep them.",
  options: z.strictObject({
    /** ROOTPART: how the kernel finds root, e.g. PARTUUID=1234abcd-02. */
    root: z.string(),
    /** CONSOLES, e.g. tty0 ttyS1,115200; the last one gets the boot messages. */
    consoles: z.array(z.string()),
    /** Other kernel arguments, for /etc/default/raspi-extra-cmdline. */
    extra: z.array(z.string()),
  }),
  async run(ctx, o) {
    if (!existsSync(join(ctx.root, 'usr/lib/raspi-firmware'))) throw new BuildError('the raspi-firmware package is not in the image (bootloader: rpi-firmware adds it; was it excluded?)');
    const defaults = join(ctx.root, 'etc/default/raspi-firmware');
    const current = existsSync(defaults) ? await readFile(defaults, 'utf8') : '';
    const kept = current.split('\n').filter((line) => !/^\s*(ROOTPART|CONSOLES)=/.test(line) && line !== '# Set by kiln:');
    while (kept.at(-1) === '') kept.pop();
    await writeFile(defaults, [...kept, '', '# Set by kiln:', `ROOTPART=${o.root}`, `CONSOLES="${o.consoles.join(' ')}"`, ''].join('\n'));
    const extra = join(ctx.root, 'etc/default/raspi-extra-cmdline');
    if (o.extra.length) await writeFile(extra, `${o.extra.join(' ')}\n`);
    // The hook insists that /boot/firmware be a mount point unless it detects a chroot; in the
    // build it is a folder, so it is bind-mounted onto itself (in the command's own namespace).
    // The firmware files themselves are copied by the package's postinst, as here (recursively:
    // trixie's package has an overlays/ folder).
    await ctx.chroot('/bin/sh', ['-c', `mkdir -p ${FIRMWARE} && mount --bind ${FIRMWARE} ${FIRMWARE} && cp -r /usr/lib/raspi-firmware/* ${FIRMWARE}/ && DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware`]);
    const cmdline = await readFile(join(ctx.root, FIRMWARE, 'cmdline.txt'), 'utf8').catch(() => '');
    if (!cmdline.includes(`root=${o.root} `)) throw new BuildError(`raspi-firmware's hook wrote no cmdline.txt with root=${o.root} (it wrote: ${cmdline.trim() || 'nothing'})`);
    ctx.log(`cmdline.txt: ${cmdline.trim()}`);
  },
});
