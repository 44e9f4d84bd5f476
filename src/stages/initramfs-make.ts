/**
 * Making the initramfs, shared by the kernel stage (which makes it) and the initramfs stage (which
 * remakes it when a later stage changed what it is made from): the kernel's options, the installed
 * kernel, the recipe's initramfs settings, and running initramfs-tools or dracut.
 */
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import type { StageContext } from './define.js';
import type { KernelFacts } from './facts.js';
import { chrootWithNative, runsEmulated } from './native-tools.js';

export const KernelOptions = z.strictObject({
  package: z.string(),
  /** The initramfs's modules (MODULES=list); empty: Debian's default, every storage driver (MODULES=most). */
  initramfsModules: z.array(z.string()).default([]),
  /** dracut makes the initramfs (in the base packages), with these dracut modules added. */
  dracutModules: z.array(z.string()).default([]),
  arch: z.string(),
  /** The release and mirror, for the native programs of a foreign root (native-tools.ts). */
  source: z.strictObject({ release: z.string(), mirror: z.string(), components: z.array(z.string()) }),
});
export type KernelOptions = z.output<typeof KernelOptions>;

/** The installed kernel (the newest if several) and where its files are. */
export function installedKernel(root: string, pkg: string): KernelFacts {
  const versions = readdirSync(join(root, 'boot'))
    .filter((f) => f.startsWith('vmlinuz-'))
    .map((f) => f.slice('vmlinuz-'.length))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const version = versions.at(-1);
  if (!version) throw new BuildError(`no kernel in /boot after installing ${pkg} (is it a kernel image package?)`);
  return { version, vmlinuz: `/boot/vmlinuz-${version}`, initrd: `/boot/initrd.img-${version}` };
}

/**
 * Makes the kernel's initramfs (`create`), or makes it again (update-initramfs -u, which also runs
 * its post-update hooks, e.g. raspi-firmware's copy to /boot/firmware).
 */
export async function makeInitramfs(ctx: StageContext, o: KernelOptions, kernel: KernelFacts, how: 'create' | 'update'): Promise<void> {
  await writeSettings(ctx, o);
  // dracut, where an image has it instead of initramfs-tools (OSTree images), reads its settings from /etc/dracut.conf.d.
  const tools = existsSync(join(ctx.root, 'usr/sbin/update-initramfs'));
  // Under qemu-user the compression runs natively (the same version's host build). Not kmod:
  // mkinitramfs copies the image's own kmod into the initramfs, and would copy the wrapper.
  const chroot = runsEmulated(o.arch) ? await chrootWithNative(ctx, o.source, ['zstd']) : ctx.chroot;
  if (how === 'create') {
    if (tools) await chroot('update-initramfs', ['-c', '-k', kernel.version]);
    else await chroot('dracut', ['--quiet', '--kver', kernel.version, kernel.initrd]);
  } else {
    if (tools) await chroot('update-initramfs', ['-u', '-k', kernel.version]);
    else await chroot('dracut', ['--quiet', '--force', '--kver', kernel.version, kernel.initrd]);
  }
}

/**
 * The recipe's initramfs settings, kept in the image so a kernel update on the device makes the
 * same initramfs. MODULES=list with the recipe's modules: under qemu-user it is the difference
 * between about 25 s and 9 minutes. dracut: no host-only initramfs (the build host's hardware is
 * not the machine's), with the recipe's dracut modules (ostree: OSTree's prepare-root), and the
 * recipe's module list as dracut's exclusive `drivers` (the edge example with the vm layer's list:
 * 16 MB instead of 37, made in 18 s instead of 30; most of what is left is systemd and udev).
 * Written again before a remake (a later stage may have replaced the file): a module already
 * listed is not added twice.
 */
async function writeSettings(ctx: StageContext, o: KernelOptions): Promise<void> {
  if (o.dracutModules.length) {
    const drivers = o.initramfsModules.length ? `drivers+=" ${o.initramfsModules.join(' ')} "\n` : '';
    await mkdir(join(ctx.root, 'etc/dracut.conf.d'), { recursive: true });
    await writeFile(join(ctx.root, 'etc/dracut.conf.d/kiln.conf'), `# Written by kiln.\nhostonly="no"\nadd_dracutmodules+=" ${o.dracutModules.join(' ')} "\n${drivers}`, { mode: 0o644 });
  } else if (o.initramfsModules.length) {
    await mkdir(join(ctx.root, 'etc/initramfs-tools/conf.d'), { recursive: true });
    await writeFile(join(ctx.root, 'etc/initramfs-tools/conf.d/kiln.conf'), '# Written by kiln from kernel.initramfs_modules in the recipe.\nMODULES=list\n', { mode: 0o644 });
    const file = join(ctx.root, 'etc/initramfs-tools/modules');
    const text = await readFile(file, 'utf8').catch(() => '');
    const listed = new Set(text.split('\n').map((l) => l.trim()));
    const missing = o.initramfsModules.filter((m) => !listed.has(m));
    const newline = text === '' || text.endsWith('\n') ? '' : '\n';
    if (missing.length) await appendFile(file, newline + missing.map((m) => `${m}\n`).join(''), { mode: 0o644 });
  }
}
