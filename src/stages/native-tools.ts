/**
 * Native programs for a foreign image root. Under qemu-user three jobs whose output does not
 * depend on the architecture that runs them cost much of an arm64 build: depmod over the kernel's
 * modules (36 CPU-s emulated, 3.6 native), systemd-hwdb's database (39 CPU-s, 0.3) and the
 * initramfs's zstd (14 CPU-s). kiln runs the host architecture's build of the very same package
 * versions instead, from the same release: a "toolbox" of those packages extracted with
 * mmdebstrap (variant extract, through the package cache) and kept in the cache folder. Inside the
 * image root they run with their own loader and libraries, bind-mounted at /run/kiln-native in the
 * chroot's private mount namespace, so nothing of them reaches the tree, and the files they write
 * are the ones the emulated programs write (compared byte for byte on trixie arm64: hwdb.bin,
 * every modules.* file, the initramfs). Where no toolbox can be had (no mirror, or no such version
 * for the host's architecture), the image's own programs run under emulation as before.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, readlink, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { archInfo, type ArchName } from '../arch/table.js';
import { hostArch } from '../arch/host-arch.js';
import { collectPackages, dpkgStatusOf, nativeToolboxes, packageCacheArgs } from '../store/package-cache.js';
import { makeChroot } from '../host/chroot.js';
import type { Exec } from '../host/exec.js';
import { quote } from '../host/shell.js';
import { InterruptedError } from '../errors.js';

/** The programs kiln runs natively, by the name their callers use: the package and its binary. */
export const NATIVE_PROGRAMS: Record<string, { package: string; binary: string }> = {
  // kmod's one binary is depmod, modprobe and modinfo by the name it is called with.
  depmod: { package: 'kmod', binary: 'kmod' },
  'systemd-hwdb': { package: 'udev', binary: 'systemd-hwdb' },
  zstd: { package: 'zstd', binary: 'zstd' },
  // The bootstrap's own (native-hook.ts): debconf, deb-systemd-helper and other maintainer scripts'
  // Perl, and the unpacking of every .deb (dpkg runs dpkg-deb, which decompresses the archive).
  perl: { package: 'perl-base', binary: 'perl' },
  'dpkg-deb': { package: 'dpkg', binary: 'dpkg-deb' },
};

/** The programs of the toolbox the kernel stage and the bootstrap's deferred calls use. */
export const IMAGE_TOOLS = ['depmod', 'systemd-hwdb', 'zstd'];

/** Where a toolbox is inside the image root while a native program runs. */
export const NATIVE_IN_ROOT = '/run/kiln-native';

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

/**
 * The wrapper a native program is called through inside the root: the toolbox's loader runs the
 * toolbox's binary with the toolbox's libraries, under the name it was called by ("$0": kmod
 * reads it to be depmod).
 */
export function wrapperScript(loader: string, libraryPath: readonly string[], binary: string, options: readonly string[] = []): string {
  const inRoot = (p: string) => posix.join(NATIVE_IN_ROOT, p);
  return [
    '#!/bin/sh',
    "# kiln: the host architecture's build of the image's own version, run natively (see kiln's native-tools.ts).",
    `exec ${inRoot(loader)} --library-path ${libraryPath.map(inRoot).join(':')} --argv0 "$0" ${[inRoot(binary), ...options].join(' ')} "$@"`,
    '',
  ].join('\n');
}

/**
 * Options a program's native build needs inside the foreign root: Perl's own modules (perl-base's,
 * some of them compiled) are in the toolbox, under the host's triplet, not in the root.
 */
function programOptions(name: string, triplet: string): string[] {
  return name === 'perl' ? ['-I', posix.join(NATIVE_IN_ROOT, `usr/lib/${triplet}/perl-base`)] : [];
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

/**
 * The toolbox for the versions of `programs`' packages the image root has: made once per
 * release, mirror, host architecture and set of versions, then reused. Returns its folder, or null
 * with the reason logged when it cannot be made; the caller then runs the image's own programs.
 */
export async function nativeToolbox(ctx: NativeContext, source: ToolboxSource, programs: readonly string[] = IMAGE_TOOLS, known?: Record<string, string>): Promise<string | null> {
  const host = hostArch();
  const wantedPrograms = Object.entries(NATIVE_PROGRAMS).filter(([name]) => programs.includes(name));
  const packages = [...new Set(wantedPrograms.map(([, p]) => p.package))];
  // `known`: the versions about to be installed, where the root's dpkg database has none yet.
  const versions = known ? Object.fromEntries(Object.entries(known).filter(([name]) => packages.includes(name))) : await installedVersions(ctx.root, packages);
  if (!Object.keys(versions).length) return null;
  const { release, mirror, components } = source;
  const key = createHash('sha256').update(JSON.stringify({ host, release, mirror, components, versions })).digest('hex').slice(0, 24);
  const folder = join(nativeToolboxes(ctx.packageCache), key);
  const wanted = Object.entries(versions).map(([name, version]) => `${name}=${version}`);
  if (existsSync(join(folder, 'kiln-bin'))) {
    const now = new Date();
    await utimes(folder, now, now); // when it was last used, for kiln cache prune
    ctx.log(`native programs: ${host} toolbox of ${wanted.join(' ')} (kept from an earlier build)`);
    return folder;
  }
  // Not the pid: kiln builds in a PID namespace of its own, where every build is 1.
  const making = `${folder}.making-${randomBytes(6).toString('hex')}`;
  await mkdir(dirname(folder), { recursive: true });
  const collected = join(ctx.scratch, 'native-debs');
  await mkdir(collected, { recursive: true });
  try {
    await ctx.exec('mmdebstrap', [
      '--mode=root', '--variant=extract', `--architectures=${host}`, `--components=${components.join(',')}`,
      `--include=${wanted.join(',')}`, ...packageCacheArgs(ctx.packageCache, host, collected), release, making, mirror,
    ], { label: `mmdebstrap: the ${host} toolbox (${wanted.join(' ')})` });
  } catch (err) {
    await rm(making, { recursive: true, force: true });
    if (err instanceof InterruptedError) throw err; // Ctrl-C stops the build, it does not fall back
    ctx.log(`native programs: no ${host} toolbox of ${wanted.join(' ')} (${(err as Error).message.split('\n')[0]}); the image's own run under emulation`);
    return null;
  } finally {
    await collectPackages(collected, ctx.packageCache, new Set());
  }
  const { triplet, loader } = LOADERS[host];
  const libFolders = [`usr/lib/${triplet}`, `lib/${triplet}`];
  const loaderPath = findIn(making, [...libFolders, 'usr/lib64', 'lib64', 'usr/lib', 'lib'], loader);
  const libraryPath = [...libFolders, `usr/lib/${triplet}/systemd`, 'usr/lib/systemd', 'lib/systemd'].filter((p) => existsSync(join(making, p)));
  await mkdir(join(making, 'kiln-bin'));
  for (const [name, program] of wantedPrograms) {
    if (!(program.package in versions)) continue;
    const binary = findIn(making, ['usr/bin', 'bin', 'usr/sbin', 'sbin'], program.binary);
    if (!loaderPath || !binary) {
      ctx.log(`native programs: the ${host} toolbox has no ${binary ? loader : program.binary}; the image's own run under emulation`);
      await rm(making, { recursive: true, force: true });
      return null;
    }
    await writeFile(join(making, 'kiln-bin', name), wrapperScript(loaderPath, libraryPath, binary, programOptions(name, triplet)));
    await chmod(join(making, 'kiln-bin', name), 0o755);
  }
  // Atomic: a build running beside this one sees a whole toolbox or none (and keeps its own if both made one).
  await rename(making, folder).catch(async () => rm(making, { recursive: true, force: true }));
  ctx.log(`native programs: ${host} toolbox of ${wanted.join(' ')}`);
  return folder;
}

/** The programs a toolbox has wrappers for. */
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
 * Like makeChroot, with the toolbox at /run/kiln-native and its wrappers bind-mounted over the
 * image's own binaries in `over` (paths in the root, links followed): a command that calls them by
 * any path, PATH or not (mkinitramfs sets its own), runs the native ones. Nothing in the tree changes.
 */
export function nativeChroot(exec: Exec, root: string, toolbox: string, over: Record<string, string>): Exec {
  const mounts = [
    `mkdir "$r${NATIVE_IN_ROOT}" && mount --bind ${quote(toolbox)} "$r${NATIVE_IN_ROOT}"`,
    ...Object.entries(over).map(([program, path]) => `mount --bind ${quote(join(toolbox, 'kiln-bin', program))} "$r"${quote(path)}`),
  ];
  return makeChroot(exec, root, { mounts, note: `${Object.keys(over).join(', ') || 'toolbox'} native` });
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
 * none of them or no toolbox matches.
 */
export async function chrootWithNative(ctx: NativeContext, source: ToolboxSource, programs: readonly string[]): Promise<Exec> {
  const toolbox = await nativeToolbox(ctx, source);
  if (!toolbox) return ctx.chroot;
  const over: Record<string, string> = {};
  const has = toolboxPrograms(toolbox);
  for (const name of programs.filter((p) => has.includes(p))) {
    const path = ['usr/bin', 'usr/sbin', 'bin', 'sbin'].map((f) => posix.join('/', f, name)).find((p) => existsSync(join(ctx.root, p)));
    if (path) over[name] = await resolveInRoot(ctx.root, path);
  }
  return Object.keys(over).length ? nativeChroot(ctx.exec, ctx.root, toolbox, over) : ctx.chroot;
}
