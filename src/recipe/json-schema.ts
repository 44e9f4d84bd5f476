/**
 * The recipe's JSON Schema, for editors (the YAML language server completes keys and values and
 * flags mistakes while typing) and for anyone checking recipes outside kiln. Made from the same zod
 * schema that validates recipes, so the two cannot drift; a snapshot test shows every change.
 */
import { z } from 'zod';
import { RecipeSchema } from './schema.js';

/** A name, not an address: nothing is served there. */
export const SCHEMA_ID = 'urn:kiln:schema:recipe';

/** What each top-level key is for, shown by editors on hover. */
const KEY_DOCS: Record<string, string> = {
  name: 'The image name: output files are <name>.<ext>; the hostname derives from it unless hostname is set.',
  distro: 'The distribution, release (default trixie; bookworm, sid, stable, ...), mirror, components and mmdebstrap variant.',
  arch: 'The target architecture; foreign architectures run under qemu-user.',
  layers: 'Reusable layers: the recipe folder\'s layers/, then KILN_LAYER_PATH, then kiln\'s built-ins.',
  packages: 'Extra packages, installed in one apt transaction; { name, arch } for some architectures only.',
  exclude: 'dpkg --path-exclude patterns.',
  include: 'dpkg --path-include patterns (win over exclude).',
  hostname: 'The image\'s hostname (default: made from name).',
  timezone: 'A zone from the tz database, e.g. Europe/Berlin.',
  locale: 'The default locale, e.g. C.UTF-8 or en_US.UTF-8.',
  keyboard: 'The console and X keyboard (/etc/default/keyboard): a layout (de) or { layout, variant, model, options }.',
  ntp: 'NTP servers for systemd-timesyncd, which kiln installs when this is set.',
  groups: 'Groups to create, with an optional gid: { name, gid }.',
  firewall: 'nftables rules loaded at boot: ports ("22/tcp") and services (names from /etc/services) to open or close; the rest of incoming traffic is dropped.',
  directories: 'Folders to create with their parents: { path, mode, owner } (owner by name or number).',
  apt: 'Extra apt repositories (sources: [{ name, uris, suites, components, key }]), used during the build and kept in the image.',
  root_password: 'Plain text, hashed at build time; absent: the root account is locked.',
  root_password_hash: 'A crypt(3) hash (openssl passwd -6).',
  users: 'Users to create, with groups, shell, password and SSH keys.',
  services: 'systemd units to enable, disable and mask.',
  files: 'Folders, files and inline content copied into the image.',
  hooks: 'Scripts per phase (setup, customize, cleanup, image), relative to the recipe.',
  kernel: 'The kernel package ("none" for containers), its command line, the initramfs modules, and uki: true for a unified kernel image.',
  disk: 'Partition table, layout (plain, or ab: two root slots for A/B updates), disk size and partitions.',
  bootloader: 'How the image boots.',
  secure_boot: 'Secure Boot: debian (shim and signed GRUB, with grub-efi) or { key, cert } (PEM files beside the recipe; signs systemd-boot and the UKI).',
  outputs: 'Files to write: disk images (raw, qcow2, ...), tree archives (tar, oci), a live ISO (iso) and an installer ISO (installer-iso).',
  installer: 'With installer-iso: target (auto or a device such as /dev/sda), confirm (ask on the console first), poweroff (else reboot).',
  health: 'Health checks at every boot (scripts: required, wanted, green, red) and boot_tries, the boots a new OSTree deployment or A/B slot gets before it is rolled back.',
  compress: 'Compression of raw and tar outputs.',
  sbom: 'SBOM formats written beside the outputs.',
  variables: 'Defaults for ${NAME} references; --set and KILN_VAR_NAME override them.',
};

/** A string that holds a ${NAME} reference: any value may come from a variable. */
const VARIABLE = { type: 'string', pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}' };

type Json = Record<string, unknown>;

export function recipeJsonSchema(): Json {
  const schema = z.toJSONSchema(RecipeSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  const properties = schema.properties as Record<string, Json>;
  for (const [key, description] of Object.entries(KEY_DOCS)) if (properties[key]) properties[key].description = description;
  return { $schema: schema.$schema, $id: SCHEMA_ID, title: 'kiln recipe', ...withVariables(schema) };
}

/** Strings checked against a list or pattern also accept a ${NAME} reference, as kiln does. */
function withVariables(node: unknown): Json {
  if (Array.isArray(node)) return node.map(withVariables) as unknown as Json;
  if (!node || typeof node !== 'object') return node as Json;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === 'default' || k === 'examples' || k === 'enum' ? v : withVariables(v)]));
  if (out.type !== 'string' || (out.enum === undefined && out.pattern === undefined)) return out;
  const { default: fallback, description, examples, ...checked } = out;
  return { ...(description === undefined ? {} : { description }), ...(fallback === undefined ? {} : { default: fallback }), ...(examples === undefined ? {} : { examples }), anyOf: [checked, VARIABLE] };
}
