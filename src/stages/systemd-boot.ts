import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';

export const systemdBoot = defineStage({
  name: 'systemd-boot',
  version: 2,
  kind: 'tree',
  summary: "Installs systemd-boot from the image's own systemd-boot-efi package as the removable-media loader (EFI/BOOT), copies the kernel and initramfs to the ESP and writes one loader entry with the kernel command line; with a unified kernel image (kernel.uki) no entry is written: systemd-boot finds EFI/Linux/<name>.efi itself.",
  options: z.strictObject({
    esp: z.string(),
    efiArch: z.string(),
    entry: z.string(),
    title: z.string(),
    cmdline: z.array(z.string()),
    /** The kernel is a UKI in EFI/Linux (the uki stage): no type #1 entry, no kernel copy. */
    uki: z.boolean(),
  }),
  async run(ctx, o) {
    const { kernel } = ctx.facts;
    if (!kernel) throw new BuildError('systemd-boot needs the kernel stage to run first');
    const esp = join(ctx.root, o.esp);
    const loader = join(ctx.root, `usr/lib/systemd/boot/efi/systemd-boot${o.efiArch}.efi`);
    if (!existsSync(loader)) throw new BuildError(`systemd-boot${o.efiArch}.efi is not in the image (the systemd-boot-efi package provides it)`);
    for (const dir of ['EFI/BOOT', 'EFI/systemd', 'loader/entries', ...(o.uki ? [] : [`${o.entry}/${kernel.version}`])]) {
      await mkdir(join(esp, dir), { recursive: true });
    }
    await copyFile(loader, join(esp, `EFI/BOOT/BOOT${o.efiArch.toUpperCase()}.EFI`));
    await copyFile(loader, join(esp, `EFI/systemd/systemd-boot${o.efiArch}.efi`));
    if (o.uki) {
      if (!existsSync(join(esp, `EFI/Linux/${o.entry}.efi`))) throw new BuildError(`EFI/Linux/${o.entry}.efi is not on the ESP (the uki stage makes it)`);
      // A type #2 entry's id is its file name; the command line is inside the UKI, not here.
      await writeFile(join(esp, 'loader/loader.conf'), `default ${o.entry}.efi\ntimeout 0\neditor no\n`);
      ctx.log(`systemd-boot boots EFI/Linux/${o.entry}.efi (unified kernel image)`);
      return;
    }
    const dir = `/${o.entry}/${kernel.version}`;
    await copyFile(join(ctx.root, kernel.vmlinuz), join(esp, dir, 'linux'));
    await copyFile(join(ctx.root, kernel.initrd), join(esp, dir, 'initrd'));
    await writeFile(join(esp, 'loader/loader.conf'), `default ${o.entry}.conf\ntimeout 0\neditor no\n`);
    await writeFile(
      join(esp, `loader/entries/${o.entry}.conf`),
      `title ${o.title}\nversion ${kernel.version}\nlinux ${dir}/linux\ninitrd ${dir}/initrd\noptions ${o.cmdline.join(' ')}\n`,
    );
    ctx.log(`loader entry ${o.entry}.conf: ${o.cmdline.join(' ')}`);
  },
});
