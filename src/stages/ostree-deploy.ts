/**
 * The commit deployed onto a disk (osbuild's edge-raw-image): a sysroot folder as `ostree admin
 * deploy` makes it on a device, with the repository holding the commit, one deployment of it
 * whose origin follows the recipe's remote, and GRUB's files. The filesystems stage then makes
 * the disk's root (and /boot) from this folder instead of the tree; no mount, no loop device.
 */
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { deploymentGrubCfg, grubEnvBlock, loaderGrubCfg, parseBootEntry } from '../outputs/ostree-grub.js';
import { SYSROOT } from '../outputs/ostree-layout.js';
import { defineStage } from './define.js';

export const ostreeDeploy = defineStage({
  name: 'ostree-deploy',
  version: 3,
  kind: 'image',
  summary: "Deploys the commit into a sysroot folder as a device has it (the repository, the stateroot, one deployment whose origin is the recipe's remote), with GRUB's first menu made from OSTree's boot entries (the device's ostree admin upgrade writes the next ones with grub-mkconfig) and the ESP's files; the disk's file systems are made from it.",
  options: z.strictObject({
    name: z.string(),
    /** The stateroot (ostree admin os-init): the deployment's /var lives under it. */
    osName: z.string(),
    ref: z.string(),
    /** The remote `ostree admin upgrade` pulls from (ostree.url); null: the origin is the bare ref. */
    remote: z.string().nullable(),
    kargs: z.array(z.string()),
    /**
     * Where the boot entries' paths start on the file system GRUB finds by bootUuid: "/boot" on the
     * root, "" on a /boot partition. (bookworm's ostree, which deploys here, has no sysroot.bootprefix.)
     */
    bootPath: z.string(),
    bootUuid: z.string(),
    /** The ESP's mount point: its files (GRUB's EFI binary) are copied in from the tree. */
    esp: z.string().nullable(),
  }),
  async run(ctx, o) {
    const commit = ctx.facts.ostree?.commit;
    if (!commit) throw new Error('ostree-deploy needs the ostree-commit stage to run first');
    const source = join(ctx.scratch, 'repo');
    await mkdir(source);
    await ctx.exec('tar', ['--extract', '--file', join(ctx.work, `${o.name}.ostree.tar`), '--directory', source]);

    const sysroot = join(ctx.work, SYSROOT);
    const repo = `--repo=${join(sysroot, 'ostree/repo')}`;
    await mkdir(sysroot);
    await ctx.exec('ostree', ['admin', 'init-fs', sysroot]);
    await ctx.exec('ostree', ['admin', 'os-init', o.osName, `--sysroot=${sysroot}`]);
    // The first menu is kiln's to write: OSTree's grub2 backend runs grub-mkconfig, which needs the machine's devices.
    await ctx.exec('ostree', ['config', repo, 'set', 'sysroot.bootloader', 'none']);
    await ctx.exec('ostree', ['pull-local', repo, source, commit]);
    const refspec = o.remote === null ? o.ref : `${o.remote}:${o.ref}`;
    await ctx.exec('ostree', ['refs', repo, `--create=${refspec}`, commit]);
    // Without CAP_SYS_ADMIN: as root, ostree freezes the file system the folder is on while it syncs (the host's).
    // --karg-append keeps a repeated key (console=tty0 and console=ttyS0); --karg would keep the last.
    try {
      await ctx.exec('setpriv', [
        '--bounding-set=-sys_admin', '--inh-caps=-sys_admin',
        'ostree', 'admin', 'deploy', `--sysroot=${sysroot}`, `--os=${o.osName}`, ...o.kargs.map((k) => `--karg-append=${k}`), refspec,
      ]);
    } finally {
      // OSTree makes each deployment immutable (chattr +i): the store must be able to remove this
      // folder, after a failure too. (mke2fs -d does not copy the flag onto the disk either way.)
      await ctx.exec('sh', ['-c', 'chattr -R -i "$1" 2>/dev/null || true', 'chattr', join(sysroot, 'ostree/deploy')]);
    }

    const entriesDir = join(sysroot, 'boot/loader/entries');
    const entries = await Promise.all((await readdir(entriesDir)).filter((f) => f.endsWith('.conf')).map(async (f) => parseBootEntry(f, await readFile(join(entriesDir, f), 'utf8'))));
    if (!entries.length) throw new BuildError(`ostree admin deploy wrote no boot entry into ${entriesDir}`);
    // GRUB's modules and early.cfg as the grub stage made them in the tree. Its grub.cfg reads the
    // menu of the current boot configuration (boot/loader, a link OSTree swaps), whose first one is
    // written here; an environment block is there for state GRUB keeps across boots (save_env).
    await cp(join(ctx.root, 'boot/grub'), join(sysroot, 'boot/grub'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    await writeFile(join(sysroot, 'boot/grub/grub.cfg'), loaderGrubCfg({ bootPath: o.bootPath }));
    await writeFile(join(sysroot, 'boot/grub/grubenv'), grubEnvBlock());
    const serial = o.kargs.some((k) => k.startsWith('console=ttyS'));
    await writeFile(join(sysroot, 'boot/loader/grub.cfg'), deploymentGrubCfg({ bootUuid: o.bootUuid, bootPath: o.bootPath, serial, entries }));
    // On the device, OSTree's grub2 backend writes each next menu with grub-mkconfig (the commit has
    // it, /etc/default/grub and OSTree's /etc/grub.d/15_ostree). bootprefix: the entries' paths start
    // at /boot when /boot is a folder of the root file system (trixie's ostree; bookworm's has no
    // such key, and its device needs /boot as a partition of its own).
    await ctx.exec('ostree', ['config', repo, 'set', 'sysroot.bootloader', 'grub2']);
    if (o.bootPath === '/boot') await ctx.exec('ostree', ['config', repo, 'set', 'sysroot.bootprefix', 'true']);
    if (o.esp !== null) await cp(join(ctx.root, o.esp), join(sysroot, o.esp), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    ctx.log(`deployed ${refspec} (${commit}) for ${o.osName}: ${entries.map((e) => e.title).join(', ')}`);
  },
});
