/**
 * How a root tree becomes an OSTree commit, as a plan: the commit is the tree itself (read-only,
 * never changed) with some paths skipped, overlaid by a small second tree that holds what moved.
 * Pure: the ostree-commit stage lists the tree, asks this for the plan and carries it out.
 *
 * OSTree's rules, which `ostree admin deploy` relies on: /usr is the read-only system; /etc is
 * shipped as /usr/etc (deploy merges it with the machine's own /etc); /var is the machine's, so the
 * commit's is empty and its content is a seed that systemd-tmpfiles copies in where missing; the
 * kernel and initramfs live in /usr/lib/modules/VERSION/; writable top-level folders are links
 * into /var (home, root, opt, srv, mnt), /run (media) or the physical root (ostree); /tmp is an
 * empty folder (trixie mounts a tmpfs on it).
 */

/** Where a deployed machine finds the /var the image was built with. */
export const VAR_SEED = '/usr/share/kiln/var';

/** Top-level folders that are links in a deployment, with their targets (relative, as OSTree's own layout has them). */
export const ROOT_LINKS: readonly (readonly [string, string])[] = [
  ['home', 'var/home'],
  ['root', 'var/roothome'],
  ['opt', 'var/opt'],
  ['srv', 'var/srv'],
  ['mnt', 'var/mnt'],
  ['media', 'run/media'],
  ['ostree', 'sysroot/ostree'],
];

/** An entry of the tree, as the stage reads it with lstat. */
export interface TreeEntry {
  /** Relative to the root, no leading slash: "var/lib/dpkg". */
  path: string;
  type: 'dir' | 'file' | 'link' | 'other';
  mode: number;
  uid: number;
  gid: number;
}

export interface OstreeLayout {
  /** Absolute paths of the tree the commit leaves out. */
  skip: string[];
  /** Copies into the overlay tree: a path of the root to a path of the commit. */
  copies: { from: string; to: string }[];
  /** Symbolic links the overlay tree holds. */
  links: { path: string; target: string }[];
  /** Empty folders the overlay tree holds. */
  dirs: string[];
  /** usr/lib/tmpfiles.d/kiln-ostree-var.conf: makes /var's folders and copies in what is missing from the seed. */
  tmpfiles: string;
}

/** Entries of /var (seeded), and the writable top-level folders' content (which moves under /var). */
const SEEDED_TOPS: Record<string, string> = { var: '', home: 'home', root: 'roothome', opt: 'opt', srv: 'srv', mnt: 'mnt' };
/** The folder in ostree-deploy's files that holds the deployed sysroot: the disk's partitions are made from it. */
export const SYSROOT = 'sysroot';

/** Never in a commit: the kernel's and systemd's own file systems, and what a build leaves in them. */
const EMPTIED = ['dev', 'proc', 'sys', 'run', 'boot', 'tmp'];
/** Debian's links to the kernel in /boot, which point at nothing once it has moved. */
const KERNEL_LINKS = /^(vmlinuz|initrd\.img)(\.old)?$/;

/**
 * The plan for `entries` (every entry of the tree down to two levels below /var and the seeded
 * folders, and the top level). `kernel` names the kernel version whose files move to /usr/lib/modules.
 */
export function ostreeLayout(entries: readonly TreeEntry[], kernel: { version: string; vmlinuz: string; initrd: string }): OstreeLayout {
  const top = entries.filter((e) => !e.path.includes('/'));
  const under = (dir: string) => entries.filter((e) => e.path.startsWith(`${dir}/`) && !e.path.slice(dir.length + 1).includes('/'));
  const skip: string[] = [];
  const copies: OstreeLayout['copies'] = [];
  const links: OstreeLayout['links'] = [];
  const lines = [`# Written by kiln: /var as the image was built, copied from ${VAR_SEED} wherever it is missing.`];

  for (const e of top) {
    if (e.path === 'etc') {
      skip.push('/etc');
      copies.push({ from: '/etc', to: '/usr/etc' });
    } else if (EMPTIED.includes(e.path) || e.path === 'var') {
      for (const child of under(e.path)) skip.push(`/${child.path}`);
    } else if (ROOT_LINKS.some(([name]) => name === e.path) || e.path === 'sysroot' || (e.type === 'link' && KERNEL_LINKS.test(e.path))) {
      skip.push(`/${e.path}`);
    }
  }
  for (const [name, target] of ROOT_LINKS) links.push({ path: `/${name}`, target });

  for (const [from, to] of Object.entries(SEEDED_TOPS)) {
    const folder = top.find((e) => e.path === from && e.type === 'dir');
    if (!folder) continue;
    const seedDir = to === '' ? VAR_SEED : `${VAR_SEED}/${to}`;
    const varDir = to === '' ? '/var' : `/var/${to}`;
    if (to !== '') lines.push(tmpfilesLine('d', varDir, folder));
    for (const child of under(from)) {
      const name = child.path.slice(from.length + 1);
      copies.push({ from: `/${child.path}`, to: `${seedDir}/${name}` });
      // A folder is made, then filled entry by entry: `C` copies only into a folder that is empty or missing.
      if (child.type === 'dir') {
        lines.push(tmpfilesLine('d', `${varDir}/${name}`, child));
        for (const grandchild of entries.filter((g) => g.path.startsWith(`${child.path}/`) && !g.path.slice(child.path.length + 1).includes('/'))) {
          const rest = grandchild.path.slice(from.length + 1);
          lines.push(`C ${tmpfilesPath(`${varDir}/${rest}`)} - - - - ${tmpfilesPath(`${seedDir}/${rest}`)}`);
        }
      } else {
        lines.push(`C ${tmpfilesPath(`${varDir}/${name}`)} - - - - ${tmpfilesPath(`${seedDir}/${name}`)}`);
      }
    }
  }
  // /run/media, the target of /media, is on a tmpfs: made on every boot.
  lines.push('d /run/media 0755 root root -');

  copies.push({ from: kernel.vmlinuz, to: `/usr/lib/modules/${kernel.version}/vmlinuz` });
  copies.push({ from: kernel.initrd, to: `/usr/lib/modules/${kernel.version}/initramfs.img` });
  return { skip: [...new Set(skip)].sort(), copies, links, dirs: ['/sysroot'], tmpfiles: `${lines.join('\n')}\n` };
}

function tmpfilesLine(type: 'd', path: string, e: TreeEntry): string {
  return `${type} ${tmpfilesPath(path)} ${(e.mode & 0o7777).toString(8).padStart(4, '0')} ${e.uid} ${e.gid} -`;
}

/**
 * tmpfiles.d splits on whitespace, reads quotes and backslashes and expands "%" specifiers: such
 * characters are written C-escaped ("%" doubled).
 */
function tmpfilesPath(path: string): string {
  return path.replace(/%/g, '%%').replace(/[\s\\"']/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Why `ref` is not a valid OSTree ref, or undefined: libostree's rule (components of letters,
 * digits, "_", "-" and ".", each starting with a letter, digit or "_", joined by "/").
 */
export function ostreeRefProblem(ref: string): string | undefined {
  if (ref.length > 255) return 'is longer than 255 characters';
  const parts = ref.split('/');
  if (parts.some((p) => p === '')) return 'has an empty component (a leading, trailing or doubled "/")';
  const bad = parts.find((p) => !/^[\w.-]+$/.test(p));
  if (bad !== undefined) return `has the component ${JSON.stringify(bad)}, which has a character OSTree does not allow (letters, digits, "_", "-" and "." only)`;
  const start = parts.find((p) => !/^[A-Za-z0-9_]/.test(p));
  if (start !== undefined) return `has the component ${JSON.stringify(start)}, which does not start with a letter, digit or "_"`;
  return undefined;
}
