/**
 * What a live ISO boots: its volume label (how the initramfs finds the medium), GRUB's menu and the
 * kernel command line. Pure, so the manifest can name the label and tests can read the menu.
 */

/** ISO 9660 addresses 2^32 blocks of 2 KiB: no medium, and so nothing it carries, is larger. */
export const ISO_MAX_BYTES = 2 ** 32 * 2048;

/** Where the ISO keeps the root and what boots it (live-boot looks in /live by default). */
export const LIVE_DIR = 'live';

/**
 * The ISO 9660 volume id: at most 32 "d-characters" (A-Z, 0-9, _), so every tool and udev's
 * /dev/disk/by-label shows it unescaped. Made from the recipe's name, so it is the same each build.
 */
export function liveLabel(name: string): string {
  return `KILN_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`.slice(0, 32);
}

export interface LiveBoot {
  label: string;
  title: string;
  /** The recipe's kernel arguments (consoles included); the root comes from live-boot. */
  cmdline: string[];
}

/**
 * live-boot mounts /live/filesystem.squashfs from the medium with this label (scanning every
 * block device if the label is not there in time) under a tmpfs overlay: a read-only root with
 * writes in RAM, gone at power-off.
 */
export function liveCmdline(live: LiveBoot): string {
  return ['boot=live', `live-media=/dev/disk/by-label/${live.label}`, ...live.cmdline].join(' ');
}

/**
 * GRUB's menu, the same under BIOS and UEFI: on the screen and the first serial port (115200 baud,
 * the kernel's default console), starting the only entry after 3 seconds so an unattended
 * machine boots on its own.
 */
export function liveGrubConfig(live: LiveBoot, kind = 'live'): string {
  return [
    'serial --unit=0 --speed=115200',
    'terminal_input console serial',
    'terminal_output console serial',
    'set timeout=3',
    'set default=0',
    `menuentry '${live.title.replace(/'/g, '')} (${kind})' {`,
    `  linux /${LIVE_DIR}/vmlinuz ${liveCmdline(live)}`,
    `  initrd /${LIVE_DIR}/initrd.img`,
    '}',
    '',
  ].join('\n');
}
