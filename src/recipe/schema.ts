/**
 * The recipe schema: the one place that says which keys a recipe has, their types and defaults.
 * Types are inferred from it; semantic rules that need more than one key live in validate.ts.
 */
import { z } from 'zod';
import { ALLOWED, KNOWN_RELEASES } from './allowed.js';

export { buildsDisk, DISK_FORMATS } from './allowed.js';
import { LIMITS } from './limits.js';
import { DEFAULT_RELEASE } from '../distro/releases.js';

const str = z.string();
/** A list with kiln's bound on its length (LIMITS): a recipe from the network cannot be endless. */
const list = <T extends z.ZodType>(item: T, max: number = LIMITS.listItems) => z.array(item).max(max);
const strList = list(z.string());
const oneOf = <K extends keyof typeof ALLOWED>(key: K) => z.enum(ALLOWED[key].values as (typeof ALLOWED)[K]['values']);

export const DEFAULT_MIRROR: Record<string, string> = {
  debian: 'http://deb.debian.org/debian',
  ubuntu: 'http://archive.ubuntu.com/ubuntu',
};

export const DistroSchema = z.strictObject({
  name: oneOf('distro').default('debian'),
  release: str
    .regex(/^[a-z][a-z0-9-]*$/, 'is not a release name (e.g. bookworm, trixie, sid)')
    .meta({ examples: [...KNOWN_RELEASES] })
    .default(DEFAULT_RELEASE),
  mirror: str.regex(/^(https?|file):\/\/\S+$/, 'is not a mirror URL (http://, https:// or file://)').optional(),
  components: strList.default(['main']),
  variant: oneOf('variant').default('minbase'),
});

export const UserSchema = z.strictObject({
  name: str,
  password: str.optional(),
  password_hash: str.optional(),
  groups: strList.default([]),
  shell: str.default('/bin/bash'),
  ssh_keys: strList.default([]),
  uid: z.number().int().min(1000).max(60000).optional(),
  /** The primary group: a gid, or a group's name (from `groups` or the image); absent: a group named after the user. */
  gid: z.union([z.number().int().min(0).max(60000), str]).optional(),
  home: str.optional(),
  /** The GECOS field (the user's full name), shown by finger and in login managers. */
  description: str.optional(),
});

export const GroupSchema = z.strictObject({ name: str, gid: z.number().int().min(1).max(60000).optional() });

/** A user or user:group, each by name or number; YAML reads an unquoted 1000 as a number. */
const OwnerSchema = z
  .union([
    str.regex(/^([a-z_][a-z0-9_-]*|[0-9]+)(:([a-z_][a-z0-9_-]*|[0-9]+))?$/, 'is not an owner (user or user:group, by name or number, e.g. admin:admin or 1000:1000)'),
    z.number().int().min(0),
  ])
  .transform(String);
const ModeSchema = str.regex(/^0?[0-7]{3,4}$/, 'is not an octal file mode (e.g. "0644", quoted)');

/**
 * Health checks (the health layer, greenboot's model): scripts next to the recipe or layer, run at
 * every boot from /etc/kiln-health/<kind>.d; `boot_tries`: boots a new OSTree deployment gets.
 */
export const HealthSchema = z.strictObject({
  required: list(str, LIMITS.files).optional(),
  wanted: list(str, LIMITS.files).optional(),
  green: list(str, LIMITS.files).optional(),
  red: list(str, LIMITS.files).optional(),
  boot_tries: z.number().int().min(1).max(9).optional(),
});
export const HEALTH_KINDS = ['required', 'wanted', 'green', 'red'] as const;

/** A folder made in the image, with its parents (which stay root's, 0755). */
export const DirectorySchema = z.strictObject({ path: str, mode: ModeSchema.optional(), owner: OwnerSchema.optional() });

/** The console and X keyboard (/etc/default/keyboard): a layout name, or its XKB parts. */
export const KeyboardSchema = z
  .union([str, z.strictObject({ layout: str, variant: str.optional(), model: str.optional(), options: str.optional() })])
  .transform((k) => (typeof k === 'string' ? { layout: k } : k));

/** Applied offline as nftables rules: ports as "22/tcp", services as names in the image's /etc/services. */
export const FirewallSchema = z.strictObject({
  ports: list(str, LIMITS.services).default([]),
  services: z.strictObject({ enable: list(str, LIMITS.services).default([]), disable: list(str, LIMITS.services).default([]) }).default({ enable: [], disable: [] }),
});

/** An extra apt repository, written as /etc/apt/sources.list.d/<name>.sources and used by the bootstrap. */
export const AptSourceSchema = z.strictObject({
  name: str,
  uris: strList,
  suites: strList,
  /** Default [main]; none for a flat repository (a suite ending in "/"). */
  components: strList.optional(),
  /** An OpenPGP public key: a file relative to the recipe (armored or binary), or the armored text itself. */
  key: str,
});

export const FileSchema = z.strictObject({
  src: str.optional(),
  dst: str,
  content: str.optional(),
  mode: ModeSchema.optional(),
  owner: OwnerSchema.optional(),
});

export const PartitionSchema = z.strictObject({
  name: str.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,35}$/, 'is not a partition name (letters, digits, ".", "_", "-"; at most 36)'),
  // YAML reads an unquoted 0x83 as the number 131: take it as the MBR type byte it was meant to be.
  type: z
    .union([str, z.number().int()])
    .transform((t) => (typeof t === 'number' ? `0x${t.toString(16)}` : t))
    .default('linux'),
  size: str,
  fs: oneOf('fs').optional(),
  mount: str.optional(),
  label: str.optional(),
  uuid: str.optional(),
  options: str.optional(),
  grow: z.boolean().default(false),
  /** Where the partition starts (e.g. 4M); by default right after the one before it. MiB-aligned. */
  start: str.optional(),
  /** The partition's own GUID (GPT); derived from the recipe when absent. */
  partuuid: str.optional(),
  /** MBR only: the active (boot) flag. By default the partition holding /boot gets it. */
  bootable: z.boolean().optional(),
});

const DEFAULT_PARTITIONS: z.output<typeof PartitionSchema>[] = [
  { name: 'esp', type: 'esp', size: '256M', fs: 'vfat', mount: '/boot/efi', grow: false },
  { name: 'root', type: 'root', size: 'rest', fs: 'ext4', mount: '/', grow: false },
];

/** disk.layout ab without partitions: the ESP, the slot (system_a; kiln adds system_b after it) and persistent data. */
export const AB_PARTITIONS: z.input<typeof PartitionSchema>[] = [
  { name: 'esp', type: 'esp', size: '256M', fs: 'vfat', mount: '/boot/efi' },
  { name: 'system', type: 'root', size: '2G', fs: 'ext4', mount: '/' },
  { name: 'data', type: 'linux', size: '512M', fs: 'ext4', mount: '/data' },
];

export const DiskSchema = z.strictObject({
  table: oneOf('table').default('gpt'),
  /** ab: the root partition is slot A, and kiln adds slot B (system_b) of the same size after it. */
  layout: oneOf('layout').default('plain'),
  /** The disk GUID (GPT) or 8-hex-digit disk signature (MBR); derived from the recipe when absent. */
  id: str.optional(),
  size: str.default('auto'),
  partitions: list(PartitionSchema, LIMITS.partitions).default(DEFAULT_PARTITIONS),
});

/** A package, or a package only some architectures get: `{ name: raspi-firmware, arch: [arm64] }`. */
export const PackageSchema = z.union([str, z.strictObject({ name: str, arch: strList })]);
const packageList = list(PackageSchema, LIMITS.packages);
const hookList = list(str, LIMITS.hooks);

export const HOOK_PHASES = ['setup', 'customize', 'cleanup', 'image'] as const;
export type HookPhase = (typeof HOOK_PHASES)[number];

const HooksSchema = z.strictObject({
  /** On the host, before packages are installed; $1 (and KILN_ROOT) is the new, nearly empty root. */
  setup: hookList.default([]),
  /** Inside the image root, after packages and files. */
  customize: hookList.default([]),
  /** Inside the image root, after everything else has changed the tree. */
  cleanup: hookList.default([]),
  /** On the host, after the file systems are built; $1 is the folder holding the image. */
  image: hookList.default([]),
});
const NO_HOOKS = { setup: [], customize: [], cleanup: [], image: [] };

/**
 * `debian`: shim-signed and grub-efi-amd64-signed (Microsoft-signed shim, Debian-signed GRUB and
 * kernel). `{ key, cert }`: PEM files relative to the recipe; kiln signs systemd-boot and the UKI
 * with them on the host (sbsign). The key never enters the image, the manifest or the build record.
 */
export const SecureBootSchema = z.union([z.literal('debian'), z.strictObject({ key: str, cert: str })]);

/** Values ansible-playbook gets as variables (--extra-vars, or the inventory's host variables). */
const AnsibleVars = z.record(z.string(), z.union([str, z.number(), z.boolean(), strList]));

/**
 * A playbook that ansible-playbook on the host applies to the image root (kiln's chroot connection),
 * after packages, files and services and before the customize hooks. Paths are relative to the recipe
 * (or the layer); roles are looked up in roles_path, then in roles/ beside the playbook.
 */
export const AnsibleSchema = z.strictObject({
  playbook: str,
  roles_path: str.optional(),
  extra_vars: AnsibleVars.default({}),
  inventory_vars: AnsibleVars.default({}),
});

/**
 * How the installer ISO installs: onto `target` (a device path, or auto: the largest disk that is
 * not removable and not the installer's own medium), asking first when `confirm`, then powering
 * off (or rebooting) so the machine does not start the installer again.
 */
export const InstallerSchema = z.strictObject({
  target: str.default('auto'),
  confirm: z.boolean().default(false),
  poweroff: z.boolean().default(true),
});

/**
 * The image as OSTree commits on `ref` (osbuild's edge-commit): `repo` is the archive repository
 * the commits join (the ref's last commit becomes the parent), `url` the remote deployments update
 * from, `version` the commit's version metadata, `sign.key` the key that signs commits and summary.
 */
export const OstreeSchema = z.strictObject({
  ref: str,
  repo: str.optional(),
  url: str.optional(),
  version: str.optional(),
  /** An OpenPGP secret key file (no passphrase) that signs the commits and the summary. */
  sign: z.strictObject({ key: str }).optional(),
});

export const RecipeSchema = z.strictObject({
  name: str.regex(/^[a-z0-9][a-z0-9._-]*$/, 'is not a valid name (lowercase letters, digits, ".", "_" and "-", starting with a letter or digit)'),
  distro: DistroSchema.default({ name: 'debian', release: DEFAULT_RELEASE, components: ['main'], variant: 'minbase' }),
  arch: oneOf('arch').default('amd64'),
  layers: list(str, LIMITS.layers).default([]),
  packages: packageList.default([]),
  exclude: strList.default([]),
  include: strList.default([]),
  hostname: str.optional(),
  timezone: str.default('Etc/UTC'),
  locale: str.default('C.UTF-8'),
  keyboard: KeyboardSchema.optional(),
  /** NTP servers for systemd-timesyncd (installed when this is set); empty: Debian's pool. */
  ntp: list(str, LIMITS.services).default([]),
  root_password: str.optional(),
  root_password_hash: str.optional(),
  groups: list(GroupSchema, LIMITS.users).default([]),
  users: list(UserSchema, LIMITS.users).default([]),
  services: z
    .strictObject({ enable: list(str, LIMITS.services).default([]), disable: list(str, LIMITS.services).default([]), mask: list(str, LIMITS.services).default([]) })
    .default({ enable: [], disable: [], mask: [] }),
  firewall: FirewallSchema.optional(),
  directories: list(DirectorySchema, LIMITS.files).default([]),
  files: list(FileSchema, LIMITS.files).default([]),
  apt: z.strictObject({ sources: list(AptSourceSchema, LIMITS.layers).default([]) }).default({ sources: [] }),
  hooks: HooksSchema.default(NO_HOOKS),
  ansible: AnsibleSchema.optional(),
  kernel: z
    .strictObject({
      package: str.default('linux-image-amd64'),
      /** Without any console= in it (from the recipe or a layer), the machine's consoles are added. */
      cmdline: strList.default([]),
      /** The initramfs holds exactly these modules (and what they need); empty: Debian's MODULES=most. */
      initramfs_modules: strList.default([]),
      /** A unified kernel image (kernel, initrd, command line, os-release in one EFI file), made with the image's ukify. */
      uki: z.boolean().default(false),
    })
    .default({ package: 'linux-image-amd64', cmdline: [], initramfs_modules: [], uki: false }),
  disk: DiskSchema.default({ table: 'gpt', layout: 'plain', size: 'auto', partitions: DEFAULT_PARTITIONS }),
  bootloader: oneOf('bootloader').default('systemd-boot'),
  /** Secure Boot: Debian's signed chain (shim, signed GRUB, signed kernel), or the recipe's own key pair. */
  secure_boot: SecureBootSchema.optional(),
  outputs: list(oneOf('output')).default(['raw']),
  installer: InstallerSchema.optional(),
  ostree: OstreeSchema.optional(),
  health: HealthSchema.optional(),
  compress: oneOf('compress').default('none'),
  sbom: list(oneOf('sbom')).default(['spdx', 'cyclonedx']),
  variables: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
});

/**
 * A layer: a recipe's keys but those that describe one image (name, distro, arch, disk, outputs),
 * plus what makes it reusable. Nothing has a default here, so merging can tell "not set" apart.
 */
export const VariableSchema = z.strictObject({
  default: z.union([str, z.number()]).transform(String).optional(),
  pattern: str.optional(),
  description: str.optional(),
});

export const LayerSchema = z.strictObject({
  description: str.optional(),
  depends: list(str, LIMITS.layers).optional(),
  packages: packageList.optional(),
  exclude: strList.optional(),
  include: strList.optional(),
  hostname: str.optional(),
  timezone: str.optional(),
  locale: str.optional(),
  keyboard: KeyboardSchema.optional(),
  ntp: list(str, LIMITS.services).optional(),
  root_password: str.optional(),
  root_password_hash: str.optional(),
  groups: list(GroupSchema, LIMITS.users).optional(),
  users: list(UserSchema, LIMITS.users).optional(),
  services: z
    .strictObject({ enable: list(str, LIMITS.services).optional(), disable: list(str, LIMITS.services).optional(), mask: list(str, LIMITS.services).optional() })
    .optional(),
  firewall: z.strictObject({ ports: list(str, LIMITS.services).optional(), services: z.strictObject({ enable: list(str, LIMITS.services).optional(), disable: list(str, LIMITS.services).optional() }).optional() }).optional(),
  directories: list(DirectorySchema, LIMITS.files).optional(),
  files: list(FileSchema, LIMITS.files).optional(),
  apt: z.strictObject({ sources: list(AptSourceSchema, LIMITS.layers).optional() }).optional(),
  hooks: z.strictObject({ setup: hookList.optional(), customize: hookList.optional(), cleanup: hookList.optional(), image: hookList.optional() }).optional(),
  ansible: AnsibleSchema.optional(),
  health: HealthSchema.optional(),
  kernel: z.strictObject({ package: str.optional(), cmdline: strList.optional(), initramfs_modules: strList.optional() }).optional(),
  bootloader: oneOf('bootloader').optional(),
  compress: oneOf('compress').optional(),
  sbom: list(oneOf('sbom')).optional(),
  variables: z.record(z.string(), VariableSchema).optional(),
});

export type RecipeInput = z.infer<typeof RecipeSchema>;
/** A recipe with its layers merged in: packages are plain names for the recipe's architecture. */
export type Recipe = Omit<RecipeInput, 'packages'> & { packages: string[] };
export type LayerInput = z.infer<typeof LayerSchema>;
export type RecipeUser = z.infer<typeof UserSchema>;
export type RecipeFile = z.infer<typeof FileSchema>;
export type RecipeGroup = z.infer<typeof GroupSchema>;
export type RecipeDirectory = z.infer<typeof DirectorySchema>;
export type AptSource = z.infer<typeof AptSourceSchema>;
export type Keyboard = z.infer<typeof KeyboardSchema>;
export type Firewall = z.infer<typeof FirewallSchema>;
export type RecipePartition = z.infer<typeof PartitionSchema>;
export type SecureBoot = z.infer<typeof SecureBootSchema>;
export type Ansible = z.infer<typeof AnsibleSchema>;
export type Installer = z.infer<typeof InstallerSchema>;
export type Ostree = z.infer<typeof OstreeSchema>;
