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
import { ELF_MACHINES, elfMachine } from '../arch/elf.js';
import { hostArch } from '../arch/host-arch.js';
import type { Exec } from '../host/exec.js';
import { initrdFiles } from './initrd-files.js';
import { chrootWithNative, IMAGE_TOOLS, runsEmulated } from './native-tools.js';

/**
 * What mkinitramfs runs natively under qemu-user: its shell and small programs, dracut-install
 * (which copies the modules), cpio and the compression (41 s emulated, 3.5 s native, for
 * examples/arm64-vm.yaml), and depmod, as the link /usr/sbin/depmod only: mkinitramfs copies
 * the image's own kmod, where the link points, into the initramfs. dracut copies the shell and
 * coreutils too, so it gets only the compression.
 */
const INITRAMFS_TOOLS = IMAGE_TOOLS.filter((name) => name !== 'depmod' && name !== 'systemd-hwdb');

export const KernelOptions = z.strictObject({
  package: z.string(),
  /** The initramfs's modules (MODULES=list); empty: Debian's default, every storage driver (MODULES=most). */
  initramfsModules: z.array(z.string()).default([]),
  /** The root's and /usr's file system types, which initramfs-tools' fsck hook cannot read from a device at build time. */
  fsckTypes: z.array(z.string()).default([]),
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
  if (!runsEmulated(o.arch)) return run(ctx.chroot, tools, kernel, how);
  await run(await chrootWithNative(ctx, o.source, tools ? INITRAMFS_TOOLS : ['zstd'], tools ? ['depmod'] : []), tools, kernel, how);
  // A hook that copies one of the programs that ran natively would put the host's build of it
  // into the initramfs, which the machine could not run: checked, and made again without them.
  // One kiln cannot read (a compression it does not know) is made again too.
  const strays = tools ? await hostProgramsIn(ctx, kernel.initrd) : [];
  const why = typeof strays === 'string' ? `cannot be checked: ${strays}` : strays.length ? `holds the host's build of ${strays.slice(0, 3).join(', ')}${strays.length > 3 ? ', ...' : ''} (a hook copied it)` : '';
  if (why) {
    ctx.log(`the initramfs ${why}: made again with the image's own programs`);
    await run(await chrootWithNative(ctx, o.source, ['zstd']), tools, kernel, 'update');
  }
}

async function run(chroot: Exec, tools: boolean, kernel: KernelFacts, how: 'create' | 'update'): Promise<void> {
  if (how === 'create') {
    if (tools) await chroot('update-initramfs', ['-c', '-k', kernel.version]);
    else await chroot('dracut', ['--quiet', '--kver', kernel.version, kernel.initrd]);
  } else {
    if (tools) await chroot('update-initramfs', ['-u', '-k', kernel.version]);
    else await chroot('dracut', ['--quiet', '--force', '--kver', kernel.version, kernel.initrd]);
  }
}

/**
 * The files in the initramfs that are programs of the host's architecture, or come from kiln's
 * mounts in /run; or why its files cannot be read.
 */
async function hostProgramsIn(ctx: StageContext, initrd: string): Promise<string[] | string> {
  const heads = new Map<string, Buffer>();
  const files = await initrdFiles(ctx.exec, join(ctx.root, initrd), ctx.scratch, heads);
  if (typeof files === 'string') return files;
  const host = ELF_MACHINES[hostArch()];
  const fromRun = [...files].filter((path) => path.startsWith('run/kiln-'));
  return [...fromRun, ...[...heads].filter(([, head]) => elfMachine(head) === host).map(([path]) => path)];
}

/**
 * The recipe's initramfs settings, kept in the image so a kernel update on the device makes the
 * same initramfs. MODULES=list with the recipe's modules: a smaller initramfs (under qemu-user it
 * once was the difference between 25 s and 9 minutes, before mkinitramfs ran natively). dracut:
 * no host-only initramfs (the build host's hardware is not the machine's), with the recipe's
 * dracut modules (ostree: OSTree's prepare-root), and the recipe's module list as dracut's
 * exclusive `drivers` (the edge example with the vm layer's list: 16 MB instead of 37, made in
 * 18 s instead of 30; most of what is left is systemd and udev). Written again before a remake (a
 * later stage may have replaced the file): a module already listed is not added twice.
 */
async function writeSettings(ctx: StageContext, o: KernelOptions): Promise<void> {
  if (o.dracutModules.length) {
    const drivers = o.initramfsModules.length ? `drivers+=" ${o.initramfsModules.join(' ')} "\n` : '';
    await mkdir(join(ctx.root, 'etc/dracut.conf.d'), { recursive: true });
    await writeFile(join(ctx.root, 'etc/dracut.conf.d/kiln.conf'), `# Written by kiln.\nhostonly="no"\nadd_dracutmodules+=" ${o.dracutModules.join(' ')} "\n${drivers}`, { mode: 0o644 });
    return;
  }
  if (o.fsckTypes.length) {
    // initramfs-tools' fsck hook finds the root's type from its device (the fstab's UUID), which
    // the build host does not have: without FSTYPE it warns and puts no fsck in the initramfs.
    await mkdir(join(ctx.root, 'etc/initramfs-tools/conf.d'), { recursive: true });
    await writeFile(join(ctx.root, 'etc/initramfs-tools/conf.d/kiln-fsck.conf'), `# Written by kiln from the recipe's disk: the initramfs checks these file systems before mounting them.\nFSTYPE=${o.fsckTypes.join(',')}\n`, { mode: 0o644 });
  }
  if (o.initramfsModules.length) {
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
