import { existsSync } from 'node:fs';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { AB_PREFIX, abMenu, grubEnvBlock } from '../outputs/ab-menu.js';
import { grubMenu } from '../outputs/grub-menu.js';
import { defineStage } from './define.js';
import { GRUB_PLATFORMS } from './grub-platforms.js';
import type { KernelFacts } from './facts.js';

/** What the core image needs to find /boot/grub; everything else loads from there. */
const CORE_MODULES: Record<string, string[]> = {
  'i386-pc': ['biosdisk', 'part_msdos', 'part_gpt', 'ext2', 'search', 'search_fs_uuid', 'configfile', 'normal'],
  'x86_64-efi': ['part_msdos', 'part_gpt', 'ext2', 'fat', 'search', 'search_fs_uuid', 'configfile', 'normal', 'efi_gop'],
};
const modulesOf = (platform: string) => CORE_MODULES[platform] ?? CORE_MODULES['x86_64-efi'] ?? [];
/** The Debian package with GRUB's modules for a platform. */
const PACKAGE: Record<string, string> = { 'i386-pc': 'grub-pc-bin', 'x86_64-efi': 'grub-efi-amd64-bin', 'i386-efi': 'grub-efi-ia32-bin', 'arm64-efi': 'grub-efi-arm64-bin', 'arm-efi': 'grub-efi-arm-bin' };

export const grub = defineStage({
  name: 'grub',
  version: 3,
  kind: 'tree',
  summary:
    "Sets GRUB up from the image's own grub-pc-bin / grub-efi-<arch>-bin: modules in /boot/grub/<platform>, a grub.cfg that finds /boot by file-system UUID, a BIOS core image (written into the disk by grub-bios-install) and/or EFI/BOOT/BOOT<ARCH>.EFI (X64, AA64, ARM, IA32) on the ESP; on an A/B disk, GRUB's modules, a grub.cfg that picks the slot from grubenv and grubenv itself in the ESP's /EFI/kiln. Made with grub-mkimage in the image root; no grub-install, no devices.",
  options: z.strictObject({
    platforms: z.array(z.enum(GRUB_PLATFORMS)),
    efiArch: z.string(),
    esp: z.string().nullable(),
    bootUuid: z.string(),
    /** Where /boot is on the file system that holds it: "/boot", or "" when /boot is its own partition. */
    bootPath: z.string(),
    title: z.string(),
    cmdline: z.array(z.string()),
    /**
     * Secure Boot with Debian's signed chain (secure_boot: debian): on x86_64-efi the ESP gets
     * Microsoft-signed shim as BOOTX64.EFI and Debian's signed, monolithic GRUB beside it, instead of
     * a core image made here (which no firmware would trust).
     */
    signed: z.boolean(),
    /**
     * disk.layout ab: GRUB lives on the ESP (its modules, an A/B grub.cfg and grubenv in /EFI/kiln,
     * found by the ESP's UUID), shared by both slots; each slot's /boot has vmlinuz and initrd.img links.
     */
    ab: z.strictObject({ espUuid: z.string() }).nullable().default(null),
  }),
  async run(ctx, o) {
    const { kernel } = ctx.facts;
    if (!kernel) throw new BuildError('grub needs the kernel stage to run first');
    const grubDir = join(ctx.root, 'boot/grub');
    await mkdir(grubDir, { recursive: true });
    // GRUB's own serial terminal is the PC's COM1: on ARM the firmware's console already is serial.
    const serial = o.cmdline.some((a) => a.startsWith('console=ttyS')) && o.platforms.some((p) => p === 'i386-pc' || p === 'x86_64-efi' || p === 'i386-efi');
    const esp = o.esp ?? '/boot/efi';
    // Where grub.cfg and the modules are: /boot/grub, or the ESP's /EFI/kiln on an A/B disk.
    const prefix = o.ab ? AB_PREFIX : `${o.bootPath}/grub`;
    const prefixDir = o.ab ? join(ctx.root, esp, AB_PREFIX) : grubDir;
    await mkdir(prefixDir, { recursive: true });
    if (o.ab) {
      await writeFile(join(prefixDir, 'grub.cfg'), abMenu({ title: o.title, serial, cmdline: o.cmdline }));
      await writeFile(join(prefixDir, 'grubenv'), grubEnvBlock({ kiln_slot: 'a' }));
      // The menu boots whichever kernel the slot has: an update may bring another version.
      await symlink(`vmlinuz-${kernel.version}`, join(ctx.root, 'boot/vmlinuz'));
      await symlink(`initrd.img-${kernel.version}`, join(ctx.root, 'boot/initrd.img'));
    } else {
      await writeFile(join(grubDir, 'grub.cfg'), grubCfg(o, kernel, serial));
    }
    // Run from the core image before grub.cfg: find the file system with the prefix and set it.
    const prefixUuid = o.ab ? o.ab.espUuid : o.bootUuid;
    await writeFile(join(grubDir, 'early.cfg'), `search --no-floppy --fs-uuid --set=root ${prefixUuid}\nset prefix=($root)${prefix}\n`);
    for (const platform of o.platforms) {
      if (o.signed && platform === 'x86_64-efi') {
        await signedChain(ctx.root, o.esp ?? '/boot/efi', o.bootUuid, o.bootPath);
        ctx.log(`${platform}: shim (EFI/BOOT/BOOTX64.EFI) and Debian's signed GRUB (EFI/BOOT/grubx64.efi)`);
        continue;
      }
      const modules = join(ctx.root, 'usr/lib/grub', platform);
      if (!existsSync(modules)) throw new BuildError(`GRUB for ${platform} is not in the image (the ${PACKAGE[platform] ?? 'grub'} package provides it)`);
      // FAT keeps no owners or modes: copied plainly onto the ESP.
      await ctx.exec('cp', [o.ab ? '-r' : '-a', `${modules}/.`, join(prefixDir, platform)]);
      const output = platform === 'i386-pc' ? '/boot/grub/i386-pc/core.img' : `${esp}/EFI/BOOT/BOOT${o.efiArch.toUpperCase()}.EFI`;
      if (platform !== 'i386-pc') await mkdir(join(ctx.root, esp, 'EFI/BOOT'), { recursive: true });
      await ctx.chroot('grub-mkimage', ['-O', platform, '-d', `/usr/lib/grub/${platform}`, '-c', '/boot/grub/early.cfg', '-p', prefix, '-o', output, ...modulesOf(platform)]);
      ctx.log(`${platform}: ${output}`);
    }
    ctx.log(o.ab ? `grub.cfg (A/B, on the ESP's ${AB_PREFIX}): linux /boot/vmlinuz root=PARTLABEL=system_<slot> kiln.slot=<slot> ${o.cmdline.join(' ')}` : `grub.cfg: linux ${o.bootPath}/vmlinuz-${kernel.version} ${o.cmdline.join(' ')}`);
  },
});

function grubCfg(o: { bootUuid: string; bootPath: string; title: string; cmdline: string[] }, kernel: KernelFacts, serial: boolean): string {
  return grubMenu('Written by kiln.', { bootUuid: o.bootUuid, serial }, [
    { title: o.title, linux: `${o.bootPath}/vmlinuz-${kernel.version} ${o.cmdline.join(' ')}`, initrd: `${o.bootPath}/initrd.img-${kernel.version}` },
  ]);
}

/** Where Debian's signed boot chain puts its binaries in the image (shim-signed, grub-efi-amd64-signed). */
const SIGNED = {
  shim: 'usr/lib/shim/shimx64.efi.signed',
  mok: 'usr/lib/shim/mmx64.efi.signed',
  grub: 'usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed',
};

/**
 * shim looks for grubx64.efi in its own folder; Debian's signed GRUB reads grub.cfg from its prefix
 * /EFI/debian (else from its own folder): that file sends it to /boot/grub/grub.cfg by UUID.
 */
async function signedChain(root: string, esp: string, bootUuid: string, bootPath: string): Promise<void> {
  for (const [what, file] of Object.entries(SIGNED)) {
    if (what !== 'mok' && !existsSync(join(root, file))) throw new BuildError(`/${file} is not in the image (secure_boot: debian installs shim-signed and grub-efi-amd64-signed)`);
  }
  const boot = join(root, esp, 'EFI/BOOT');
  const debian = join(root, esp, 'EFI/debian');
  await mkdir(boot, { recursive: true });
  await mkdir(debian, { recursive: true });
  await copyFile(join(root, SIGNED.shim), join(boot, 'BOOTX64.EFI'));
  await copyFile(join(root, SIGNED.grub), join(boot, 'grubx64.efi'));
  // MokManager: shim starts it when a key is to be enrolled; without it that request would fail.
  if (existsSync(join(root, SIGNED.mok))) await copyFile(join(root, SIGNED.mok), join(boot, 'mmx64.efi'));
  const stub = `search --no-floppy --fs-uuid --set=root ${bootUuid}\nset prefix=($root)${bootPath}/grub\nconfigfile $prefix/grub.cfg\n`;
  await writeFile(join(debian, 'grub.cfg'), stub);
  await writeFile(join(boot, 'grub.cfg'), stub);
}
