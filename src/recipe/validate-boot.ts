/**
 * Rules for the release, unified kernel images and Secure Boot: which bootloader can start a UKI,
 * which release has ukify, which bootloader a signed chain needs, and the recipe's key pair.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { archInfo } from '../arch/table.js';
import { CODENAMES, describeRelease, releaseInfo, ALIASES } from '../distro/releases.js';
import { BOOTLOADERS, LIVE_FORMATS } from './allowed.js';
import { resolveInside } from './files.js';
import type { Origin } from './origins.js';
import type { Recipe } from './schema.js';
import { checkSigningKeys } from './signing-keys.js';
import { parseDiskSize } from './sizes.js';
import { ISO_MAX_BYTES } from '../outputs/iso-boot.js';
import { show, type KeyPath } from './source.js';

type Fail = (path: KeyPath, message: string) => void;

const RELEASE_LIST = `${CODENAMES.join(', ')}, or ${Object.keys(ALIASES).join(', ')}`;

export function validateRelease(recipe: Recipe, fail: Fail): void {
  // Other distributions' releases are the mirror's business; Debian's are in kiln's table.
  if (recipe.distro.name !== 'debian' || releaseInfo(recipe.distro.release)) return;
  fail(['distro', 'release'], `${show(recipe.distro.release)} is not a Debian release kiln builds (${RELEASE_LIST})`);
}

export function validateUki(recipe: Recipe, disk: boolean, fail: Fail): void {
  // OSTree refuses kernel.uki with a reason of its own (validate-ostree.ts).
  if (!recipe.kernel.uki || recipe.ostree) return;
  const { bootloader } = recipe;
  const release = releaseInfo(recipe.distro.release);
  const x = archInfo(recipe.arch).efi.toUpperCase();
  if (recipe.kernel.package === 'none') fail(['kernel', 'uki'], 'a unified kernel image needs a kernel; remove kernel.uki or name a kernel package');
  else if (!BOOTLOADERS[bootloader].uki) {
    fail(['kernel', 'uki'], `${bootloader} cannot start a unified kernel image; use bootloader: systemd-boot (it finds EFI/Linux/*.efi itself), or bootloader: none (the UKI boots as EFI/BOOT/BOOT${x}.EFI), or remove kernel.uki`);
  } else if (!disk) fail(['kernel', 'uki'], 'a unified kernel image goes on the disk\'s EFI system partition, and these outputs make no disk (add raw or qcow2)');
  if (release && release.ukify === null) {
    fail(['kernel', 'uki'], `${describeRelease(recipe.distro.release)} has no systemd-ukify (it came with systemd 253; this release has ${release.systemd}); use distro.release: trixie, or remove kernel.uki`);
  }
}

/**
 * A live or installer ISO starts the image's own kernel with GRUB for BIOS and UEFI, made on the
 * host for PCs (grub-mkrescue), and finds its root with Debian's live-boot.
 */
export function validateLiveIso(recipe: Recipe, fail: Fail): void {
  for (const format of LIVE_FORMATS) {
    const at = recipe.outputs.indexOf(format);
    if (at < 0) continue;
    if (recipe.kernel.package === 'none') {
      fail(['outputs', at], `${format === 'iso' ? 'a live' : 'an installer'} ISO boots the image's own kernel, and kernel.package is "none"; name a kernel package (e.g. linux-image-amd64) or remove ${format}`);
    }
    if (recipe.arch !== 'amd64') {
      fail(['outputs', at], `kiln makes ISOs for PCs (amd64: GRUB for BIOS and UEFI); this recipe builds ${recipe.arch}, so use raw or qcow2 (written to the disk or SD card with bmaptool)`);
    }
    if (recipe.distro.name !== 'debian') {
      fail(['outputs', at], `an ISO finds its root with Debian's live-boot, which ${recipe.distro.name} does not ship; use distro: debian or remove ${format}`);
    }
  }
}

/**
 * The installer's settings: only with an installer ISO, a device path or auto, and no setting
 * that installs again and again (unattended and rebooting into the installer's own medium).
 */
export function validateInstaller(recipe: Recipe, fail: Fail): void {
  const installer = recipe.installer;
  const at = recipe.outputs.indexOf('installer-iso');
  if (installer && at < 0) fail(['installer'], 'applies only to the installer-iso output; add installer-iso to outputs or remove installer');
  if (installer && installer.target !== 'auto' && !/^\/dev\/[A-Za-z0-9][A-Za-z0-9/._:-]*$/.test(installer.target)) {
    fail(['installer', 'target'], `${show(installer.target)} is not a disk; give a device path (e.g. /dev/sda, /dev/nvme0n1, /dev/disk/by-path/...) or auto`);
  }
  if (installer && !installer.confirm && !installer.poweroff) {
    fail(['installer', 'poweroff'], 'is false with confirm: false, so after installing the machine would restart from the installer medium and install again without asking; set poweroff: true, or confirm: true');
  }
  if (at >= 0 && recipe.kernel.package !== 'none' && recipe.bootloader === 'none' && !recipe.kernel.uki) {
    fail(['outputs', at], 'installs a disk that nothing starts (bootloader: none without kernel.uki); choose a bootloader (systemd-boot, grub-efi, grub-hybrid) or set kernel.uki: true');
  }
  const size = parseDiskSize(recipe.disk.size);
  if (at >= 0 && typeof size === 'number' && size > ISO_MAX_BYTES) {
    fail(['disk', 'size'], `${show(recipe.disk.size)} is larger than an ISO 9660 medium can hold (8T) for installer-iso; make the disk smaller (the installer can grow the last partition with grow: true)`);
  }
}

/** `imageFolders`: every folder and file the image copies from the recipe's folder (files: src). */
export function validateSecureBoot(recipe: Recipe, recipeOrigin: Origin, imageSources: readonly string[], fail: Fail): void {
  const sb = recipe.secure_boot;
  if (sb === undefined) return;
  const { bootloader } = recipe;
  if (!BOOTLOADERS[bootloader].uefi && bootloader !== 'none') {
    fail(['secure_boot'], `Secure Boot is a UEFI feature and ${bootloader} boots ${BOOTLOADERS[bootloader].bios ? 'with a BIOS' : 'without UEFI'}; use bootloader: grub-efi (secure_boot: debian) or systemd-boot (secure_boot: { key, cert }), or remove secure_boot`);
    return;
  }
  if (sb === 'debian') {
    if (recipe.arch !== 'amd64') fail(['secure_boot'], `Debian's signed boot chain (shim-signed, grub-efi-amd64-signed) is for amd64; this recipe builds ${recipe.arch}`);
    else if (bootloader !== 'grub-efi') fail(['secure_boot'], `"debian" boots Debian's signed GRUB through shim and needs bootloader: grub-efi (for ${bootloader}, sign with your own keys: secure_boot: { key: db.key, cert: db.crt })`);
    if (recipe.kernel.uki) fail(['kernel', 'uki'], 'Debian signs its own kernel, not a UKI built here; with secure_boot: debian remove kernel.uki (or sign the UKI with your own keys: secure_boot: { key, cert })');
    return;
  }
  if (bootloader !== 'systemd-boot' && bootloader !== 'none') {
    fail(['secure_boot'], `kiln signs systemd-boot and the UKI with your keys; ${bootloader} is not signed (use bootloader: systemd-boot with kernel.uki: true, or secure_boot: debian with grub-efi)`);
    return;
  }
  if (!recipe.kernel.uki) {
    fail(['secure_boot'], 'with your own keys kiln signs a unified kernel image, whose signature covers the kernel, its initramfs and its command line; set kernel.uki: true');
  }
  const key = resolveInside(recipeOrigin.folder, sb.key);
  const cert = resolveInside(recipeOrigin.folder, sb.cert);
  if ('error' in key) fail(['secure_boot', 'key'], `${show(sb.key)} ${key.error}`);
  else if (key.kind !== 'file') fail(['secure_boot', 'key'], `${show(sb.key)} is a directory, not a key file`);
  if ('error' in cert) fail(['secure_boot', 'cert'], `${show(sb.cert)} ${cert.error}`);
  else if (cert.kind !== 'file') fail(['secure_boot', 'cert'], `${show(sb.cert)} is a directory, not a certificate file`);
  if ('error' in key || 'error' in cert || key.kind !== 'file' || cert.kind !== 'file') return;
  const copied = imageSources.find((src) => src === key.path || within(src, key.path));
  if (copied !== undefined) {
    fail(['secure_boot', 'key'], `${show(sb.key)} is inside ${copied}, which files: copies into the image; keep the private key out of every folder the image is made from`);
    return;
  }
  const checked = checkSigningKeys(key.path, cert.path, sb.key);
  if ('problem' in checked) fail(['secure_boot', checked.problem.on], `${show(checked.problem.on === 'key' ? sb.key : sb.cert)} ${checked.problem.message}`);
}

function within(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}
