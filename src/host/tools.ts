/**
 * The host tools kiln drives, and the Debian packages that provide them: one table behind
 * `kiln doctor`, `kiln doctor --install` and the check every build makes before it starts.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tool {
  /** A command on PATH, or an absolute file path for firmware. */
  name: string;
  files?: string[];
  package: string;
  /** foreign: building or booting other architectures; cross-build: needed by every foreign build; iso: the iso output. */
  for: 'build' | 'boot' | 'verify' | 'foreign' | 'cross-build' | 'iso';
}

export const TOOLS: readonly Tool[] = [
  { name: 'mmdebstrap', package: 'mmdebstrap', for: 'build' },
  { name: 'unshare', package: 'util-linux', for: 'build' },
  { name: 'setpriv', package: 'util-linux', for: 'build' },
  { name: 'flock', package: 'util-linux', for: 'build' },
  { name: 'mount', package: 'mount', for: 'build' },
  { name: 'dpkg-query', package: 'dpkg', for: 'build' },
  { name: 'tar', package: 'tar', for: 'build' },
  { name: 'mkfs.ext4', package: 'e2fsprogs', for: 'build' },
  { name: 'mkfs.fat', package: 'dosfstools', for: 'build' },
  { name: 'mcopy', package: 'mtools', for: 'build' },
  { name: 'mkfs.btrfs', package: 'btrfs-progs', for: 'build' },
  { name: 'mksquashfs', package: 'squashfs-tools', for: 'build' },
  { name: 'mkfs.erofs', package: 'erofs-utils', for: 'build' },
  { name: 'mkswap', package: 'util-linux', for: 'build' },
  { name: 'qemu-img', package: 'qemu-utils', for: 'build' },
  { name: 'zstd', package: 'zstd', for: 'build' },
  { name: 'xz', package: 'xz-utils', for: 'build' },
  { name: 'gzip', package: 'gzip', for: 'build' },
  { name: 'filefrag', package: 'e2fsprogs', for: 'build' },
  { name: 'qemu-system-x86_64', package: 'qemu-system-x86', for: 'boot' },
  { name: 'OVMF firmware', files: ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd'], package: 'ovmf', for: 'boot' },
  // Other architectures: qemu-user runs their programs while building, QEMU and UEFI boot them.
  // mmdebstrap refuses a foreign architecture without arch-test, which asks whether it runs.
  { name: 'arch-test', package: 'arch-test', for: 'cross-build' },
  { name: 'qemu-aarch64-static', package: 'qemu-user-static', for: 'foreign' },
  { name: 'qemu-system-aarch64', package: 'qemu-system-arm', for: 'foreign' },
  { name: 'AAVMF firmware', files: ['/usr/share/AAVMF/AAVMF_CODE.fd'], package: 'qemu-efi-aarch64', for: 'foreign' },
  { name: 'AAVMF32 firmware', files: ['/usr/share/AAVMF/AAVMF32_CODE.fd'], package: 'qemu-efi-arm', for: 'foreign' },
  { name: 'OVMF32 firmware', files: ['/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd'], package: 'ovmf-ia32', for: 'foreign' },
  // Live ISOs: grub-mkrescue lays out GRUB for BIOS (i386-pc) and UEFI (x86_64-efi) with xorriso.
  { name: 'grub-mkrescue', package: 'grub-common', for: 'iso' },
  { name: 'xorriso', package: 'xorriso', for: 'iso' },
  { name: 'GRUB for BIOS', files: ['/usr/lib/grub/i386-pc/cdboot.img'], package: 'grub-pc-bin', for: 'iso' },
  { name: 'GRUB for UEFI', files: ['/usr/lib/grub/x86_64-efi/linux.mod'], package: 'grub-efi-amd64-bin', for: 'iso' },
  { name: 'sfdisk', package: 'fdisk', for: 'verify' },
  { name: 'sgdisk', package: 'gdisk', for: 'verify' },
  { name: 'debugfs', package: 'e2fsprogs', for: 'build' },
  { name: 'bmaptool', package: 'bmap-tools', for: 'verify' },
  { name: 'fsck.erofs', package: 'erofs-utils', for: 'verify' },
  { name: 'unsquashfs', package: 'squashfs-tools', for: 'verify' },
  { name: 'btrfs', package: 'btrfs-progs', for: 'verify' },
  { name: 'skopeo', package: 'skopeo', for: 'verify' },
  { name: 'podman', package: 'podman', for: 'verify' },
  // The recipe-keys test builds a signed apt repository of its own (apt.sources).
  { name: 'apt-ftparchive', package: 'apt-utils', for: 'verify' },
  { name: 'gpg', package: 'gpg', for: 'verify' },
  // The build service's tests: a PostgreSQL cluster of their own (initdb + pg_ctl, which Debian
  // keeps off PATH) and the web interface driven in Debian's chromium.
  { name: 'PostgreSQL server', files: ['/usr/lib/postgresql'], package: 'postgresql', for: 'verify' },
  { name: 'chromium', package: 'chromium', for: 'verify' },
];

export function onPath(command: string, path = process.env.PATH ?? ''): boolean {
  const dirs = [...path.split(delimiter), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function isPresent(tool: Tool): boolean {
  return tool.files ? tool.files.some((f) => existsSync(f)) : onPath(tool.name);
}

export function missingTools(purposes: readonly Tool['for'][]): Tool[] {
  return TOOLS.filter((t) => purposes.includes(t.for) && !isPresent(t));
}
