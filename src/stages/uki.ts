import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';

/**
 * A unified kernel image: systemd's EFI stub with the kernel, the initramfs, the command line and
 * os-release as PE sections, made by the image's own ukify (so the stub matches the image's
 * systemd). systemd-boot lists EFI/Linux/*.efi by itself (Boot Loader Specification type #2); with
 * no boot loader the UKI is the removable-media loader EFI/BOOT/BOOT<X>.EFI. Signed, one signature
 * covers all of it: the command line cannot be changed at boot.
 */
export const uki = defineStage({
  name: 'uki',
  version: 1,
  kind: 'tree',
  summary:
    "Builds a unified kernel image with the image's own ukify (systemd-ukify): the EFI stub, kernel, initramfs, kernel command line and os-release in one EFI file on the ESP, EFI/Linux/<name>.efi for systemd-boot or EFI/BOOT/BOOT<X>.EFI without a boot loader.",
  options: z.strictObject({
    esp: z.string(),
    efiArch: z.string(),
    /** The file's name under EFI/Linux (systemd-boot's entry id is <entry>.efi). */
    entry: z.string(),
    /** true: the UKI itself is EFI/BOOT/BOOT<X>.EFI (bootloader: none). */
    removable: z.boolean(),
    cmdline: z.array(z.string()),
  }),
  async run(ctx, o) {
    const { kernel } = ctx.facts;
    if (!kernel) throw new BuildError('uki needs the kernel stage to run first');
    const stub = `/usr/lib/systemd/boot/efi/linux${o.efiArch}.efi.stub`;
    if (!existsSync(join(ctx.root, stub))) throw new BuildError(`${stub} is not in the image (the systemd-boot-efi package provides it)`);
    if (!existsSync(join(ctx.root, 'usr/bin/ukify')) && !existsSync(join(ctx.root, 'usr/lib/systemd/ukify'))) {
      throw new BuildError('ukify is not in the image (the systemd-ukify package provides it)');
    }
    const output = o.removable ? `${o.esp}/EFI/BOOT/BOOT${o.efiArch.toUpperCase()}.EFI` : `${o.esp}/EFI/Linux/${o.entry}.efi`;
    await mkdir(join(ctx.root, output, '..'), { recursive: true });
    await ctx.chroot('ukify', [
      'build',
      `--linux=${kernel.vmlinuz}`,
      `--initrd=${kernel.initrd}`,
      `--cmdline=${o.cmdline.join(' ')}`,
      '--os-release=@/etc/os-release',
      `--uname=${kernel.version}`,
      `--stub=${stub}`,
      `--output=${output}`,
    ]);
    ctx.log(`UKI ${output}: kernel ${kernel.version}, cmdline ${o.cmdline.join(' ')}`);
  },
});
