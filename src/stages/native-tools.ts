/**
 * Native programs for a foreign image root. Under qemu-user every process start costs 20 to 45 ms
 * of CPU, and jobs whose output does not depend on the architecture that runs them cost much of an
 * arm64 build: depmod over the kernel's modules (36 CPU-s emulated, 3.6 native), systemd-hwdb's
 * database (39 CPU-s, 0.3), mkinitramfs's shell and its thousand short sed, cp and realpath runs
 * (41 s, 3.5 native), the maintainer scripts' shell, coreutils and Perl. kiln runs the host
 * architecture's build of the very same package versions instead, from the same release: a
 * "toolbox" of those packages extracted with mmdebstrap (variant extract, through the package
 * cache) and kept in the cache folder. Inside the image root the toolbox is bind-mounted at
 * /run/kiln-native, in the chroot's private mount namespace, so nothing of it reaches the tree.
 * Each program is a copy of the toolbox's binary whose loader path (PT_INTERP) is a copy of the
 * toolbox's loader, itself changed to look for libraries in the toolbox instead of the host's
 * library folder: the kernel starts the program natively by any path it is bound at, with no
 * shell script in front. No folder or environment variable in the root says where the libraries
 * are: initramfs-tools' udev hook copies every libkmod it finds in any folder of /usr/lib. The
 * files they write are the ones the emulated programs write: a trixie arm64 disk image built with
 * them is byte-identical to one built under emulation. Where no toolbox can be had (no mirror, or
 * no such version for the host's architecture), the image's own programs run under emulation as
 * before.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { archInfo, type ArchName } from '../arch/table.js';
import { hostArch } from '../arch/host-arch.js';
import { withInterpreter, withLibraryFolder } from '../arch/elf.js';
import { collectPackages, dpkgStatusOf, nativeToolboxes, packageCacheArgs } from '../store/package-cache.js';
import { debOfFileName } from '../lockfile/lockfile.js';
import { makeChroot } from '../host/chroot.js';
import type { Exec } from '../host/exec.js';
import { quote } from '../host/shell.js';
import { InterruptedError } from '../errors.js';

/**
 * coreutils' programs that maintainer scripts and mkinitramfs call most, none of whose output
 * depends on the architecture that runs it (not uname, arch or nproc: they tell the machine).
 */
const COREUTILS = ['basename', 'cat', 'chmod', 'chown', 'cp', 'cut', 'dirname', 'env', 'head', 'ln', 'ls', 'mkdir', 'mktemp', 'mv', 'readlink', 'realpath', 'rm', 'rmdir', 'sort', 'stat', 'tail', 'touch', 'tr', 'uniq', 'wc'];

/** The shell and the small programs shell scripts run, by the name their callers use. */
export const SHELL_TOOLS = ['dash', 'sed', 'grep', 'find', 'xargs', ...COREUTILS];

/** The programs kiln runs natively, by the name their callers use: the package and its binary. */
export const NATIVE_PROGRAMS: Record<string, { package: string; binary: string }> = {
  // kmod's one binary is depmod, modprobe and modinfo by the name it is called with.
  depmod: { package: 'kmod', binary: 'kmod' },
  'systemd-hwdb': { package: 'udev', binary: 'systemd-hwdb' },
  zstd: { package: 'zstd', binary: 'zstd' },
  cpio: { package: 'cpio', binary: 'cpio' },
  // mkinitramfs's copier of modules and firmware, which resolves their dependencies through libkmod.
  'dracut-install': { package: 'dracut-install', binary: 'dracut-install' },
  // The bootstrap's own (native-hook.ts): debconf, deb-systemd-helper and other maintainer scripts'
  // Perl, and the unpacking of every .deb (dpkg runs dpkg-split and dpkg-deb, which runs tar).
  perl: { package: 'perl-base', binary: 'perl' },
  'dpkg-deb': { package: 'dpkg', binary: 'dpkg-deb' },
  'dpkg-split': { package: 'dpkg', binary: 'dpkg-split' },
  tar: { package: 'tar', binary: 'tar' },
  dash: { package: 'dash', binary: 'dash' },
  sed: { package: 'sed', binary: 'sed' },
  grep: { package: 'grep', binary: 'grep' },
  find: { package: 'findutils', binary: 'find' },
  xargs: { package: 'findutils', binary: 'xargs' },
  ...Object.fromEntries(COREUTILS.map((name) => [name, { package: 'coreutils', binary: name }])),
};

/**
 * The programs of the toolbox the kernel stage and the bootstrap's deferred calls use: depmod and
 * the hardware database, and mkinitramfs's shell, small programs, cpio and compression.
 */
export const IMAGE_TOOLS = ['depmod', 'systemd-hwdb', 'zstd', 'cpio', 'dracut-install', ...SHELL_TOOLS];

/** Where programs are, in the image and in a toolbox (dracut-install is not in PATH). */
const PROGRAM_FOLDERS = ['usr/bin', 'usr/sbin', 'bin', 'sbin', 'usr/lib/dracut'];

/** Where a toolbox is inside the image root while a native program runs. */
export const NATIVE_IN_ROOT = '/run/kiln-native';

/**
 * The loader path the toolbox's programs are given: the toolbox's changed loader. Short, so it
 * fits where the original path was (/lib64/ld-linux-x86-64.so.2).
 */
export const LOADER_IN_ROOT = posix.join(NATIVE_IN_ROOT, 'ld');

/**
 * The toolbox's folder of libraries, named to be as long as the host's library folder, whose name
 * it takes in the loader: kiln-lib for x86_64-linux-gnu (/run/kiln-native/kiln-lib/ for
 * /usr/lib/x86_64-linux-gnu/), padded or cut for other triplets.
 */
export function librariesFolder(triplet: string): string {
  const length = `/usr/lib/${triplet}/`.length - `${NATIVE_IN_ROOT}//`.length;
  return 'kiln-lib'.padEnd(length, '_').slice(0, length);
}

/** Changed whenever a toolbox's layout changes, so that no build takes one made by an older kiln. */
const TOOLBOX_FORMAT = 2;

/** GNU triplet and dynamic loader of each architecture a toolbox can be for. */
const LOADERS: Record<ArchName, { triplet: string; loader: string }> = {
  amd64: { triplet: 'x86_64-linux-gnu', loader: 'ld-linux-x86-64.so.2' },
  arm64: { triplet: 'aarch64-linux-gnu', loader: 'ld-linux-aarch64.so.1' },
  armhf: { triplet: 'arm-linux-gnueabihf', loader: 'ld-linux-armhf.so.3' },
  i386: { triplet: 'i386-linux-gnu', loader: 'ld-linux.so.2' },
};

/** The GNU triplet of an architecture's library folders (/usr/lib/aarch64-linux-gnu). */
export function tripletOf(arch: string): string {
  const known = LOADERS[arch as ArchName] as { triplet: string } | undefined;
  if (!known) throw new Error(`no GNU triplet known for ${arch}`);
  return known.triplet;
}

/** True when the image's programs run under qemu-user on this machine (not i386 on amd64). */
export function runsEmulated(arch: string, host: ArchName = hostArch()): boolean {
  if (arch === host) return false;
  return !(host === 'amd64' && archInfo(arch).native);
}

/** Where the apt sources a toolbox comes from: the image's release on its mirror. */
export interface ToolboxSource {
  release: string;
  mirror: string;
  components: string[];
}

/** The image's installed version of each package, from its dpkg status (absent: not installed). */
export async function installedVersions(root: string, names: readonly string[]): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const p of await dpkgStatusOf(root)) if (names.includes(p.name)) versions[p.name] = p.version;
  return versions;
}

/** Path of `name` in a toolbox: the first of the usual folders that has it. */
function findIn(dir: string, folders: readonly string[], name: string): string | undefined {
  return folders.map((f) => posix.join(f, name)).find((p) => existsSync(join(dir, p)));
}

/** What the native programs need of a stage's context. */
export interface NativeContext {
  root: string;
  exec: Exec;
  chroot: Exec;
  packageCache: string;
  scratch: string;
  log: (line: string) => void;
}

/** A version without its binary-only rebuild suffix (+b1): what the source package was. */
export function sourceVersion(version: string): string {
  return version.replace(/\+b\d+$/, '');
}

/**
 * What the toolbox's mmdebstrap is asked for: the image's version of each package, except where
 * it is a binary-only rebuild (grep 3.11-4+b1 on arm64): rebuilds are numbered per architecture,
 * so the host's may be another one of the same source. The release's current build is taken
 * then, and checked to be of the same source (`otherSource`).
 */
export function toolboxRequest(versions: Record<string, string>): string[] {
  return Object.entries(versions).map(([name, version]) => (sourceVersion(version) === version ? `${name}=${version}` : name));
}

/** The first package whose .deb in `debs` (file names) is of another source version than the image's, if any. */
export function otherSource(versions: Record<string, string>, debs: readonly string[]): string | undefined {
  const got = new Map(debs.map(debOfFileName).flatMap((d) => (d ? [[d.name, d.version] as const] : [])));
  return Object.entries(versions)
    .filter(([name, version]) => got.has(name) && sourceVersion(got.get(name) ?? '') !== sourceVersion(version))
    .map(([name, version]) => `${name} ${got.get(name) ?? ''} (the image has ${version})`)[0];
}

/**
 * The toolbox for the versions of `programs`' packages the image root has: made once per
 * release, mirror, host architecture and set of versions, then reused. Returns its folder, or null
 * with the reason logged when it cannot be made or used; the caller then runs the image's own programs.
 */
export async function nativeToolbox(ctx: NativeContext, source: ToolboxSource, programs: readonly string[] = IMAGE_TOOLS, known?: Record<string, string>): Promise<string | null> {
  const host = hostArch();
  const wantedPrograms = Object.entries(NATIVE_PROGRAMS).filter(([name]) => programs.includes(name));
  const packages = [...new Set(wantedPrograms.map(([, p]) => p.package))];
  // `known`: the versions about to be installed, where the root's dpkg database has none yet.
  const found = known ? Object.entries(known).filter(([name]) => packages.includes(name)) : Object.entries(await installedVersions(ctx.root, packages));
  if (!found.length) return null;
  // Sorted: the same versions are the same toolbox, whichever order they were found in.
  const versions = Object.fromEntries(found.sort(([a], [b]) => (a < b ? -1 : 1)));
  const { release, mirror, components } = source;
  const made = { host, release, mirror, components, format: TOOLBOX_FORMAT };
  const record = { ...made, versions };
  const key = createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 24);
  const folder = join(nativeToolboxes(ctx.packageCache), key);
  const wanted = Object.entries(versions).map(([name, version]) => `${name}=${version}`);
  const kept = existsSync(join(folder, 'kiln-bin')) ? folder : await toolboxWith(nativeToolboxes(ctx.packageCache), made, versions, wantedPrograms.map(([name]) => name));
  if (kept) {
    const now = new Date();
    await utimes(kept, now, now); // when it was last used, for kiln cache prune
    ctx.log(`native programs: ${host} toolbox of ${wanted.join(' ')} (kept from an earlier build${kept === folder ? '' : ', with more in it'})`);
    return kept;
  }
  // Not the pid: kiln builds in a PID namespace of its own, where every build is 1.
  const making = `${folder}.making-${randomBytes(6).toString('hex')}`;
  await mkdir(dirname(folder), { recursive: true });
  const collected = join(ctx.scratch, `native-debs-${randomBytes(4).toString('hex')}`);
  await mkdir(collected, { recursive: true });
  const notMade = async (why: string) => {
    await rm(making, { recursive: true, force: true });
    ctx.log(`native programs: no ${host} toolbox of ${wanted.join(' ')} (${why}); the image's own run under emulation`);
    return null;
  };
  try {
    await ctx.exec('mmdebstrap', [
      '--mode=root', '--variant=extract', `--architectures=${host}`, `--components=${components.join(',')}`,
      `--include=${toolboxRequest(versions).join(',')}`, ...packageCacheArgs(ctx.packageCache, host, collected), release, making, mirror,
    ], { label: `mmdebstrap: the ${host} toolbox (${wanted.join(' ')})` });
    const other = otherSource(versions, await readdir(collected));
    if (other) return await notMade(`the release's ${host} build is of another source: ${other}`);
  } catch (err) {
    if (err instanceof InterruptedError) {
      await rm(making, { recursive: true, force: true });
      throw err; // Ctrl-C stops the build, it does not fall back
    }
    return await notMade((err as Error).message.split('\n')[0] ?? '');
  } finally {
    await collectPackages(collected, ctx.packageCache, new Set());
    await rm(collected, { recursive: true, force: true });
  }
  const filled = await fillToolbox(making, wantedPrograms.filter(([, program]) => program.package in versions), host);
  if (typeof filled === 'string') return await notMade(filled);
  await writeFile(join(making, TOOLBOX_RECORD), `${JSON.stringify(record)}\n`);
  // Atomic: a build running beside this one sees a whole toolbox or none (and keeps its own if both made one).
  await rename(making, folder).catch(async () => rm(making, { recursive: true, force: true }));
  ctx.log(`native programs: ${host} toolbox of ${wanted.join(' ')}`);
  return folder;
}

/** What a toolbox was made of and for, in its folder. */
const TOOLBOX_RECORD = 'toolbox.json';

/**
 * A toolbox made for the same host, release and mirror that has every one of `versions` and of
 * `programs` (the bootstrap's, made with the kernel stage's packages too), if there is one.
 */
async function toolboxWith(folder: string, made: object, versions: Record<string, string>, programs: readonly string[]): Promise<string | undefined> {
  const same = JSON.stringify(made);
  for (const entry of await readdir(folder).catch((): string[] => [])) {
    if (entry.includes('.making-')) continue;
    const record = await readFile(join(folder, entry, TOOLBOX_RECORD), 'utf8').then((t) => JSON.parse(t) as { versions?: Record<string, string> } & object, () => null);
    if (!record) continue;
    const { versions: has = {}, ...rest } = record;
    if (JSON.stringify(rest) !== same || Object.entries(versions).some(([name, version]) => has[name] !== version)) continue;
    const bin = await readdir(join(folder, entry, 'kiln-bin')).catch((): string[] => []);
    if (programs.every((name) => bin.includes(name) || !((NATIVE_PROGRAMS[name]?.package ?? '') in versions))) return join(folder, entry);
  }
  return undefined;
}

/**
 * The toolbox's own parts, in the extracted packages: its libraries in one folder, the loader
 * changed to look there, and each program's binary with its loader path pointing at that loader.
 * A sentence when the loader is missing or a binary cannot be changed.
 */
async function fillToolbox(dir: string, programs: [string, { package: string; binary: string }][], host: ArchName): Promise<string | undefined> {
  const { triplet, loader } = LOADERS[host];
  const libFolders = [`usr/lib/${triplet}`, `lib/${triplet}`];
  const loaderPath = findIn(dir, [...libFolders, 'usr/lib64', 'lib64', 'usr/lib', 'lib'], loader);
  if (!loaderPath) return `it has no ${loader}`;
  const libraries = librariesFolder(triplet);
  try {
    const changed = withLibraryFolder(await readFile(join(dir, loaderPath)), `/usr/lib/${triplet}/`, `${NATIVE_IN_ROOT}/${libraries}/`);
    await writeFile(join(dir, posix.basename(LOADER_IN_ROOT)), changed, { mode: 0o755 });
  } catch (err) {
    return `${loaderPath}: ${(err as Error).message}`;
  }
  // systemd's programs find their private library by RUNPATH, which is the host's folder too.
  await gatherLibraries(dir, libraries, [...libFolders, `usr/lib/${triplet}/systemd`, 'usr/lib/systemd', 'lib/systemd']);
  await mkdir(join(dir, 'kiln-bin'));
  for (const [name, program] of programs) {
    // A program its package no longer has is left to the image's own build.
    const binary = findIn(dir, PROGRAM_FOLDERS, program.binary);
    if (!binary) continue;
    try {
      await writeFile(join(dir, 'kiln-bin', name), withInterpreter(await readFile(join(dir, binary)), LOADER_IN_ROOT), { mode: 0o755 });
    } catch (err) {
      return `${binary}: ${(err as Error).message}`;
    }
  }
  return undefined;
}

/**
 * One folder with links (absolute, as the root sees them) to the libraries of `folders`: the
 * loader looks in one folder. Packages of older releases keep some in /lib/<triplet>, some in
 * /usr/lib/<triplet>.
 */
async function gatherLibraries(dir: string, into: string, folders: readonly string[]): Promise<void> {
  await mkdir(join(dir, into));
  for (const folder of folders) {
    const path = join(dir, folder);
    if (!existsSync(path) || (await lstat(path)).isSymbolicLink()) continue;
    for (const entry of await readdir(path)) {
      await symlink(posix.join(NATIVE_IN_ROOT, folder, entry), join(dir, into, entry)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err; // the first folder's wins, as the loader's search order has it
      });
    }
  }
}

/** The programs a toolbox has. */
export function toolboxPrograms(toolbox: string): string[] {
  return readdirSync(join(toolbox, 'kiln-bin')).sort();
}

/** `path` inside `root` with its symbolic links followed inside the root (an absolute link is the root's). */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  let current = '/';
  const rest = path.split('/').filter(Boolean);
  for (let hops = 0; rest.length; ) {
    const part = rest.shift() ?? '';
    const next = posix.join(current, part);
    const link = await readlink(join(root, next)).catch(() => null);
    if (link === null) {
      current = next;
      continue;
    }
    if (++hops > 40) throw new Error(`${path}: too many symbolic links in the image root`);
    rest.unshift(...link.split('/').filter(Boolean));
    if (link.startsWith('/')) current = '/';
  }
  return current;
}

/**
 * Like makeChroot, with the toolbox at /run/kiln-native and its programs bound over the image's
 * own binaries in `over` (paths in the root, links followed): a command that calls them by any
 * path, PATH or not (mkinitramfs sets its own), runs the native ones. `links` are programs put in
 * place of a link of the image (/usr/sbin/depmod) instead of over the file it points to, which
 * something else copies (mkinitramfs copies kmod): a read-only overlay of the link's folder whose
 * top layer has the name as a link to the toolbox's program. Nothing in the tree changes.
 */
export function nativeChroot(exec: Exec, root: string, toolbox: string, over: Record<string, string>, links: Record<string, string> = {}): Exec {
  const mounts = [
    `mkdir "$r${NATIVE_IN_ROOT}" && mount --bind ${quote(toolbox)} "$r${NATIVE_IN_ROOT}"`,
    ...Object.entries(over).map(([program, path]) => `mount --bind ${quote(join(toolbox, 'kiln-bin', program))} "$r"${quote(path)}`),
  ];
  const folders = new Map<string, string[]>();
  for (const [program, path] of Object.entries(links)) folders.set(posix.dirname(path), [...(folders.get(posix.dirname(path)) ?? []), program]);
  for (const [folder, programs] of folders) {
    const top = posix.join('/run/kiln-links', folder);
    mounts.push(
      `mkdir -p "$r"${quote(top)}`,
      ...programs.map((program) => `ln -s ${quote(posix.join(NATIVE_IN_ROOT, 'kiln-bin', program))} "$r"${quote(posix.join(top, program))}`),
      `mount -t overlay kiln-links -o lowerdir="$r"${quote(top)}:"$r"${quote(folder)} "$r"${quote(folder)}`,
    );
  }
  const native = [...Object.keys(over), ...Object.keys(links)];
  return makeChroot(exec, root, { mounts, note: `${native.join(', ') || 'toolbox'} native` });
}

/**
 * The bootstrap's deferral: mmdebstrap's maintainer scripts call depmod and systemd-hwdb by name,
 * and before the image's apt has chosen the versions no toolbox can match them. So stubs of those
 * names first in dpkg's PATH only note each call (in /run/kiln-deferred, removed before mmdebstrap
 * cleans up), and runDeferred makes the calls afterwards with the toolbox of the versions
 * installed. Nothing between reads their output: the kernel's postinst makes no initramfs then.
 */
export const DEFERRED_IN_ROOT = '/run/kiln-deferred';
export const DEFERRED_PROGRAMS = ['depmod', 'systemd-hwdb'];

/** A stub that notes its call: name and arguments separated by US (0x1f), each call ended by NUL. */
export function deferralStub(): string {
  return [
    '#!/bin/sh',
    "# kiln: noted here, run natively once the bootstrap's packages are in (see kiln's native-tools.ts).",
    `{ printf '%s' "\${0##*/}"; for a do printf '\\037%s' "$a"; done; printf '\\000'; } >> ${DEFERRED_IN_ROOT}/calls`,
    '',
  ].join('\n');
}

/** The calls the stubs noted, in order, each once. */
export function parseCalls(text: string): string[][] {
  const seen = new Set<string>();
  return text
    .split('\0')
    .filter((record) => record !== '' && !seen.has(record) && seen.add(record))
    .map((record) => record.split('\x1f'));
}

/** Runs the noted calls: natively with the toolbox of the image's versions, else under emulation. */
export async function runDeferred(ctx: NativeContext, source: ToolboxSource, calls: string[][]): Promise<void> {
  if (!calls.length) return;
  const toolbox = await nativeToolbox(ctx, source);
  const native = toolbox ? nativeChroot(ctx.exec, ctx.root, toolbox, {}) : ctx.chroot;
  const programs = toolbox ? toolboxPrograms(toolbox) : [];
  for (const [name = '', ...args] of calls) {
    if (programs.includes(name)) await native(posix.join(NATIVE_IN_ROOT, 'kiln-bin', name), args);
    else await ctx.chroot(name, args);
  }
}

/**
 * The chroot for a stage that runs `programs`, or programs that call them (mkinitramfs calls
 * zstd): their native builds bound over the image's own, or the plain chroot where the image has
 * none of them or no toolbox matches. `links`: programs that go in place of the image's link of
 * that name, not over what it points to (nativeChroot).
 */
export async function chrootWithNative(ctx: NativeContext, source: ToolboxSource, programs: readonly string[], links: readonly string[] = []): Promise<Exec> {
  const toolbox = await nativeToolbox(ctx, source);
  if (!toolbox) return ctx.chroot;
  const has = toolboxPrograms(toolbox);
  const where = (name: string) => PROGRAM_FOLDERS.map((f) => posix.join('/', f, name)).find((p) => existsSync(join(ctx.root, p)));
  const over: Record<string, string> = {};
  for (const name of programs.filter((p) => has.includes(p))) {
    const path = where(name);
    if (path) over[name] = await resolveInRoot(ctx.root, path);
  }
  const linked: Record<string, string> = {};
  for (const name of links.filter((p) => has.includes(p))) {
    const path = where(name);
    if (path) linked[name] = posix.join(await resolveInRoot(ctx.root, posix.dirname(path)), name);
  }
  return Object.keys(over).length || Object.keys(linked).length ? nativeChroot(ctx.exec, ctx.root, toolbox, over, linked) : ctx.chroot;
}
