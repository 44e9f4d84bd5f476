/**
 * What an initramfs-tools initramfs is made from, and whether a change to the root since it was
 * made touches any of it. The kernel stage makes the initramfs before the recipe's own packages;
 * every stage after it records what it changed as its own store layer, and the initramfs stage at the end
 * remakes the initramfs only if one of those changes is something mkinitramfs reads:
 * - its settings, hooks and scripts, and the post-update hooks update-initramfs runs;
 * - the kernel's modules and firmware, and modprobe's and depmod's settings;
 * - what its standard hooks read (udev's rules and settings, network .link files, fstab and crypttab,
 *   the dynamic linker's settings), and the settings of Debian's other initramfs hooks (cryptsetup,
 *   LVM, mdadm, plymouth, the console's keymap, dropbear, iSCSI, multipath, ZFS);
 * - the programs that make it (mkinitramfs, depmod, cpio, the compressors, dracut-install);
 * - every file the initramfs has a copy of (the programs and libraries its hooks copy).
 * A package set's own request (Debian's update-initramfs trigger, which every package with hooks or
 * modules uses) counts too: that is how a Debian system itself decides to remake it.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Paths (relative to the root, without /usr for the merged folders) whose change remakes the initramfs. */
export const INITRAMFS_INPUTS: readonly string[] = [
  'etc/initramfs-tools',
  'share/initramfs-tools',
  'etc/initramfs',
  'lib/modules',
  'lib/firmware',
  'etc/modprobe.d',
  'lib/modprobe.d',
  'etc/depmod.d',
  'lib/depmod.d',
  'etc/udev',
  'lib/udev',
  'etc/systemd/network',
  'lib/systemd/network',
  'etc/fstab',
  'etc/fstab.d',
  'etc/crypttab',
  'etc/ld.so.conf',
  'etc/ld.so.conf.d',
  'etc/cryptsetup-initramfs',
  'etc/lvm',
  'etc/mdadm',
  'etc/plymouth',
  'share/plymouth',
  'etc/console-setup',
  'etc/default/keyboard',
  'etc/default/console-setup',
  'etc/dropbear/initramfs',
  'etc/iscsi',
  'etc/multipath',
  'etc/multipath.conf',
  'etc/zfs',
  'etc/default/zfs',
  'lib/dracut',
  'lib/klibc',
  'sbin/mkinitramfs',
  'sbin/update-initramfs',
  'sbin/depmod',
  'bin/kmod',
  'sbin/ldconfig',
  'bin/cpio',
  'bin/zstd',
  'bin/gzip',
  'bin/xz',
  'bin/lz4',
  'bin/bzip2',
  'bin/lzop',
];

/** Files of the initramfs that mkinitramfs writes itself: the root's file of that name is not read. */
const GENERATED = new Set(['etc/ld.so.cache', 'etc/mtab']);

/**
 * One spelling for a path of a merged-/usr root: `usr/lib/x` and `lib/x` are the same file (the
 * top-level folders are links into /usr). `usr/share` loses its prefix too, which is why the
 * inputs above name `share/...` (a root has no top-level /share for it to be confused with).
 */
export function normalize(path: string): string {
  const p = path.replace(/^\/+/, '').replace(/\/+$/, '');
  return /^usr\/(bin|sbin|lib|lib32|lib64|libx32|share)(\/|$)/.test(p) ? p.slice('usr/'.length) : p;
}

export interface Change {
  path: string;
  stage: string;
  /** A folder of the layer: there because something in it changed (or its owner or mode). */
  folder: boolean;
}

/**
 * The first change that the initramfs is made from, or undefined if none is. `initrdFiles`: the
 * initramfs's files and links (not its folders, which every layer that adds a file beside them has too).
 */
export function firstInput(changes: readonly Change[], initrdFiles: ReadonlySet<string>): Change | undefined {
  const files = new Set([...initrdFiles].map(normalize).filter((p) => !GENERATED.has(p)));
  return changes.find((change) => {
    const p = normalize(change.path);
    // A folder is compared with the inputs only: the initramfs's own /lib is a link to usr/lib.
    return (!change.folder && files.has(p)) || INITRAMFS_INPUTS.some((input) => p === input || p.startsWith(`${input}/`));
  });
}

/**
 * Every path the layers changed (added, replaced, removed: a removal is a whiteout in the layer),
 * with the stage whose layer it is. A layer holds only what its stage changed, and the folders above it.
 */
export async function changesIn(layers: readonly { stage: string; tree: string }[]): Promise<Change[]> {
  const out: Change[] = [];
  for (const { stage, tree } of layers) {
    const walk = async (dir: string, rel: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = rel ? `${rel}/${entry.name}` : entry.name;
        out.push({ path, stage, folder: entry.isDirectory() });
        if (entry.isDirectory()) await walk(join(dir, entry.name), path);
      }
    };
    await walk(tree, '');
  }
  return out;
}
