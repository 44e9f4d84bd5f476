/**
 * The GRUB platforms kiln installs: the grub stage's schema and the compiler, which picks them from
 * the bootloader and the architecture, share this list.
 */
export const GRUB_PLATFORMS = ['i386-pc', 'x86_64-efi', 'i386-efi', 'arm64-efi', 'arm-efi'] as const;
export type GrubPlatform = (typeof GRUB_PLATFORMS)[number];

export function isGrubPlatform(name: string): name is GrubPlatform {
  return (GRUB_PLATFORMS as readonly string[]).includes(name);
}
