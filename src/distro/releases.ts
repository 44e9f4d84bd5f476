/**
 * Everything kiln knows per Debian release, in one table (as src/arch/table.ts is per
 * architecture): what the compiler, validation and the docs branch on. Pure.
 *
 * A recipe names a release by codename (bookworm, trixie, forky, sid) or by the mirror's suite
 * alias (oldstable, stable, testing, unstable). Aliases move when Debian releases, so the mirror's
 * own Release file is asked before a build (src/distro/mirror-release.ts) whether the alias still
 * means the codename this table says.
 */

export const CODENAMES = ['bookworm', 'trixie', 'forky', 'sid'] as const;
export type Codename = (typeof CODENAMES)[number];

/** Debian's suite aliases, as the mirror's dists/ has them today. */
export const ALIASES = { oldstable: 'bookworm', stable: 'trixie', testing: 'forky', unstable: 'sid' } as const satisfies Record<string, Codename>;
export type Alias = keyof typeof ALIASES;

/** What a recipe gets without `distro.release`: Debian's stable release. */
export const DEFAULT_RELEASE: Codename = 'trixie';

export interface ReleaseInfo {
  /** os-release VERSION_ID ("13"); null for a release that has none yet (testing, sid). */
  version: string | null;
  /** The apt sources the image gets: one-line sources.list, or deb822 debian.sources. */
  aptSources: 'one-line' | 'deb822';
  /** /bin, /sbin, /lib are links into /usr from the first package on (merged /usr). */
  mergedUsr: boolean;
  /** Debian's systemd version: what systemd features the image can count on. */
  systemd: number;
  /**
   * What a booted systemd image needs so that systemctl, loginctl, hostnamectl and timedatectl work
   * for a normal user: a system bus, and the PAM module that registers logins with logind.
   */
  dbus: readonly string[];
  /** systemd-boot's EFI binaries (systemd-boot<x>.efi, linux<x>.efi.stub). */
  systemdBootEfi: string;
  /** The package with `ukify`, which builds unified kernel images; null: the release has none. */
  ukify: string | null;
  /** Debian's signed boot chain for Secure Boot on amd64: shim, signed GRUB, mokutil. */
  signedChain: readonly string[];
  /** What makes the initramfs. */
  initramfs: 'initramfs-tools' | 'dracut';
}

const SIGNED_CHAIN = ['shim-signed', 'grub-efi-amd64-signed', 'mokutil'] as const;
// dbus (the reference daemon) rather than dbus-broker: it is what Debian installs by default, it is
// priority standard in every release, and dbus-broker still needs dbus's configuration files.
const DBUS = ['dbus', 'libpam-systemd'] as const;

export const RELEASES: Record<Codename, ReleaseInfo> = {
  bookworm: { version: '12', aptSources: 'one-line', mergedUsr: true, systemd: 252, dbus: DBUS, systemdBootEfi: 'systemd-boot-efi', ukify: null, signedChain: SIGNED_CHAIN, initramfs: 'initramfs-tools' },
  trixie: { version: '13', aptSources: 'deb822', mergedUsr: true, systemd: 257, dbus: DBUS, systemdBootEfi: 'systemd-boot-efi', ukify: 'systemd-ukify', signedChain: SIGNED_CHAIN, initramfs: 'initramfs-tools' },
  forky: { version: null, aptSources: 'deb822', mergedUsr: true, systemd: 258, dbus: DBUS, systemdBootEfi: 'systemd-boot-efi', ukify: 'systemd-ukify', signedChain: SIGNED_CHAIN, initramfs: 'initramfs-tools' },
  sid: { version: null, aptSources: 'deb822', mergedUsr: true, systemd: 258, dbus: DBUS, systemdBootEfi: 'systemd-boot-efi', ukify: 'systemd-ukify', signedChain: SIGNED_CHAIN, initramfs: 'initramfs-tools' },
};

/** Every name a recipe may give: codenames, then aliases. */
export const RELEASE_NAMES: readonly string[] = [...CODENAMES, ...Object.keys(ALIASES)];

/** The codename a release name stands for; undefined for a name kiln has no table entry for. */
export function codenameOf(release: string): Codename | undefined {
  if ((CODENAMES as readonly string[]).includes(release)) return release as Codename;
  return (ALIASES as Record<string, Codename | undefined>)[release];
}

/** The table entry of a release name (codename or alias); undefined when kiln does not know it. */
export function releaseInfo(release: string): ReleaseInfo | undefined {
  const codename = codenameOf(release);
  return codename === undefined ? undefined : RELEASES[codename];
}

/** The release a name is, for messages: "stable (trixie)" or "trixie". */
export function describeRelease(release: string): string {
  const codename = codenameOf(release);
  return codename === undefined || codename === release ? release : `${release} (${codename})`;
}
