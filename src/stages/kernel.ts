import { existsSync, readdirSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage, type StageContext } from './define.js';
import type { KernelFacts } from './facts.js';
import { chrootWithNative, runsEmulated } from './native-tools.js';

/**
 * The one place the initramfs is made. The bootstrap leaves it out and package sets leave their
 * updates of it here, so an image gets it once, after every package is in, with the recipe's
 * settings: under qemu-user each initramfs costs over a minute, and every recipe of a release and
 * kernel shares one bootstrap whatever its initramfs.
 */
export const kernel = defineStage({
  name: 'kernel',
  version: 4,
  kind: 'tree',
  summary: "Finds the installed kernel (the newest if several) and makes its initramfs once, after all customization, with the recipe's settings (a module list, or dracut's modules); one that exists already is remade only if a package set asked for that.",
  options: z.strictObject({
    package: z.string(),
    /** The initramfs's modules (MODULES=list); empty: Debian's default, every storage driver (MODULES=most). */
    initramfsModules: z.array(z.string()).default([]),
    /** dracut makes the initramfs (in the base packages), with these dracut modules added. */
    dracutModules: z.array(z.string()).default([]),
    arch: z.string(),
    /** The release and mirror, for the native programs of a foreign root (native-tools.ts). */
    source: z.strictObject({ release: z.string(), mirror: z.string(), components: z.array(z.string()) }),
  }),
  makes: ['kernel'],
  async run(ctx, o) {
    const versions = readdirSync(join(ctx.root, 'boot'))
      .filter((f) => f.startsWith('vmlinuz-'))
      .map((f) => f.slice('vmlinuz-'.length))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const version = versions.at(-1);
    if (!version) throw new BuildError(`no kernel in /boot after installing ${o.package} (is it a kernel image package?)`);
    const initrd = `/boot/initrd.img-${version}`;
    // dracut, where an image has it instead of initramfs-tools (OSTree images), reads its settings from /etc/dracut.conf.d.
    const tools = existsSync(join(ctx.root, 'usr/sbin/update-initramfs'));
    await writeSettings(ctx, o);
    const make = !existsSync(join(ctx.root, initrd));
    if (make || ctx.facts.initramfsOutdated) {
      // Under qemu-user the compression runs natively (the same version's host build). Not kmod:
      // mkinitramfs copies the image's own kmod into the initramfs, and would copy the wrapper.
      const chroot = runsEmulated(o.arch) ? await chrootWithNative(ctx, o.source, ['zstd']) : ctx.chroot;
      if (make) {
        ctx.log('the initramfs: made once, after every package set');
        if (tools) await chroot('update-initramfs', ['-c', '-k', version]);
        else await chroot('dracut', ['--quiet', '--kver', version, initrd]);
      } else {
        // One a hook made: the updates the package stages left (update-initramfs also runs its post-update hooks, e.g. raspi-firmware's copy to /boot/firmware).
        ctx.log('the initramfs: remade once for the package sets that asked for it');
        if (tools) await chroot('update-initramfs', ['-u', '-k', version]);
        else await chroot('dracut', ['--quiet', '--force', '--kver', version, initrd]);
      }
    }
    ctx.log(`kernel ${version}`);
    const facts: KernelFacts = { version, vmlinuz: `/boot/vmlinuz-${version}`, initrd };
    return { kernel: facts };
  },
});

/**
 * The recipe's initramfs settings, kept in the image so a kernel update on the device makes the
 * same initramfs. MODULES=list with the recipe's modules: under qemu-user it is the difference
 * between about 25 s and 9 minutes. dracut: no host-only initramfs (the build host's hardware is
 * not the machine's), with the recipe's dracut modules (ostree: OSTree's prepare-root), and the
 * recipe's module list as dracut's exclusive `drivers` (the edge example with the vm layer's list:
 * 16 MB instead of 37, made in 18 s instead of 30; most of what is left is systemd and udev).
 */
async function writeSettings(ctx: StageContext, o: { initramfsModules: string[]; dracutModules: string[] }): Promise<void> {
  if (o.dracutModules.length) {
    const drivers = o.initramfsModules.length ? `drivers+=" ${o.initramfsModules.join(' ')} "\n` : '';
    await mkdir(join(ctx.root, 'etc/dracut.conf.d'), { recursive: true });
    await writeFile(join(ctx.root, 'etc/dracut.conf.d/kiln.conf'), `# Written by kiln.\nhostonly="no"\nadd_dracutmodules+=" ${o.dracutModules.join(' ')} "\n${drivers}`, { mode: 0o644 });
  } else if (o.initramfsModules.length) {
    await mkdir(join(ctx.root, 'etc/initramfs-tools/conf.d'), { recursive: true });
    await writeFile(join(ctx.root, 'etc/initramfs-tools/conf.d/kiln.conf'), '# Written by kiln from kernel.initramfs_modules in the recipe.\nMODULES=list\n', { mode: 0o644 });
    await appendFile(join(ctx.root, 'etc/initramfs-tools/modules'), o.initramfsModules.map((m) => `${m}\n`).join(''), { mode: 0o644 });
  }
}
