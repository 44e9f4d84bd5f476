/**
 * The root tree as an OSTree commit (osbuild's edge-commit): committed into a fresh archive
 * repository with the ref's previous commit as parent, and written as `<name>.ostree.tar`. The
 * tree itself is never changed: the commit is made from a view of it that hides what OSTree keeps
 * elsewhere and adds a small tree of what moved (src/outputs/ostree-layout.ts). Publishing pulls the commit into the recipe's
 * repository, where the ref moves, a static delta from the parent is made and the summary updated.
 */
import { chmod, chown, lstat, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { mountOverlay, unmount } from '../host/overlay.js';
import { grubDefaults } from '../outputs/ostree-grub.js';
import { ostreeLayout, type TreeEntry } from '../outputs/ostree-layout.js';
import { defineStage, originFolder, sourceDateEpoch, type StageContext } from './define.js';
import { openSigningKey, type SigningHome } from '../host/signing-key.js';

const Options = z.strictObject({
  name: z.string(),
  ref: z.string(),
  /** The ref's commit in the recipe's repository when the build was planned; null: the first. */
  parent: z.string().nullable(),
  /** The `version` metadata; null: none. */
  version: z.string().nullable(),
  recipeHash: z.string(),
  /** The remote a deployment updates from (ostree.url), written to /usr/etc/ostree/remotes.d. */
  remote: z.strictObject({ name: z.string(), url: z.string() }).nullable(),
  /** ostree.sign: the key file (relative to the recipe) and its sha256; null: unsigned. */
  sign: z.strictObject({ key: z.string(), sha256: z.string() }).nullable(),
  /** GRUB boots the deployments (bootloader: grub-efi): /usr/etc/default/grub for the device's grub-mkconfig. */
  grub: z.strictObject({ serial: z.boolean() }).nullable().default(null),
});
type Options = z.output<typeof Options>;

export const ostreeCommit = defineStage({
  name: 'ostree-commit',
  version: 4,
  kind: 'image',
  summary: "Commits the root tree to OSTree on the recipe's ref (the ref's last commit as parent) in OSTree's layout: /etc as /usr/etc, /var as a seed copied in where missing, the kernel and initramfs in /usr/lib/modules; writes the repository with that commit as <name>.ostree.tar.",
  options: Options,
  makes: ['outputs', 'ostree'],
  async run(ctx, o) {
    const key = o.sign === null ? undefined : openSigningKey(join(originFolder(ctx, 'recipe'), o.sign.key));
    if (key && 'problem' in key) throw new BuildError(`ostree.sign.key ${o.sign?.key ?? ''} ${key.problem}`);
    try {
      return await commit(ctx, o, key?.home);
    } finally {
      key?.home.remove();
    }
  },
});

async function commit(ctx: StageContext, o: Options, key: SigningHome | undefined) {
  const kernel = ctx.facts.kernel;
  if (!kernel) throw new Error('ostree-commit needs the kernel stage to run first');
  const layout = ostreeLayout(await listTree(ctx.root), kernel);
  const overlay = join(ctx.scratch, 'overlay');
  for (const dir of layout.dirs) await mkdir(join(overlay, dir), { recursive: true });
  for (const { from, to } of layout.copies) {
    await mkdir(dirname(join(overlay, to)), { recursive: true });
    await ctx.exec('cp', ['-a', '--no-target-directory', join(ctx.root, from), join(overlay, to)]);
  }
  for (const { path, target } of layout.links) await symlink(target, join(overlay, path));
  await mkdir(join(overlay, 'usr/lib/tmpfiles.d'), { recursive: true });
  await writeFile(join(overlay, 'usr/lib/tmpfiles.d/kiln-ostree-var.conf'), layout.tmpfiles);
  if (key && o.remote) {
    // ostree trusts every keyring in this folder for every remote.
    await mkdir(join(overlay, 'usr/share/ostree/trusted.gpg.d'), { recursive: true });
    await writeFile(join(overlay, `usr/share/ostree/trusted.gpg.d/${o.remote.name}.gpg`), key.publicKey);
  }
  if (o.remote) {
    await mkdir(join(overlay, 'usr/etc/ostree/remotes.d'), { recursive: true });
    // Signed: a device takes only commits and summaries signed by the key; unsigned, it could never pull with verification on.
    const verify = key ? 'gpg-verify=true\ngpg-verify-summary=true' : 'gpg-verify=false';
    await writeFile(join(overlay, `usr/etc/ostree/remotes.d/${o.remote.name}.conf`), `[remote "${o.remote.name}"]\nurl=${o.remote.url}\n${verify}\n`);
  }
  if (o.grub) {
    await mkdir(join(overlay, 'usr/etc/default'), { recursive: true });
    await writeFile(join(overlay, 'usr/etc/default/grub'), grubDefaults(o.grub));
  }
  // ostree refuses device nodes even where its skip list names them: the commit is made from an
  // overlayfs view instead, where a layer of whiteouts hides what the commit leaves out.
  const hide = join(ctx.scratch, 'hide');
  for (const path of layout.skip) {
    await mkdir(dirname(join(hide, path)), { recursive: true });
    await ctx.exec('mknod', [join(hide, path), 'c', '0', '0']);
  }
  // The topmost layer that has a folder gives it its mode and owner in the view: kiln's own folders
  // take those of the tree's (or Debian's usual 0755 root), never the umask's.
  await matchFolders(ctx.root, overlay);
  await matchFolders(ctx.root, hide);
  const view = join(ctx.scratch, 'view');
  await mkdir(view);
  await mountOverlay(ctx.exec, { lowers: [ctx.root, hide, overlay], cwd: ctx.scratch, target: view });

  const repo = join(ctx.scratch, 'repo');
  await ctx.exec('ostree', ['init', `--repo=${repo}`, '--mode=archive']);
  const epoch = sourceDateEpoch(ctx) ?? 0;
  const metadata = { 'kiln.recipe-hash': o.recipeHash, 'kiln.name': o.name, ...(o.version === null ? {} : { version: o.version }) };
  const made = await ctx.exec('ostree', [
    'commit', `--repo=${repo}`, `--branch=${o.ref}`, `--parent=${o.parent ?? 'none'}`,
    `--timestamp=${new Date(epoch * 1000).toISOString()}`, `--subject=${o.name}${o.version === null ? '' : ` ${o.version}`}`,
    ...Object.entries(metadata).map(([k, v]) => `--add-metadata-string=${k}=${v}`),
    '--generate-sizes', '--fsync=false', `--tree=dir=${view}`,
  ]).finally(() => unmount(ctx.exec, view));
  const checksum = made.stdout.trim();
  if (!/^[0-9a-f]{64}$/.test(checksum)) throw new BuildError(`ostree commit printed no commit checksum: ${checksum.slice(0, 200)}`);
  // The signature is detached metadata: the commit's checksum is the same signed or not.
  if (key) await ctx.exec('ostree', ['gpg-sign', `--repo=${repo}`, `--gpg-homedir=${key.homedir}`, checksum, key.fingerprint]);
  // No summary: it holds the time it was made, and publishing pulls the commit by its checksum.
  ctx.log(`ostree: ${o.ref} is ${checksum}${o.parent ? ` (parent ${o.parent})` : ' (no parent)'}${key ? `, signed by ${key.fingerprint}` : ''}`);
  const file = `${o.name}.ostree.tar`;
  // Deterministic: sorted names, numeric owners, one time for every entry.
  await ctx.exec('tar', ['--create', '--file', join(ctx.work, file), '--directory', repo, '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '--sort=name', '--numeric-owner', `--mtime=@${epoch}`, '.']);
  return { outputs: [{ file, format: 'ostree-repo' }], ostree: { ref: o.ref, commit: checksum, parent: o.parent, signedBy: key?.fingerprint ?? null } };
}

/** Gives every folder under `dir` the mode and owner of the same folder in `root`, or 0755 root:root where the tree has none. */
async function matchFolders(root: string, dir: string): Promise<void> {
  const folders = ['', ...(await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => relative(dir, join(d.parentPath, d.name)))];
  for (const rel of folders) {
    const real = await lstat(join(root, rel)).catch(() => undefined);
    const same = real?.isDirectory() ? real : undefined;
    await chmod(join(dir, rel), same ? same.mode & 0o7777 : 0o755);
    await chown(join(dir, rel), same?.uid ?? 0, same?.gid ?? 0);
  }
}

/** The root's top level, and two levels below the folders whose content moves (see ostreeLayout). */
async function listTree(root: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  const add = async (path: string, depth: number): Promise<void> => {
    const st = await lstat(join(root, path));
    entries.push({ path, type: st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : 'other', mode: st.mode, uid: st.uid, gid: st.gid });
    if (!st.isDirectory() || depth === 0) return;
    for (const name of (await readdir(join(root, path))).sort()) await add(`${path}/${name}`, depth - 1);
  };
  for (const name of (await readdir(root)).sort()) {
    const deep = ['var', 'home', 'root', 'opt', 'srv', 'mnt'].includes(name) ? 2 : ['dev', 'proc', 'sys', 'run', 'boot'].includes(name) ? 1 : 0;
    await add(name, deep);
  }
  return entries;
}
