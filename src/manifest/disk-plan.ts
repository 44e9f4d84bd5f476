/**
 * The disk part of the plan: partitions with their type as the table writes it, the ids the
 * kernel and fstab find them by, and the fstab itself. Pure: everything derives from the recipe.
 */
import { guidFromSeed, resolveGptType } from '../disk/guid.js';
import { archInfo } from '../arch/table.js';
import { resolveMbrType } from '../disk/mbr.js';
import { BOOTLOADERS, type BootloaderName, type Recipe } from '../recipe/index.js';
import { isGrubPlatform, type GrubPlatform } from '../stages/grub-platforms.js';
import { withSlots } from '../disk/slots.js';

const READ_ONLY = ['squashfs', 'erofs'];

/**
 * Mounts parents first (sorted by path), then swap. squashfs has no UUID, so it goes by PARTUUID.
 * On an A/B disk "/" is left out: the slot an update fills carries the same fstab into either slot,
 * and the kernel mounts the root it was told (root=PARTLABEL=system_<slot>, rw).
 */
export function fstabEntries(parts: ReturnType<typeof partitions>, layout = 'plain') {
  const mounted = parts
    .filter((p) => p.mount && p.fs && !(layout === 'ab' && p.mount === '/'))
    .sort((a, b) => (a.mount ?? '').localeCompare(b.mount ?? ''))
    .map((p) => ({
      source: p.fs === 'squashfs' ? `PARTUUID=${p.partUuid}` : `UUID=${p.uuid}`,
      mount: p.mount ?? '',
      fs: p.fs ?? '',
      options: p.options ?? defaultOptions(p),
      // fsck at boot only where a checker runs unattended: ext2/ext4 and FAT.
      pass: p.mount === '/' ? 1 : checkerOf(p) ? 2 : 0,
    }));
  const swap = parts.filter((p) => p.fs === 'swap').map((p) => ({ source: `UUID=${p.uuid}`, mount: 'none', fs: 'swap', options: p.options ?? 'sw', pass: 0 }));
  return [...mounted, ...swap];
}

/** The file systems checked at boot, and the package with their fsck.TYPE program. */
const FSCK_PACKAGES: Record<string, string> = { ext4: 'e2fsprogs', ext2: 'e2fsprogs', vfat: 'dosfstools' };

/** The package with a partition's checker, if its file system is one that is checked. */
function checkerOf(p: { fs?: string | undefined }): string | undefined {
  return p.fs !== undefined && Object.hasOwn(FSCK_PACKAGES, p.fs) ? FSCK_PACKAGES[p.fs] : undefined;
}

/**
 * The fsck programs an image's disk needs: without them systemd skips each check at boot and
 * initramfs-tools puts none in the initramfs, so a root file system left dirty by a power cut
 * is mounted unchecked (Debian's minbase has no e2fsprogs). The A/B layout's root slots count.
 */
export function fsckPackages(parts: ReturnType<typeof partitions>): string[] {
  return [...new Set(parts.filter((p) => p.mount).flatMap((p) => checkerOf(p) ?? []))].sort();
}

/**
 * The types of the root's and /usr's file systems that the initramfs checks before it mounts
 * them (initramfs-tools' FSTYPE): its fsck hook would read them from the device, which does not
 * exist on the build host.
 */
export function initramfsFsckTypes(parts: ReturnType<typeof partitions>): string[] {
  return [...new Set(parts.filter((p) => (p.mount === '/' || p.mount === '/usr') && checkerOf(p)).map((p) => p.fs ?? ''))].sort();
}

/**
 * Mount options where the recipe gives none. The ESP is mounted when first used, as systemd's
 * gpt-auto-generator mounts it: boot then waits neither for udev to find its device nor for the FAT
 * mount (4 to 5 s of a 29 s boot under emulation, measured), and an ESP idle for 2 minutes is
 * unmounted, so a power cut rarely finds its FAT dirty. mount(8) without systemd ignores x-* options.
 */
function defaultOptions(p: { fs?: string | undefined; mount?: string | undefined; esp: boolean }): string {
  if (p.fs === 'vfat') return p.esp ? 'umask=0077,x-systemd.automount,x-systemd.idle-timeout=2min' : 'umask=0077';
  if (READ_ONLY.includes(p.fs ?? '')) return 'ro';
  return p.mount === '/' ? 'errors=remount-ro' : 'defaults';
}

/** GRUB's BIOS platform where the bootloader boots BIOS PCs, its EFI one where it boots UEFI. */
export function grubPlatforms(bootloader: BootloaderName, arch: string): GrubPlatform[] {
  const efi = archInfo(arch).grubEfi.platform;
  if (!isGrubPlatform(efi)) throw new Error(`compile: the arch table names GRUB platform ${efi}, which the grub stage does not know`);
  const { bios, uefi } = BOOTLOADERS[bootloader];
  return [...(bios ? (['i386-pc'] as const) : []), ...(uefi ? [efi] : [])];
}

/** The disk's id: a GUID on GPT, a 32-bit signature (8 hex digits) on MBR; derived from the name. */
export function diskId(r: Recipe): string {
  if (r.disk.id !== undefined) return r.disk.table === 'mbr' ? r.disk.id.toLowerCase() : r.disk.id.toUpperCase();
  const guid = guidFromSeed(`kiln:${r.name}:disk`);
  return r.disk.table === 'mbr' ? guid.slice(0, 8).toLowerCase() : guid;
}

/**
 * Partitions with their type as the table writes it (a GUID, or an MBR byte in hex) and the
 * PARTUUID the kernel finds them by: the partition GUID on GPT, `<disk id>-<number>` on MBR.
 */
export function partitions(r: Recipe) {
  const mbr = r.disk.table === 'mbr';
  const list = withSlots(r.disk.partitions, r.disk.layout);
  const rootIndex = list.findIndex((p) => p.mount === '/boot') >= 0 ? list.findIndex((p) => p.mount === '/boot') : list.findIndex((p) => p.mount === '/');
  const anyBootable = list.some((p) => p.bootable);
  return list.map((p, i) => {
    const typeByte = resolveMbrType(p.type);
    const typeId = mbr ? (typeByte ?? 0).toString(16).padStart(2, '0') : (resolveGptType(p.type) ?? '');
    return {
      ...p,
      typeId,
      esp: mbr ? typeByte === resolveMbrType('esp') : typeId === resolveGptType('esp'),
      partUuid: mbr ? `${diskId(r)}-${(i + 1).toString(16).padStart(2, '0')}` : (p.partuuid ?? guidFromSeed(`kiln:${r.name}:part:${p.name}`)).toLowerCase(),
      // Some BIOSes boot only a disk with an active partition: the one holding /boot, unless the recipe picks.
      bootable: mbr && (anyBootable ? (p.bootable ?? false) : i === rootIndex),
      uuid: p.uuid?.toLowerCase() ?? fsUuid(r.name, p.name, p.fs),
    };
  });
}

/** ext4 takes a full UUID; FAT has a 32-bit volume id, written as XXXX-XXXX. */
function fsUuid(name: string, part: string, fs: string | undefined): string {
  const guid = guidFromSeed(`kiln:${name}:fs:${part}`).toLowerCase();
  return fs === 'vfat' ? `${guid.slice(0, 4)}-${guid.slice(4, 8)}`.toUpperCase() : guid;
}
