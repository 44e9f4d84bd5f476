/**
 * Everything kiln knows per target architecture, in one table: the kernel package, the serial
 * console, the EFI file names, GRUB's EFI platform, how QEMU boots it, and whether this amd64 host
 * needs qemu-user (binfmt_misc) to run its programs. Pure.
 */

export const ARCH_NAMES = ['amd64', 'arm64', 'armhf', 'i386'] as const;
export type ArchName = (typeof ARCH_NAMES)[number];

export interface ArchInfo {
  /** Debian's kernel metapackage. */
  kernel: string;
  /** The serial console the default kernel command line names. */
  console: string;
  /** EFI file suffix: BOOT<X>.EFI, systemd-boot<x>.efi. */
  efi: string;
  /** GRUB's EFI platform and the Debian package with its modules. */
  grubEfi: { platform: string; package: string };
  /** GRUB for BIOS PCs (i386-pc), where the architecture has BIOS machines. */
  grubBios: boolean;
  qemu: {
    binary: string;
    /** Machine and CPU flags (TCG: a named CPU is faster to emulate than "max"). */
    args: string[];
    /** UEFI firmware: read-only code and a template for the variable store, first match wins. */
    firmware: { code: string; vars: string }[];
    /** The Debian package with that firmware. */
    firmwarePackage: string;
    /**
     * Secure Boot firmware (kiln boot --secure-boot): SMM-enforcing code and a VARS template per
     * key set, first existing pair wins. ms: Microsoft's keys enrolled (Debian's shim boots);
     * snakeoil: Debian's ovmf test key pair in PK, KEK and db. Other distributions' paths follow.
     */
    secureBoot?: Record<'ms' | 'snakeoil', { code: string; vars: string }[]>;
    systemPackage: string;
  };
  /**
   * qemu-user's name for it (binfmt_misc entry qemu-<name>); null: an amd64 host always runs it.
   * With `native`, an amd64 kernel runs it itself when IA32 emulation is on, and qemu-user only
   * where that is switched off (ia32_emulation=off, as on some cloud and microVM kernels).
   */
  binfmt: string | null;
  native: boolean;
  /** The OCI platform. */
  oci: { architecture: string; variant?: string };
}

export const ARCHES: Record<ArchName, ArchInfo> = {
  amd64: {
    kernel: 'linux-image-amd64',
    console: 'ttyS0',
    efi: 'x64',
    grubEfi: { platform: 'x86_64-efi', package: 'grub-efi-amd64-bin' },
    grubBios: true,
    qemu: {
      binary: 'qemu-system-x86_64',
      // qemu64 (x86-64's baseline, which Debian builds for), not max: under TCG a trixie boot to
      // login took about 12 % less CPU time (medians of 14 and 15 boots in turns,
      // bench/boot-cpu.ts). max offers AVX2, 5-level paging and more, each emulated instruction
      // by instruction.
      args: ['-machine', 'q35', '-cpu', 'qemu64'],
      firmware: [
        { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
        { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' },
      ],
      firmwarePackage: 'ovmf',
      secureBoot: {
        ms: [
          { code: '/usr/share/OVMF/OVMF_CODE_4M.ms.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd' },
          { code: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd' },
          { code: '/usr/share/OVMF/OVMF_CODE.secboot.fd', vars: '/usr/share/OVMF/OVMF_VARS.ms.fd' },
          // Fedora, Arch: the secboot VARS have Microsoft's keys enrolled.
          { code: '/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd', vars: '/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd' },
          { code: '/usr/share/edk2/x64/OVMF_CODE.secboot.4m.fd', vars: '/usr/share/edk2/x64/OVMF_VARS.4m.fd' },
        ],
        snakeoil: [
          { code: '/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd' },
          { code: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd' },
        ],
      },
      systemPackage: 'qemu-system-x86',
    },
    binfmt: null,
    native: true,
    oci: { architecture: 'amd64' },
  },
  arm64: {
    kernel: 'linux-image-arm64',
    console: 'ttyAMA0',
    efi: 'aa64',
    grubEfi: { platform: 'arm64-efi', package: 'grub-efi-arm64-bin' },
    grubBios: false,
    qemu: {
      binary: 'qemu-system-aarch64',
      args: ['-machine', 'virt', '-cpu', 'cortex-a72'],
      firmware: [{ code: '/usr/share/AAVMF/AAVMF_CODE.fd', vars: '/usr/share/AAVMF/AAVMF_VARS.fd' }],
      firmwarePackage: 'qemu-efi-aarch64',
      systemPackage: 'qemu-system-arm',
    },
    binfmt: 'aarch64',
    native: false,
    oci: { architecture: 'arm64', variant: 'v8' },
  },
  armhf: {
    kernel: 'linux-image-armmp-lpae',
    console: 'ttyAMA0',
    efi: 'arm',
    grubEfi: { platform: 'arm-efi', package: 'grub-efi-arm-bin' },
    grubBios: false,
    qemu: {
      binary: 'qemu-system-arm',
      args: ['-machine', 'virt', '-cpu', 'cortex-a15'],
      firmware: [{ code: '/usr/share/AAVMF/AAVMF32_CODE.fd', vars: '/usr/share/AAVMF/AAVMF32_VARS.fd' }],
      firmwarePackage: 'qemu-efi-arm',
      systemPackage: 'qemu-system-arm',
    },
    binfmt: 'arm',
    native: false,
    oci: { architecture: 'arm', variant: 'v7' },
  },
  i386: {
    kernel: 'linux-image-686-pae',
    console: 'ttyS0',
    efi: 'ia32',
    grubEfi: { platform: 'i386-efi', package: 'grub-efi-ia32-bin' },
    grubBios: true,
    qemu: {
      binary: 'qemu-system-i386',
      args: ['-machine', 'q35', '-cpu', 'max'],
      firmware: [{ code: '/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd', vars: '/usr/share/OVMF/OVMF32_VARS_4M.fd' }],
      firmwarePackage: 'ovmf-ia32',
      systemPackage: 'qemu-system-x86',
    },
    binfmt: 'i386',
    native: true,
    oci: { architecture: '386' },
  },
};

export function archInfo(arch: string): ArchInfo {
  const info = (ARCHES as Record<string, ArchInfo | undefined>)[arch];
  if (!info) throw new Error(`no architecture table entry for ${arch}`);
  return info;
}

/**
 * The consoles a kernel command line gets when neither the recipe nor a layer names one: the
 * screen and the machine's serial port. A Raspberry Pi 3 or 4 has its GPIO serial port at ttyS1
 * (the mini UART; the PL011 serves Bluetooth).
 */
export function defaultConsoles(arch: string, bootloader: string): string[] {
  const serial = bootloader === 'rpi-firmware' ? 'ttyS1' : archInfo(arch).console;
  return ['console=tty0', `console=${serial},115200`];
}
