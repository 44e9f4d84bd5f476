import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { API_MOUNTS } from '../host/chroot.js';
import { autoInstalled, collectPackages, debKey, installedKeys, dpkgStatusOf, linkCachedDebs } from '../store/package-cache.js';
import { defineStage, type StageContext } from './define.js';
import { explainApt, pinCheckHook } from './apt-sources.js';
import { aptListsCache, keepLists, seedLists } from '../store/apt-lists.js';

/**
 * One package set (a layer's packages, or the recipe's) installed on top of the bootstrap's base
 * system, so adding a package to a recipe reruns this stage and what follows, never the
 * bootstrap. apt runs on the host against the image root, exactly as mmdebstrap runs it for the
 * bootstrap (its configuration, host keyrings, dpkg chrooted into the root, the API file
 * systems mounted in a private namespace), and the root is cleaned the way mmdebstrap cleans it,
 * so a set installed here leaves the same kind of tree the bootstrap would.
 *
 * A set that asks for a new initramfs (e2fsprogs, raspi-firmware and other packages with
 * initramfs hooks do) does not get one here: under qemu-user each costs over a minute, and an
 * image with two such sets made it three times. The set says so in a fact instead, and kiln makes
 * the initramfs once after the package sets: the initramfs stage (initramfs-tools), or the kernel
 * stage (dracut) (see deferInitramfs).
 */
export const packages = defineStage({
  name: 'packages',
  version: 3,
  kind: 'tree',
  summary: "Installs one package set (a layer's, or the recipe's own) in one apt transaction on top of the base system, taking .debs from the machine's package cache (checked against the signed index); an initramfs update it asks for is left to the initramfs (or kernel) stage.",
  options: z.strictObject({
    /** Which set: "layer NAME" or "recipe"; kiln.lock records it for each package. */
    set: z.string(),
    /** For messages only ("package not found in trixie"): the bootstrap before it fixes the release. */
    release: z.string(),
    arch: z.string(),
    packages: z.array(z.string()),
    /** Packages to mark as installed only as dependencies (from the lock). */
    autoInstalled: z.array(z.string()),
    /** The set's name=version pins, checked after apt's update so a missing version is named with those there are. */
    pins: z.array(z.string()),
    /**
     * Components this set adds to the mirror's lines in the image's sources.list, kept there (the
     * Raspberry Pi firmware is in non-free-firmware). Added here, not by the bootstrap, so the
     * bootstrap stays the one every recipe of that release and architecture shares.
     */
    components: z.array(z.string()).optional(),
  }),
  makes: ['debs', 'autoInstalled', 'initramfsOutdated'],
  async run(ctx, o) {
    const env = { APT_CONFIG: await writeAptConfig(ctx, o.arch), DEBIAN_FRONTEND: 'noninteractive', INITRD: 'No' };
    const deferred = await deferInitramfs(ctx);
    const installed = await dpkgStatusOf(ctx.root);
    const before = new Set(installed.map(debKey));
    // The root is an overlay mount, so cached .debs cannot be hard-linked into it: apt's archive
    // folder is a scratch folder beside the cache, bind-mounted into the root while apt runs.
    const archives = join(ctx.scratch, 'archives');
    await mkdir(join(archives, 'partial'), { recursive: true });
    await mkdir(join(ctx.root, 'var/cache/apt/archives'), { recursive: true });
    await mkdir(ctx.packageCache, { recursive: true });
    try {
      if (o.components?.length) await addComponents(ctx, o.components);
      // The lists kept from earlier builds: apt then fetches no index that still matches InRelease.
      const lists = aptListsCache(ctx.packageCache);
      await seedLists(lists, o.arch, ctx.root);
      await ctx.exec('apt-get', ['update', '-q'], { env });
      await keepLists(lists, o.arch, ctx.root);
      if (o.pins.length) await ctx.exec('/bin/sh', ['-c', pinCheckHook(o.pins, '"$APT_CONFIG"')], { env, label: 'the pin check' });
      await linkCachedDebs(ctx.packageCache, archives, join(ctx.root, 'var/lib/apt/lists'), installed, ctx.log);
      await ctx.exec('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--', '/bin/sh', '-c', INSTALL_SCRIPT, 'kiln-apt', ctx.root, 'apt-get', ...INSTALL(ctx.root), ...o.packages], {
        env: { ...env, KILN_ARCHIVES: archives, KILN_DEFERRED: deferred },
        label: `apt-get install ${o.packages.join(' ')}`,
      });
      if (o.autoInstalled.length) await ctx.exec('apt-mark', ['auto', ...o.autoInstalled], { env });
    } catch (err) {
      throw explainApt(err, o.release);
    }
    const after = await installedKeys(ctx.root);
    const added = new Set([...after].filter((key) => !before.has(key)));
    const use = await collectPackages(archives, ctx.packageCache, added);
    const mib = (use.downloadedBytes / 2 ** 20).toFixed(1);
    ctx.log(`${o.set}: ${added.size} packages installed; ${use.reused} .debs from the package cache, ${use.downloaded} downloaded (${mib} MiB)`);
    await clean(ctx, env);
    const outdated = existsSync(join(deferred, OUTDATED));
    if (outdated) ctx.log(`${o.set}: the initramfs update it asked for is left to kiln, which makes the initramfs once, after the package sets`);
    return {
      debs: [...(ctx.facts.debs ?? []), ...use.debs.map((d) => ({ ...d, set: o.set }))],
      autoInstalled: await autoInstalled(ctx.root),
      initramfsOutdated: (ctx.facts.initramfsOutdated ?? false) || outdated,
    };
  },
});

/** Adds `components` to every `deb` line of the root's sources.list (mmdebstrap's mirror lines). */
async function addComponents(ctx: StageContext, components: string[]): Promise<void> {
  const file = join(ctx.root, 'etc/apt/sources.list');
  const before = await readFile(file, 'utf8').catch(() => '');
  const after = withComponents(before, components);
  if (after === before) return;
  await writeFile(file, after);
  ctx.log(`apt sources: component${components.length > 1 ? 's' : ''} ${components.join(', ')} added to the mirror's lines`);
}

/** One-line sources with `components` appended to each `deb` line that lacks them. */
export function withComponents(text: string, components: string[]): string {
  return text
    .split('\n')
    .map((line) => {
      const words = line.trim().split(/\s+/);
      if (words[0] !== 'deb') return line;
      const missing = components.filter((c) => !words.slice(3).includes(c));
      return missing.length ? `${line.trimEnd()} ${missing.join(' ')}` : line;
    })
    .join('\n');
}

/** Where the deferral folder is inside the root while apt runs; its bin/ comes first in dpkg's PATH. */
const DEFERRED_IN_ROOT = '/run/kiln-packages';
const OUTDATED = 'initramfs-outdated';

/**
 * The API file systems, the archive folder and the deferral folder mounted into the root "$1", in a
 * namespace that dies with apt (so /run, a tmpfs there, leaves nothing in the tree).
 */
const INSTALL_SCRIPT = [
  ...API_MOUNTS,
  'mount --bind "$KILN_ARCHIVES" "$r/var/cache/apt/archives"',
  `mkdir "$r${DEFERRED_IN_ROOT}" && mount --bind "$KILN_DEFERRED" "$r${DEFERRED_IN_ROOT}"`,
  'exec "$@"',
].join('\n');

/**
 * Maintainer scripts and initramfs-tools' trigger call `update-initramfs` by name, so a stub of that
 * name first in their PATH takes every call: it notes that the initramfs is out of date, in a scratch
 * folder outside the tree. Nothing in the image changes (no diversion, no edited conffile), and an
 * upgrade of initramfs-tools in the set is no different from any other package.
 */
async function deferInitramfs(ctx: StageContext): Promise<string> {
  const folder = join(ctx.scratch, 'deferred');
  await mkdir(join(folder, 'bin'), { recursive: true });
  const stub = join(folder, 'bin/update-initramfs');
  await writeFile(stub, `#!/bin/sh\n# kiln makes the initramfs once, after the package sets.\n: > ${DEFERRED_IN_ROOT}/${OUTDATED}\necho "update-initramfs $*: left to kiln"\n`);
  await chmod(stub, 0o755);
  return folder;
}

/**
 * mmdebstrap's install command: apt on the host, dpkg run inside the root (through env, which
 * drops variables that name host paths: the host's apt configuration file is not in the root,
 * where a maintainer script calling apt-config would read it).
 */
const INSTALL = (root: string) =>
  [
    // apt gives dpkg (and so every maintainer script) the PATH in DPkg::Path, the stub's folder first.
    ...[`DPkg::Path=${DEFERRED_IN_ROOT}/bin:/usr/sbin:/usr/bin:/sbin:/bin`, 'Dir::Bin::dpkg=env', 'DPkg::Options::=--unset=TMPDIR', 'DPkg::Options::=--unset=APT_CONFIG', 'DPkg::Options::=dpkg', `DPkg::Chroot-Directory=${root}`].flatMap((option) => ['-o', option]),
    '--yes',
    'install',
  ];

/** What mmdebstrap removes so the tree does not depend on when or where it was built. */
const UNREPRODUCIBLE = ['var/log/dpkg.log', 'var/log/apt/history.log', 'var/log/apt/term.log', 'var/log/alternatives.log', 'var/cache/ldconfig/aux-cache', 'var/log/apt/eipp.log.xz', 'var/lib/dbus/machine-id'];

/**
 * mmdebstrap's apt configuration (`Dir` is the root, the host's keyrings authenticate the
 * repositories, only the image's architecture), with its temporary 00mmdebstrap settings:
 * no Recommends, no translations. And no DPkg::Pre-Install-Pkgs hooks: the image's debconf
 * registers `dpkg-preconfigure --apt` there (apt-listchanges and apt-listbugs would add theirs),
 * which extracts every package's templates to ask its questions before unpacking. Nobody answers
 * in a build, and each package's postinst asks them again anyway (the noninteractive frontend
 * takes the defaults or the preseeded answers either way): it was about a tenth of the stage's
 * CPU. apt reads its main file after the parts folder, so the `#clear` there wins.
 */
async function writeAptConfig(ctx: StageContext, arch: string): Promise<string> {
  const file = join(ctx.scratch, 'apt.conf');
  const main = join(ctx.scratch, 'apt-main.conf');
  const imageMain = join(ctx.root, 'etc/apt/apt.conf');
  await writeFile(main, [...(existsSync(imageMain) ? [`#include "${imageMain}";`] : []), '#clear DPkg::Pre-Install-Pkgs;', ''].join('\n'));
  await writeFile(file, [
    `Apt::Architecture "${arch}";`,
    `Apt::Architectures "${arch}";`,
    `Dir "${ctx.root}";`,
    `Dir::State::Status "${ctx.root}/var/lib/dpkg/status";`,
    'Dir::Etc::Trusted "/etc/apt/trusted.gpg";',
    'Dir::Etc::TrustedParts "/etc/apt/trusted.gpg.d/";',
    'pkgCacheGen::ForceEssential ",";',
    'Apt::Install-Recommends false;',
    'Acquire::Languages "none";',
    // apt falls back to root anyway: the workspace is not the _apt user's to write.
    'APT::Sandbox::User "root";',
    `Dir::Etc::Main "${main}";`,
    '',
  ].join('\n'));
  return file;
}

/** mmdebstrap's cleanup: no package lists, no .debs, none of the files that vary from run to run. */
async function clean(ctx: StageContext, env: Record<string, string>): Promise<void> {
  await ctx.exec('apt-get', ['-o', 'Dir::Etc::SourceList=/dev/null', '-o', 'Dir::Etc::SourceParts=/dev/null', 'update', '-q'], { env });
  await ctx.exec('apt-get', ['clean'], { env });
  await rm(join(ctx.root, 'var/lib/apt/lists/auxfiles'), { recursive: true, force: true });
  for (const file of UNREPRODUCIBLE) await rm(join(ctx.root, file), { force: true });
}
