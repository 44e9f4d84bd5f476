/**
 * Rules for OSTree commits: a valid ref, a repository kiln can add to, a remote URL a device can
 * reach, and what a commit cannot be combined with yet.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { releaseInfo } from '../distro/releases.js';
import { ostreeRefProblem } from '../outputs/ostree-layout.js';
import { buildsDisk, type OutputName } from './allowed.js';
import { resolveInside } from './files.js';
import type { Origin } from './origins.js';
import type { Recipe } from './schema.js';
import { show, type KeyPath } from './source.js';

type Fail = (path: KeyPath, message: string) => void;

export function validateOstree(recipe: Recipe, origin: Origin, service: boolean, fail: Fail): void {
  const at = recipe.outputs.indexOf('ostree-repo');
  const ostree = recipe.ostree;
  const container = recipe.outputs.indexOf('ostree-container');
  if (!ostree) {
    if (at >= 0) fail(['outputs', at], 'commits the image to OSTree, which needs ostree: { ref: ... } (e.g. ref: debian/trixie/amd64/edge, repo: ./repo)');
    if (container >= 0) fail(['outputs', container], 'serves an OSTree commit, which needs ostree: { ref: ... } (e.g. ref: debian/trixie/amd64/edge, repo: ./repo) and the ostree-repo output');
    return;
  }
  if (at < 0) fail(['ostree'], 'makes a commit only with the ostree-repo output; add ostree-repo to outputs');
  recipe.outputs.forEach((o, i) => {
    if (o !== 'ostree-repo' && o !== 'ostree-container' && !DEPLOYED_FORMATS.includes(o)) fail(['outputs', i], `${show(o)} cannot go with ostree yet: an OSTree recipe makes its commit (ostree-repo), if asked a container serving it (ostree-container) and a disk with the commit deployed (${DEPLOYED_FORMATS.join(', ')})`);
  });
  if (recipe.outputs.some((o) => DEPLOYED_FORMATS.includes(o))) validateDeployedDisk(recipe, fail);
  const problem = ostreeRefProblem(ostree.ref);
  if (problem) fail(['ostree', 'ref'], `${show(ostree.ref)} is not a valid OSTree ref: it ${problem} (e.g. debian/trixie/amd64/edge)`);
  if (recipe.distro.name !== 'debian') fail(['ostree'], `the commit boots with Debian's ostree-boot (its dracut module), which ${recipe.distro.name} does not ship; use distro: debian`);
  if (recipe.kernel.package === 'none') fail(['ostree'], 'a commit boots its own kernel from /usr/lib/modules, and kernel.package is "none"; name a kernel package (e.g. linux-image-amd64)');
  if (recipe.kernel.uki) fail(['kernel', 'uki'], "cannot go with ostree: a deployment's boot entries start the kernel and initramfs of the commit, not a unified kernel image; remove kernel.uki");
  if (recipe.secure_boot !== undefined) fail(['secure_boot'], 'cannot go with ostree yet: kiln does not sign the kernels of deployments; remove secure_boot');
  if (ostree.url !== undefined && !remoteUrl(ostree.url)) fail(['ostree', 'url'], `${show(ostree.url)} is not a URL a device can pull from; give an http:// or https:// URL (e.g. http://updates.example.com/repo)`);
  if (ostree.sign !== undefined) {
    const found = resolveInside(origin.folder, ostree.sign.key, 'recipe');
    if ('error' in found) fail(['ostree', 'sign', 'key'], `${show(ostree.sign.key)} ${found.error}`);
    else if (found.kind !== 'file') fail(['ostree', 'sign', 'key'], `${show(ostree.sign.key)} is a directory; give the file of an OpenPGP secret key (gpg --export-secret-keys --armor KEYID > key.asc)`);
  }
  if (recipe.compress !== 'none' && !recipe.outputs.includes('raw')) fail(['compress'], `applies to raw and tar outputs, and this OSTree recipe makes neither (a commit's objects are compressed already); remove compress`);
  if (ostree.repo !== undefined && service) {
    // A worker's folders are temporary, and any other path is someone else's machine: never read.
    fail(['ostree', 'repo'], `a build on the service keeps its commit as the ostree-repo artifact (${recipe.name}.ostree.tar) and publishes into no repository; remove ostree.repo, and pull the artifact into your repository with ostree pull-local`);
  } else if (ostree.repo !== undefined) {
    const repo = isAbsolute(ostree.repo) ? ostree.repo : join(origin.folder, ostree.repo);
    const repoProblem = repositoryProblem(repo) ?? refClash(repo, ostree.ref);
    if (repoProblem) fail(['ostree', 'repo'], `${show(ostree.repo)} ${repoProblem}`);
  }
}

/**
 * The image is made for the recipe's disk: a disk is built, or the recipe is a GRUB-booted OSTree
 * commit, whose devices boot from that disk, so even a commit-only build carries its fstab and GRUB
 * settings (the same commit whichever outputs a build asks for).
 */
export function madeForDisk(recipe: Recipe): boolean {
  return buildsDisk(recipe.outputs) || (recipe.ostree !== undefined && recipe.bootloader === 'grub-efi');
}

/** Disk images that can hold a deployed commit (osbuild's edge-raw-image); an installer ISO cannot yet. */
const DEPLOYED_FORMATS: readonly OutputName[] = ['raw', 'qcow2', 'vmdk', 'vhdx', 'vdi'];

/**
 * The disk of a deployed commit: GRUB reads the deployment's kernel from ext4 (systemd-boot reads
 * only the FAT ESP, where OSTree's boot folder with its symlinked loader cannot live), and the
 * root file system holds the whole sysroot: a deployment, its /var and the repository.
 */
function validateDeployedDisk(recipe: Recipe, fail: Fail): void {
  if (recipe.bootloader === 'grub-bios' || recipe.bootloader === 'grub-hybrid') {
    fail(['bootloader'], `${show(recipe.bootloader)}: kiln boots OSTree deployments on UEFI machines only so far; use bootloader: grub-efi`);
  } else if (recipe.bootloader !== 'grub-efi') {
    fail(['bootloader'], `${show(recipe.bootloader)} cannot boot an OSTree deployment: kiln boots deployments with GRUB from ext4, where OSTree keeps kernels and boot entries; use bootloader: grub-efi`);
  }
  // The device writes its next menu from OSTree's boot entries. trixie's ostree starts their paths
  // at /boot (sysroot.bootprefix); bookworm's (2022.7) has no such key and writes them relative to
  // the file system holding /boot, so on a root file system GRUB would find no kernel after an update.
  const version = Number(releaseInfo(recipe.distro.release)?.version ?? Infinity);
  if (version < 13 && !recipe.disk.partitions.some((p) => p.mount === '/boot')) {
    fail(['disk'], `a deployed OSTree disk of ${recipe.distro.release} needs /boot as a partition of its own: ${recipe.distro.release}'s ostree writes boot entries relative to it, and with /boot on the root GRUB would find no kernel after the first update; add a partition { name: boot, type: linux, size: 1G, fs: ext4, mount: /boot } before the root`);
  }
  recipe.disk.partitions.forEach((part, i) => {
    const at = (key: string): KeyPath => ['disk', 'partitions', i, key];
    // The root is ext4 on every disk (validate.ts says so).
    if (part.mount === '/boot') {
      if (part.fs !== 'ext4' && part.fs !== 'ext2') fail(at('fs'), `${show(part.fs ?? 'none')} cannot hold OSTree's kernels and boot entries (with the loader symlink); use fs: ext4 (or ext2)`);
    } else if (part.mount !== '/' && part.mount !== undefined && part.mount !== '/boot/efi' && part.mount !== '/efi') {
      fail(at('mount'), `${show(part.mount)}: a deployed OSTree disk has a root (/), an optional /boot and the ESP (/boot/efi or /efi) only; keep data under /var, which every deployment shares, or remove this partition`);
    }
  });
}

function remoteUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && !/\s/.test(url);
  } catch {
    return false;
  }
}

/**
 * A missing folder is made on the first commit; an existing one must be an archive repository
 * (the mode a web server serves): a bare one holds files as a system checkout uses them.
 */
export function repositoryProblem(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  if (!statSync(path).isDirectory()) return 'is a file, not an OSTree repository folder; give a folder (made on the first commit if missing)';
  const config = join(path, 'config');
  if (!existsSync(config)) {
    if (readdirSync(path).length === 0) return undefined;
    return 'is a folder but not an OSTree repository (it has no config file); give an empty or missing folder, or one made with ostree init --mode=archive';
  }
  const mode = /^\s*mode\s*=\s*(\S+)/m.exec(readFileSync(config, 'utf8'))?.[1];
  if (mode !== 'archive' && mode !== 'archive-z2') {
    return `is an OSTree repository in mode ${mode ?? 'unknown'}, and kiln commits to archive repositories (the mode served over HTTP); give another folder, or make one with ostree init --mode=archive`;
  }
  return undefined;
}

/** Refs are files under refs/heads: one cannot be the folder of another. */
function refClash(repo: string, ref: string): string | undefined {
  const heads = join(repo, 'refs', 'heads');
  const parts = ref.split('/');
  for (let i = 1; i < parts.length; i++) {
    const above = join(heads, ...parts.slice(0, i));
    if (existsSync(above) && statSync(above).isFile()) return `has the ref ${parts.slice(0, i).join('/')}, and a ref cannot lie below another; choose a ref beside it`;
  }
  const own = join(heads, ...parts);
  if (existsSync(own) && statSync(own).isDirectory()) return `has refs below ${ref} (${readdirSync(own).sort().slice(0, 3).join(', ')}), so it cannot be a ref itself; choose a ref beside them`;
  return undefined;
}
