/**
 * Every value the recipe's enumerated keys accept, in one table: the recipe and layer schemas take
 * their enums from it, validation its messages and per-value rules (which bootloaders boot UEFI or
 * BIOS), the compiler what each value needs, and `kiln schema` the lists editors complete from.
 */
import { ARCH_NAMES } from '../arch/table.js';
import { RELEASE_NAMES } from '../distro/releases.js';

export interface Bootloader {
  /** Boots UEFI machines: the disk needs an EFI system partition. */
  uefi: boolean;
  /** Boots BIOS PCs: grub's core image goes into a bios-boot partition (GPT) or the MBR gap. */
  bios: boolean;
  /** What it needs in the image, beyond the kernel; `grub-efi` is the architecture's GRUB EFI package. */
  packages: readonly string[];
  /** Starts a unified kernel image (kernel.uki): systemd-boot finds it in EFI/Linux; none boots it as BOOT<X>.EFI. */
  uki: boolean;
}

export const BOOTLOADERS = {
  'systemd-boot': { uefi: true, bios: false, packages: ['systemd-boot-efi'], uki: true },
  'grub-efi': { uefi: true, bios: false, packages: ['grub-efi'], uki: false },
  'grub-bios': { uefi: false, bios: true, packages: ['grub-pc-bin'], uki: false },
  'grub-hybrid': { uefi: true, bios: true, packages: ['grub-pc-bin', 'grub-efi'], uki: false },
  'rpi-firmware': { uefi: false, bios: false, packages: ['raspi-firmware'], uki: false },
  none: { uefi: false, bios: false, packages: [], uki: true },
} as const satisfies Record<string, Bootloader>;
export type BootloaderName = keyof typeof BOOTLOADERS;

/** Output formats; `disk` ones are made from the disk image, the others from the tree. */
export const OUTPUTS = {
  raw: { disk: true },
  qcow2: { disk: true },
  vmdk: { disk: true },
  vhdx: { disk: true },
  vdi: { disk: true },
  tar: { disk: false },
  oci: { disk: false },
  /** A live ISO: the tree as squashfs, booted from CD or USB stick with a writable overlay in RAM. */
  iso: { disk: false },
  /** An installer ISO: boots the image's tree live and writes the raw disk image it carries onto a disk. */
  'installer-iso': { disk: true },
  /** The tree as an OSTree commit (with `ostree`): an archive repository holding it, as a tar. */
  'ostree-repo': { disk: false },
  /** The commit as an OCI image that serves its repository over HTTP (with `ostree`). */
  'ostree-container': { disk: false },
} as const;
export type OutputName = keyof typeof OUTPUTS;
/** Outputs that are disk images; a recipe with none of them (only tar/oci/iso) makes no disk. */
export const DISK_FORMATS = (Object.keys(OUTPUTS) as OutputName[]).filter((o) => OUTPUTS[o].disk);

/** A build of these outputs writes a disk image (partitions, a boot loader, an fstab); tar and oci do not. */
export function buildsDisk(outputs: readonly string[]): boolean {
  return outputs.some((o) => (DISK_FORMATS as readonly string[]).includes(o));
}
/** Outputs that boot the image's tree from an ISO 9660 medium with live-boot. */
export const LIVE_FORMATS: readonly OutputName[] = ['iso', 'installer-iso'];

const keys = <T extends object>(table: T) => Object.keys(table) as [keyof T & string, ...(keyof T & string)[]];

export interface Allowed {
  values: readonly [string, ...string[]];
  /** Values a later kiln will take: the user learns "not yet" rather than "wrong". */
  later?: readonly string[];
  /** Values refused for a reason worth more than "not valid". */
  refused?: Readonly<Record<string, string>>;
}

export const ALLOWED = {
  distro: { values: ['debian', 'ubuntu'] },
  variant: { values: ['minbase', 'essential', 'important', 'standard', 'required', 'buildd'] },
  arch: { values: ARCH_NAMES },
  bootloader: { values: keys(BOOTLOADERS) },
  output: { values: keys(OUTPUTS) },
  compress: { values: ['none', 'zstd', 'xz', 'gzip'] },
  table: { values: ['gpt', 'mbr'] },
  /** plain: one root file system; ab: two root slots, one running and one to update (A/B). */
  layout: { values: ['plain', 'ab'] },
  fs: {
    values: ['ext4', 'ext2', 'vfat', 'btrfs', 'squashfs', 'erofs', 'swap'],
    refused: {
      // xfsprogs 6.1 fills a file system only from a prototype file, which has no room for extended
      // attributes (file capabilities) or hard links: the image would silently lose them.
      xfs: '"xfs" is not supported: mkfs.xfs can fill a file system only from a prototype file, which drops extended attributes (file capabilities such as ping\'s) and hard links; use ext4 or btrfs',
    },
  },
  sbom: { values: ['spdx', 'cyclonedx'] },
} as const satisfies Record<string, Allowed>;

/**
 * Release names kiln has a table entry for (src/distro/releases.ts), for messages and editors'
 * completion; the mirror, asked before the build, says whether it has the release.
 */
export const KNOWN_RELEASES = RELEASE_NAMES;

/** The table entry whose values are exactly `values` (how a schema error finds its rules). */
export function allowedFor(values: readonly unknown[]): Allowed | undefined {
  return Object.values(ALLOWED).find((a: Allowed) => a.values.length === values.length && a.values.every((v, i) => v === values[i]));
}
