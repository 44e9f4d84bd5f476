/**
 * The compiler: a validated recipe in, a manifest out. Pure except for hashing the files the recipe
 * references, whose content enters the stage options so ids follow every byte that matters.
 */
import { join } from 'node:path';
import { encrypt } from 'unixcrypt';
import { guidFromSeed, resolveGptType } from '../disk/guid.js';
import { DEFAULT_MIRROR, type LoadedRecipe, type Recipe } from '../recipe/index.js';
import { BUILTIN_LOCALES } from '../stages/system.js';
import { canonicalJson, idOf, sha256 } from './canonical.js';
import { hashFile, hashTree } from './content-hash.js';
import { resolveInside } from '../recipe/files.js';

export interface ManifestStage {
  stage: string;
  version: number;
  options: Record<string, unknown>;
  /** Ids of the stages whose results this one starts from. */
  inputs: string[];
  id: string;
}

export interface Manifest {
  kiln: 1;
  name: string;
  arch: string;
  recipeHash: string;
  stages: ManifestStage[];
  outputs: { format: string; file: string }[];
}

/** Per-architecture facts; the cross-architecture work extends this one table. */
export const ARCHES: Record<string, { efi: string; kernel: string }> = {
  amd64: { efi: 'x64', kernel: 'linux-image-amd64' },
};

export function compile(loaded: LoadedRecipe, versions: Record<string, number>): Manifest {
  const r = loaded.recipe;
  const stages: ManifestStage[] = [];
  const add = (stage: string, options: Record<string, unknown>) => {
    const version = versions[stage];
    if (version === undefined) throw new Error(`compile: unknown stage ${stage}`);
    const inputs = stages.length ? [stages[stages.length - 1]?.id ?? ''] : [];
    stages.push({ stage, version, options, inputs, id: idOf({ stage, version, options, inputs }) });
  };
  const parts = partitions(r);
  const rootPart = parts.find((p) => p.mount === '/');
  const esp = parts.find((p) => p.typeGuid === resolveGptType('esp'));
  const env = { KILN_NAME: r.name, KILN_ARCH: r.arch, KILN_RELEASE: r.distro.release, KILN_HOSTNAME: hostname(r) };

  add('bootstrap', {
    release: r.distro.release,
    mirror: r.distro.mirror ?? DEFAULT_MIRROR[r.distro.name] ?? '',
    components: r.distro.components,
    variant: r.distro.variant,
    arch: r.arch,
    packages: [...new Set([...implicitPackages(r), ...r.packages])].sort(),
    dpkgExclude: r.exclude,
    dpkgInclude: r.include,
  });
  add('system', { hostname: hostname(r), timezone: r.timezone, locale: r.locale });
  add('users', {
    rootPasswordHash: r.root_password_hash ?? (r.root_password === undefined ? null : hash(r.name, 'root', r.root_password)),
    users: r.users.map((u) => ({
      name: u.name,
      passwordHash: u.password_hash ?? (u.password === undefined ? null : hash(r.name, u.name, u.password)),
      groups: u.groups,
      shell: u.shell,
      sshKeys: u.ssh_keys,
      ...(u.uid === undefined ? {} : { uid: u.uid }),
    })),
  });
  add('files', { items: r.files.map((f) => fileItem(loaded.folder, f)) });
  add('services', { enable: r.services.enable, disable: r.services.disable });
  add('customize-hooks', { scripts: r.hooks.customize.map((p) => ({ path: p, sha256: hashFile(join(loaded.folder, p)) })), env });
  add('fstab', {
    entries: parts
      .filter((p) => p.mount && p.fs)
      .sort((a, b) => (a.mount ?? '').localeCompare(b.mount ?? ''))
      .map((p) => ({
        source: `UUID=${p.uuid}`,
        mount: p.mount,
        fs: p.fs,
        options: p.options ?? (p.fs === 'vfat' ? 'umask=0077' : p.mount === '/' ? 'errors=remount-ro' : 'defaults'),
        pass: p.mount === '/' ? 1 : 2,
      })),
  });
  if (r.kernel.package !== 'none') add('kernel', { package: r.kernel.package });
  if (r.bootloader === 'systemd-boot' && esp && rootPart) {
    add('systemd-boot', {
      esp: esp.mount,
      efiArch: ARCHES[r.arch]?.efi ?? '',
      entry: r.name,
      title: r.name,
      cmdline: [`root=PARTUUID=${rootPart.partGuid.toLowerCase()}`, 'rw', ...r.kernel.cmdline],
    });
  }
  add('partition-table', {
    image: `${r.name}.raw`,
    diskSize: r.disk.size,
    diskGuid: guidFromSeed(`kiln:${r.name}:disk`),
    partitions: parts.map((p) => ({ name: p.name, size: p.size, fs: p.fs, mount: p.mount, typeGuid: p.typeGuid, partGuid: p.partGuid })),
  });
  add('filesystems', {
    partitions: parts.map((p) => ({ name: p.name, fs: p.fs, mount: p.mount, uuid: p.uuid, label: p.label })),
  });
  if (r.hooks.image.length) {
    add('image-hooks', { scripts: r.hooks.image.map((p) => ({ path: p, sha256: hashFile(join(loaded.folder, p)) })), env });
  }
  return {
    kiln: 1,
    name: r.name,
    arch: r.arch,
    recipeHash: `sha256:${sha256(canonicalJson(r))}`,
    stages,
    outputs: r.outputs.map((format) => ({ format, file: `${r.name}.${format}` })),
  };
}

export function hostname(r: Recipe): string {
  return r.hostname ?? r.name.replace(/[._]/g, '-');
}

/** What a bootable image needs beyond the recipe's own list. */
function implicitPackages(r: Recipe): string[] {
  const out: string[] = [];
  // zstd: initramfs-tools compresses with it (and falls back to slower gzip without it).
  if (r.kernel.package !== 'none') out.push(r.kernel.package, 'systemd-sysv', 'udev', 'zstd');
  if (r.bootloader === 'systemd-boot') out.push('systemd-boot-efi');
  if (!BUILTIN_LOCALES.includes(r.locale)) out.push('locales');
  return out;
}

function partitions(r: Recipe) {
  return r.disk.partitions.map((p) => ({
    ...p,
    typeGuid: resolveGptType(p.type) ?? '',
    partGuid: guidFromSeed(`kiln:${r.name}:part:${p.name}`),
    uuid: p.uuid?.toLowerCase() ?? fsUuid(r.name, p.name, p.fs),
  }));
}

/** ext4 takes a full UUID; FAT has a 32-bit volume id, written as XXXX-XXXX. */
function fsUuid(name: string, part: string, fs: string | undefined): string {
  const guid = guidFromSeed(`kiln:${name}:fs:${part}`).toLowerCase();
  return fs === 'vfat' ? `${guid.slice(0, 4)}-${guid.slice(4, 8)}`.toUpperCase() : guid;
}

/** SHA-512 crypt with a salt derived from the recipe, so the same recipe gives the same plan. */
function hash(name: string, user: string, password: string): string {
  const alphabet = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const digest = Buffer.from(sha256(`kiln:${name}:${user}:${password}`), 'hex');
  const salt = [...digest.subarray(0, 16)].map((b) => alphabet[b % 64]).join('');
  return encrypt(password, `$6$${salt}`);
}

function fileItem(folder: string, f: Recipe['files'][number]) {
  const base = { dst: f.dst, mode: f.mode, owner: f.owner };
  if (f.src === undefined) return { ...base, kind: 'content', content: f.content ?? '', sha256: sha256(f.content ?? '') };
  const found = resolveInside(folder, f.src);
  if ('error' in found) throw new Error(`compile: ${f.src} was validated but ${found.error}`);
  return found.kind === 'dir'
    ? { ...base, kind: 'tree', src: f.src, sha256: hashTree(found.path) }
    : { ...base, kind: 'file', src: f.src, sha256: hashFile(found.path) };
}
