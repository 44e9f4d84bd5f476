/**
 * The compiler: a validated recipe in, a manifest out. Pure except for hashing the files the recipe
 * references, whose content enters the stage options so ids follow every byte that matters.
 */
import { join, resolve } from 'node:path';
import { refHead } from '../outputs/ostree-ref.js';
import { encrypt } from 'unixcrypt';
import { resolveGptType } from '../disk/guid.js';
import { BOOTLOADERS, buildsDisk, DEFAULT_MIRROR, HOOK_PHASES, LIVE_FORMATS, imageHostname, type HookPhase, type LoadedRecipe, type Recipe } from '../recipe/index.js';
import { HEALTH_KINDS, InstallerSchema } from '../recipe/schema.js';
import { healthPath } from '../recipe/validate-health.js';
import { madeForDisk } from '../recipe/validate-ostree.js';
import { BUILTIN_LOCALES } from '../stages/locales.js';
import type { OptionsOf, StageName } from '../stages/registry.js';
import { canonicalJson, idOf, sha256 } from '../host/canonical.js';
import { hashFile, hashTree } from './content-hash.js';
import type { LockFile } from '../lockfile/lockfile.js';
import { archInfo } from '../arch/table.js';
import { diskId, fsckPackages, fstabEntries, grubPlatforms, initramfsFsckTypes, partitions } from './disk-plan.js';
import { liveLabel } from '../outputs/iso-boot.js';
import { INSTALLER_SCRIPT_SHA256 } from '../outputs/installer.js';
import { provenanceOf, type HookScript, type Provenance } from './provenance.js';
import { packageSets } from './package-sets.js';
import { resolveInside } from '../recipe/files.js';
import { checkSigningKeys } from '../recipe/signing-keys.js';
import { releaseInfo, type ReleaseInfo } from '../distro/releases.js';
import { SYSROOT } from '../outputs/ostree-layout.js';
import { ANSIBLE_PACKAGES, ansibleOptions } from './ansible-options.js';
import { bootstrapExtras, directoriesOptions, firewallOptions, groupsOption, maskOption, systemExtras, systemPackages, userExtras } from './compile-system.js';

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
  /** The layers applied, in order. */
  layers: { name: string; folder: string; description: string; variables: Record<string, string> }[];
  /** Where relative paths start, by origin ("recipe" and each layer): the only machine paths, kept out of every id. */
  folders: Record<string, string>;
  stages: ManifestStage[];
  /** SBOM formats written beside the outputs (spdx, cyclonedx). */
  sbom: string[];
  /** Who asked for each package the recipe and its layers name, and every operation. */
  provenance: Provenance;
  /** With ostree.repo: the repository the commit is published into (a machine path, kept out of every id). */
  ostreeRepo?: string;
  /** With ostree.sign: the secret key file that signs the repository's summary (a machine path, kept out of every id). */
  ostreeKey?: string;
}

/**
 * With a lock, every package the lock names is installed at its locked version. `epoch` is
 * SOURCE_DATE_EPOCH when given (environment or lock); without it, the bootstrap stage takes the
 * Release file's date.
 */
export function compile(loaded: LoadedRecipe, versions: Record<string, number>, lock?: LockFile, epoch?: number): Manifest {
  const r = loaded.recipe;
  const origin = (path: (string | number)[]) => loaded.origins.of(path).name;
  const folders: Record<string, string> = { recipe: loaded.folder, ...Object.fromEntries(loaded.layers.map((l) => [l.name, l.folder])) };
  const variables = new Map(loaded.layers.map((l) => [l.name, l.variables]));
  const hooks = Object.fromEntries(
    HOOK_PHASES.map((phase) => [
      phase,
      r.hooks[phase].map((path, i) => {
        const from = origin(['hooks', phase, i]);
        const env = from === 'recipe' ? {} : { ...variables.get(from), KILN_LAYER: from };
        return { path, from, sha256: hashFile(join(folders[from] ?? '', path)), env };
      }),
    ]),
  ) as Record<HookPhase, HookScript[]>;
  const { stages, add } = stageList(versions);
  const parts = partitions(r);
  // A recipe with only tar/oci outputs is a container image: no disk, nothing to boot.
  const disk = buildsDisk(r.outputs);
  // Its fstab and GRUB settings: an OSTree update without them would take its devices' mounts away.
  const device = madeForDisk(r);
  const rootPart = parts.find((p) => p.mount === '/');
  const esp = parts.find((p) => p.esp);
  const env = { KILN_NAME: r.name, KILN_ARCH: r.arch, KILN_RELEASE: r.distro.release, KILN_HOSTNAME: hostname(r) };

  const recipeHash = `sha256:${sha256(canonicalJson(r))}`;
  const ostreeRepo = r.ostree?.repo === undefined ? undefined : resolve(loaded.folder, r.ostree.repo);
  const ostreeKey = r.ostree?.sign === undefined ? undefined : join(loaded.folder, r.ostree.sign.key);
  const { base, later } = packageSets(loaded, baseSystem(r), implicitPackages(r), lock);
  const mirror = r.distro.mirror ?? DEFAULT_MIRROR[r.distro.name] ?? '';
  add('bootstrap', {
    release: r.distro.release,
    mirror,
    components: r.distro.components,
    variant: r.distro.variant,
    arch: r.arch,
    packages: base.packages,
    dpkgExclude: r.exclude,
    dpkgInclude: r.include,
    setupHooks: hooks.setup,
    // Only hooks see it: without them the base stays the same for every recipe's name.
    env: hooks.setup.length ? env : {},
    sourceDateEpoch: epoch ?? null,
    // Pinned, every package would count as asked for; these are marked as dependencies again.
    autoInstalled: base.autoInstalled,
    ...bootstrapExtras(loaded, folders),
    ...(base.pins.length ? { pins: base.pins } : {}),
  });
  const fstab = { entries: fstabEntries(parts, r.disk.layout) };
  const kernelOptions =
    r.kernel.package === 'none'
      ? undefined
      : {
          package: r.kernel.package,
          // dracut makes an OSTree image's initramfs (Debian's ostree-boot ships only a dracut module):
          // with every driver, or with only the recipe's list (its `drivers`).
          initramfsModules: initramfsModules(r),
          fsckTypes: device ? initramfsFsckTypes(parts) : [],
          ...(r.ostree ? { dracutModules: ['ostree'] } : {}),
          arch: r.arch,
          source: { release: r.distro.release, mirror, components: r.distro.components },
        };
  // initramfs-tools: the initramfs is made before the recipe's own packages, files and hooks (with
  // the fstab, which its fsck hook reads), so they reuse it; the initramfs stage at the end makes it
  // again only if one of them changed what it is made from. After the layers' package sets, so a
  // layer's package that asks for an initramfs (firmware) does not cost a second one. dracut copies
  // much more of the system (systemd's units and settings), so it runs after every change.
  const early = kernelOptions !== undefined && !r.ostree && releaseOf(r).initramfs === 'initramfs-tools';
  const addKernel = () => {
    if (device) add('fstab', fstab);
    if (kernelOptions) add('kernel', kernelOptions);
  };
  // Debian ships the Raspberry Pi firmware in non-free-firmware. The first set after the bootstrap
  // adds it, so the bootstrap is the one every arm64 recipe shares (the firmware is in a later set).
  const firmware = r.bootloader === 'rpi-firmware' && !r.distro.components.includes('non-free-firmware') ? { components: ['non-free-firmware'] } : {};
  for (const [i, s] of later.entries()) {
    if (early && s.set === 'recipe') addKernel();
    add('packages', { release: r.distro.release, arch: r.arch, ...s, ...(i === 0 ? firmware : {}) });
  }
  if (early && later.at(-1)?.set !== 'recipe') addKernel();
  add('system', { hostname: hostname(r), timezone: r.timezone, locale: r.locale, ...systemExtras(r) });
  add('users', {
    rootPasswordHash: r.root_password_hash ?? (r.root_password === undefined ? null : hash(r.name, 'root', r.root_password)),
    users: r.users.map((u) => ({
      name: u.name,
      passwordHash: u.password_hash ?? (u.password === undefined ? null : hash(r.name, u.name, u.password)),
      groups: u.groups,
      shell: u.shell,
      sshKeys: u.ssh_keys,
      ...(u.uid === undefined ? {} : { uid: u.uid }),
      ...userExtras(u),
    })),
    ...groupsOption(r),
  });
  // Before files, so a file can go into a folder made for it (with the folder's owner kept).
  if (r.directories.length) add('directories', directoriesOptions(r));
  add('files', { items: [...r.files.map((f, i) => fileItem(folders, origin(['files', i]), f)), ...healthFiles(r, folders, origin)] });
  add('services', { enable: r.services.enable, disable: r.services.disable, ...maskOption(r) });
  if (r.firewall) add('firewall', firewallOptions(r));
  if (r.ansible) add('ansible', ansibleOptions(r.ansible, origin(['ansible']), folders[origin(['ansible'])] ?? '', hostname(r)));
  add('customize-hooks', { scripts: hooks.customize, env });
  if (early) add('initramfs', kernelOptions);
  else addKernel();
  const cmdline = rootPart ? [`root=PARTUUID=${rootPart.partUuid}`, 'rw', ...r.kernel.cmdline] : [];
  const efiArch = archInfo(r.arch).efi;
  if (disk && r.kernel.uki && esp && rootPart) {
    add('uki', { esp: espMount(esp), efiArch, entry: r.name, removable: r.bootloader === 'none', cmdline });
  }
  if (disk && r.bootloader === 'systemd-boot' && esp && rootPart) {
    add('systemd-boot', { esp: espMount(esp), efiArch, entry: r.name, title: r.name, cmdline, uki: r.kernel.uki });
  }
  if (disk && r.bootloader === 'rpi-firmware' && rootPart) {
    const consoles = r.kernel.cmdline.filter((a) => a.startsWith('console=')).map((a) => a.slice('console='.length));
    add('rpi-firmware', { root: `PARTUUID=${rootPart.partUuid}`, consoles, extra: r.kernel.cmdline.filter((a) => !a.startsWith('console=')) });
  }
  if (device && r.bootloader.startsWith('grub-') && rootPart) {
    const boot = parts.find((p) => p.mount === '/boot') ?? rootPart;
    add('grub', {
      platforms: grubPlatforms(r.bootloader, r.arch),
      efiArch: archInfo(r.arch).efi,
      esp: esp?.mount ?? null,
      bootUuid: boot.uuid,
      // Paths grub reads are relative to the file system that holds /boot.
      bootPath: boot.mount === '/boot' ? '' : '/boot',
      title: r.name,
      cmdline,
      signed: r.secure_boot === 'debian',
      // An A/B menu names the root per slot (root=PARTLABEL=system_<slot>).
      ...(r.disk.layout === 'ab' && esp ? { cmdline: cmdline.filter((a) => !a.startsWith('root=')), ab: { espUuid: esp.uuid } } : {}),
    });
  }
  if (r.hooks.cleanup.length) add('cleanup-hooks', { scripts: hooks.cleanup, env });
  const sb = r.secure_boot;
  if (disk && esp && typeof sb === 'object') {
    add('secure-boot-sign', { esp: espMount(esp), files: signedFiles(r, efiArch), key: sb.key, cert: sb.cert, ...fingerprints(loaded.folder, sb) });
  }
  add('ssh-host-keys', {});
  // An OSTree deployment's /etc and /var are made on the device, from the commit's /usr/etc.
  if (!r.ostree) add('update-done', {});
  if (r.ostree) {
    add('ostree-commit', {
      name: r.name,
      ref: r.ostree.ref,
      parent: ostreeRepo === undefined ? null : refHead(ostreeRepo, r.ostree.ref),
      version: r.ostree.version ?? null,
      recipeHash,
      remote: r.ostree.url === undefined ? null : { name: r.name, url: r.ostree.url },
      // The key's path relative to the recipe, and its content's hash: a new key is a new commit.
      sign: ostreeKey === undefined || r.ostree.sign === undefined ? null : { key: r.ostree.sign.key, sha256: hashFile(ostreeKey) },
      grub: r.bootloader === 'grub-efi' ? { serial: r.kernel.cmdline.some((a) => a.startsWith('console=ttyS')) } : null,
    });
    if (r.outputs.includes('ostree-container')) {
      add('ostree-container', {
        name: r.name,
        release: r.distro.release,
        mirror: r.distro.mirror ?? DEFAULT_MIRROR[r.distro.name] ?? '',
        arch: r.arch,
        sign: ostreeKey === undefined || r.ostree.sign === undefined ? null : { key: r.ostree.sign.key, sha256: hashFile(ostreeKey) },
      });
    }
  }
  // An OSTree disk holds the commit deployed: its partitions are made from ostree-deploy's sysroot.
  const deployed = disk && r.ostree ? { from: SYSROOT } : {};
  if (disk && r.ostree && rootPart) {
    const boot = parts.find((p) => p.mount === '/boot');
    add('ostree-deploy', {
      name: r.name,
      osName: r.distro.name,
      ref: r.ostree.ref,
      remote: r.ostree.url === undefined ? null : r.name,
      kargs: cmdline,
      bootPath: boot === undefined ? '/boot' : '',
      bootUuid: (boot ?? rootPart).uuid,
      esp: esp?.mount ?? null,
    });
  }
  if (disk) add('partition-table', {
    table: r.disk.table,
    image: `${r.name}.raw`,
    diskSize: r.disk.size,
    diskId: diskId(r),
    partitions: parts.map((p) => ({ name: p.name, size: p.size, start: p.start, fs: p.fs, mount: p.mount, type: p.typeId, partUuid: p.partUuid, bootable: p.bootable })),
    ...deployed,
  });
  if (disk) add('filesystems', { partitions: parts.map((p) => ({ name: p.name, fs: p.fs, mount: p.mount, uuid: p.uuid, label: p.label })), ...deployed });
  if (disk && r.bootloader.startsWith('grub-') && BOOTLOADERS[r.bootloader].bios) {
    add('grub-bios-install', { biosBoot: parts.find((p) => p.typeId === resolveGptType('bios-boot'))?.name ?? null });
  }
  if (disk && r.hooks.image.length) add('image-hooks', { scripts: hooks.image, env });
  // Without it the disk image is the one output, published with its block map (with a commit, there are two).
  if (r.outputs.some((f) => f !== 'raw' && f !== 'ostree-repo' && f !== 'ostree-container') || r.compress !== 'none' || (disk && r.ostree) || (disk && r.disk.layout === 'ab')) {
    add('outputs', {
      name: r.name,
      arch: r.arch,
      image: disk ? `${r.name}.raw` : null,
      formats: r.outputs,
      compress: r.compress,
      live: liveOutput(r) ? { label: liveLabel(r.name), title: r.name, cmdline: r.kernel.cmdline } : null,
      installer: r.outputs.includes('installer-iso') ? installerOptions(r) : null,
      ...(r.disk.layout === 'ab' && rootPart ? { slot: rootPart.name } : {}),
    });
  }

  const provenance = provenanceOf(loaded, hooks, implicitPackages(r));

  return {
    kiln: 1,
    name: r.name,
    arch: r.arch,
    recipeHash,
    layers: loaded.layers.map((l) => ({ name: l.name, folder: l.folder, description: l.layer.description ?? '', variables: l.variables })),
    folders,
    stages,
    sbom: r.sbom,
    provenance,
    ...(ostreeRepo === undefined ? {} : { ostreeRepo }),
    ...(ostreeKey === undefined ? {} : { ostreeKey }),
  };
}

/**
 * The manifest's stages in order, each starting from the one before. `add` is typed by each stage's
 * schema (src/stages/registry.ts): an unknown stage, or options its schema rejects, do not compile.
 */
export function stageList(versions: Record<string, number>): { stages: ManifestStage[]; add: <N extends StageName>(stage: N, options: OptionsOf<N>) => void } {
  const stages: ManifestStage[] = [];
  const add = <N extends StageName>(stage: N, options: OptionsOf<N>): void => {
    const version = versions[stage];
    if (version === undefined) throw new Error(`compile: unknown stage ${stage}`);
    const inputs = stages.length ? [stages[stages.length - 1]?.id ?? ''] : [];
    stages.push({ stage, version, options, inputs, id: idOf({ stage, version, options, inputs }) });
  };
  return { stages, add };
}

/** The image's hostname; validation checked this same value. */
export const hostname = imageHostname;

/**
 * The base system the bootstrap installs: the same for every recipe of a release, architecture,
 * kernel and kinds of file system, so its stage is shared by them all and never reruns when a
 * recipe's packages change.
 */
function baseSystem(r: Recipe): string[] {
  if (r.kernel.package === 'none') return [];
  // The disk's fsck programs (e2fsprogs, dosfstools) before the kernel stage, whose initramfs checks the root with them.
  const fsck = madeForDisk(r) ? fsckPackages(partitions(r)) : [];
  // zstd: initramfs-tools compresses with it (and falls back to slower gzip without it).
  // D-Bus and logind's PAM module: without them a user's systemctl, loginctl, hostnamectl and
  // timedatectl say "Failed to connect to bus" (see the release table for the set).
  // live-boot in the base set: its initramfs hook then joins the one initramfs the kernel stage makes.
  const live = liveOutput(r) ? ['live-boot'] : [];
  // dracut in the same transaction as the kernel, so apt never installs initramfs-tools (they conflict).
  const ostree = r.ostree ? ['dracut', 'ostree', 'ostree-boot'] : [];
  return [r.kernel.package, 'systemd-sysv', 'udev', 'zstd', ...releaseOf(r).dbus, ...fsck, ...live, ...ostree];
}

/** What a bootable image needs beyond the recipe's own list (the base system included). */
function implicitPackages(r: Recipe): string[] {
  const out: string[] = baseSystem(r);
  const release = releaseOf(r);
  if (r.kernel.uki && release.ukify) out.push(release.ukify, release.systemdBootEfi);
  if (r.secure_boot === 'debian') out.push(...release.signedChain);
  // "grub-efi" in the table stands for the architecture's own GRUB EFI package.
  for (const name of BOOTLOADERS[r.bootloader].packages) out.push(name === 'grub-efi' ? archInfo(r.arch).grubEfi.package : name);
  // grub-mkconfig: OSTree's grub2 backend writes the device's next boot menu with it.
  if (r.ostree && r.bootloader === 'grub-efi') out.push('grub2-common');
  if (!BUILTIN_LOCALES.includes(r.locale)) out.push('locales');
  if (r.ansible) out.push(...ANSIBLE_PACKAGES);
  out.push(...systemPackages(r));
  return out;
}

/** The release's table entry; validation refused Debian releases kiln has none for. */
function releaseOf(r: Recipe): ReleaseInfo {
  const info = releaseInfo(r.distro.release);
  if (info) return info;
  if (r.distro.name === 'debian') throw new Error(`compile: release ${r.distro.release} was validated but has no table entry`);
  // Another distribution: what its release offers is unknown, so nothing release-specific is added.
  return { version: null, aptSources: 'one-line', mergedUsr: true, systemd: 0, dbus: [], systemdBootEfi: 'systemd-boot-efi', ukify: null, signedChain: [], initramfs: 'initramfs-tools' };
}

function espMount(esp: { mount?: string | undefined }): string {
  if (esp.mount === undefined) throw new Error('compile: the EFI system partition was validated but has no mount point');
  return esp.mount;
}

/** The EFI binaries the firmware and systemd-boot load, all of which Secure Boot checks. */
function signedFiles(r: Recipe, efiArch: string): string[] {
  const removable = `EFI/BOOT/BOOT${efiArch.toUpperCase()}.EFI`;
  return r.bootloader === 'none' ? [removable] : [removable, `EFI/systemd/systemd-boot${efiArch}.efi`, `EFI/Linux/${r.name}.efi`];
}

/** Fingerprints of the recipe's key pair for the stage id: the key's content never enters the options. */
function fingerprints(folder: string, sb: { key: string; cert: string }): { keySha256: string; certFingerprint: string } {
  const key = resolveInside(folder, sb.key);
  const cert = resolveInside(folder, sb.cert);
  if ('error' in key || 'error' in cert) throw new Error('compile: the Secure Boot key pair was validated but cannot be found');
  const checked = checkSigningKeys(key.path, cert.path, sb.key);
  if ('problem' in checked) throw new Error(`compile: the Secure Boot key pair was validated but ${checked.problem.on} ${checked.problem.message}`);
  return { keySha256: checked.keys.keySha256, certFingerprint: checked.keys.certFingerprint };
}

/** SHA-512 crypt with a salt derived from the recipe, so the same recipe gives the same plan. */
function hash(name: string, user: string, password: string): string {
  const alphabet = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const digest = Buffer.from(sha256(`kiln:${name}:${user}:${password}`), 'hex');
  const salt = [...digest.subarray(0, 16)].map((b) => alphabet[b % 64]).join('');
  return encrypt(password, `$6$${salt}`);
}

function fileItem(folders: Record<string, string>, from: string, f: Recipe['files'][number]): OptionsOf<'files'>['items'][number] {
  const folder = folders[from] ?? '';
  const base = { dst: f.dst, mode: f.mode, owner: f.owner, from };
  if (f.src === undefined) return { ...base, kind: 'content', content: f.content ?? '', sha256: sha256(f.content ?? '') };
  const found = resolveInside(folder, f.src, from === 'recipe' ? 'recipe' : 'layer');
  if ('error' in found) throw new Error(`compile: ${f.src} was validated but ${found.error}`);
  return found.kind === 'dir'
    ? { ...base, kind: 'tree', src: f.src, sha256: hashTree(found.path) }
    : { ...base, kind: 'file', src: f.src, sha256: hashFile(found.path) };
}

/**
 * The health checks as files: each script at /etc/kiln-health/<kind>.d/ (executable), and
 * boot_tries in /etc/default/kiln-health, which the health layer's scripts read.
 */
function healthFiles(r: Recipe, folders: Record<string, string>, origin: (path: (string | number)[]) => string): OptionsOf<'files'>['items'] {
  const health = r.health;
  if (!health) return [];
  const scripts = HEALTH_KINDS.flatMap((kind) => (health[kind] ?? []).map((src, i) => fileItem(folders, origin(['health', kind, i]), { src, dst: healthPath(kind, src), mode: '0755' })));
  const tries = health.boot_tries === undefined ? [] : [fileItem(folders, origin(['health', 'boot_tries']), { dst: '/etc/default/kiln-health', content: `BOOT_TRIES=${health.boot_tries}\n` })];
  return [...scripts, ...tries];
}

/**
 * A short initramfs (`kernel.initramfs_modules`) always holds ext4, the root's file system (the
 * only one kiln makes for /), so a layer's list of disk drivers (vm's) is enough on its own.
 * Empty: Debian's default, which has every driver.
 */
function initramfsModules(r: Recipe): string[] {
  const listed = r.kernel.initramfs_modules;
  if (listed.length === 0) return listed;
  // A live ISO's root is read from an ISO 9660 medium (live-boot's hook adds squashfs and overlay).
  const needed = ['ext4', ...(liveOutput(r) ? ['isofs'] : [])];
  return [...listed, ...needed.filter((m) => !listed.includes(m))];
}

/** The recipe has an output that boots its tree from an ISO with live-boot (iso, installer-iso). */
function liveOutput(r: Recipe): boolean {
  return r.outputs.some((o) => LIVE_FORMATS.includes(o));
}

/** The installer ISO's settings: its own volume label, and the last partition when it grows. */
function installerOptions(r: Recipe) {
  const installer = r.installer ?? InstallerSchema.parse({});
  const parts = r.disk.partitions;
  const last = parts[parts.length - 1];
  return {
    label: liveLabel(`${r.name}-install`),
    target: installer.target,
    confirm: installer.confirm,
    poweroff: installer.poweroff,
    grow: last?.grow ? { partition: parts.length, fs: last.fs ?? 'ext4' } : null,
    script: INSTALLER_SCRIPT_SHA256,
  };
}
