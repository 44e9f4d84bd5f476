/**
 * The bootstrap's native programs for a foreign root, set up by mmdebstrap hooks. From the moment
 * the essential packages are unpacked, the versions of the rest of the bootstrap are fixed (one
 * apt run, one set of lists), so the host architecture's build of two of them can stand in
 * (native-tools.ts has the toolbox):
 *
 * - dpkg-deb, which dpkg runs by name for every .deb to decompress and read it. The extract hook
 *   puts the toolbox's first in PATH (the deferral folder, /run/kiln-deferred/bin).
 * - perl, which maintainer scripts run by its path (debconf's frontend, deb-systemd-helper,
 *   update-rc.d, adduser). Once perl-base is installed, the essential hook binds a wrapper over
 *   the root's /usr/bin/perl that runs the toolbox's perl with the toolbox's perl-base modules. As
 *   soon as the root has compiled Perl modules of its own architecture (libperl, or any XS module
 *   package), which a native perl cannot load, the wrapper runs the image's own perl again.
 *
 * Under qemu-user these were about half the CPU of an arm64 bootstrap (process accounting: dpkg-deb
 * 38 CPU-s in 926 runs, debconf's frontend 37 in 10, deb-systemd-helper 22 in 12). The mounts live
 * in mmdebstrap's private mount namespace; a customize hook takes them away again before mmdebstrap
 * cleans the root (and the toolbox is bound read-only, so no clean-up can reach into it).
 *   node native-hook.js extract|essential PACKAGE_CACHE SCRATCH RELEASE MIRROR COMPONENTS ARCH ROOT
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeExec } from '../host/exec.js';
import { quote } from '../host/shell.js';
import { debOfFileName } from '../lockfile/lockfile.js';
import { DEFERRED_IN_ROOT, NATIVE_IN_ROOT, nativeToolbox, resolveInRoot, toolboxPrograms, tripletOf, type NativeContext, type ToolboxSource } from './native-tools.js';

/** The programs the bootstrap runs natively once its essential packages are in. */
export const BOOTSTRAP_TOOLS = ['perl', 'dpkg-deb'];

/** Where the image's own perl stays reachable while the wrapper is bound over it. */
export const OWN_PERL = '/run/kiln-perl';

/** The script the customize hook runs ("$1": the root) to take every mount away. */
export function undoScript(scratch: string): string {
  return join(scratch, 'native-undo.sh');
}

/**
 * The wrapper bound over /usr/bin/perl: the image's own perl while the root has compiled Perl
 * modules for its architecture (a native perl cannot load them), the toolbox's otherwise (its exec
 * line, from the toolbox's own wrapper).
 */
export function perlWrapper(nativeWrapper: string, foreignTriplet: string): string {
  const exec = nativeWrapper.split('\n').find((line) => line.startsWith('exec '));
  if (!exec) throw new Error("the toolbox's perl wrapper has no exec line");
  return [
    '#!/bin/sh',
    "# kiln: the host's perl of the image's own version, while the image has no compiled Perl modules of its own (see kiln's native-hook.ts).",
    `for d in /usr/lib/${foreignTriplet}/perl /usr/lib/${foreignTriplet}/perl5; do [ -d "$d" ] && exec ${OWN_PERL} "$@"; done`,
    exec,
    '',
  ].join('\n');
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${[command, ...args].join(' ')}: ${(result.stderr || result.error?.message || '').trim()}`);
}

/** The versions of `MMDEBSTRAP_ESSENTIAL`'s .debs (paths in the root, name_version_arch.deb), by package. */
export function essentialVersions(list: string): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const path of list.split(' ').filter(Boolean)) {
    const deb = debOfFileName(path.slice(path.lastIndexOf('/') + 1));
    if (deb) versions[deb.name] = deb.version;
  }
  return versions;
}

/**
 * Extract hook: the essential packages are unpacked but not installed, their versions known from
 * mmdebstrap's list. The toolbox is mounted, and its dpkg-deb put first in PATH, where dpkg
 * installing the essential packages finds it too (dpkg replaces its own dpkg-deb as it goes, not
 * the one in the deferral folder).
 */
async function extract(ctx: NativeContext & { source: ToolboxSource }, essential: string, undo: string[]): Promise<void> {
  const toolbox = await nativeToolbox(ctx, ctx.source, BOOTSTRAP_TOOLS, essentialVersions(essential));
  if (!toolbox) return;
  const mountPoint = join(ctx.root, NATIVE_IN_ROOT);
  await mkdir(mountPoint);
  undo.unshift(`rmdir "$1"${quote(NATIVE_IN_ROOT)}`);
  run('mount', ['--bind', toolbox, mountPoint]);
  undo.unshift(`umount "$1"${quote(NATIVE_IN_ROOT)}`);
  // Read-only: a clean-up of /run that missed the unmount cannot reach into the package cache's folder.
  run('mount', ['-o', 'remount,bind,ro', mountPoint]);
  if (toolboxPrograms(toolbox).includes('dpkg-deb') && existsSync(join(ctx.root, DEFERRED_IN_ROOT, 'bin'))) {
    const target = join(ctx.root, DEFERRED_IN_ROOT, 'bin', 'dpkg-deb');
    await copyFile(join(toolbox, 'kiln-bin', 'dpkg-deb'), target);
    await chmod(target, 0o755);
    ctx.log("native programs: the host's dpkg-deb unpacks the image's packages");
  }
}

/**
 * Essential hook: perl-base is installed, and nothing in the rest of the bootstrap replaces
 * /usr/bin/perl (a bind mount would stop dpkg from renaming over it), so the wrapper goes there.
 * The toolbox is the one the extract hook mounted, if it did.
 */
async function essential(ctx: NativeContext & { arch: string }, undo: string[]): Promise<void> {
  const toolbox = join(ctx.root, NATIVE_IN_ROOT);
  if (!existsSync(join(toolbox, 'kiln-bin', 'perl'))) return;
  const perl = await resolveInRoot(ctx.root, '/usr/bin/perl');
  if (!existsSync(join(ctx.root, perl))) return;
  const wrapper = join(ctx.scratch, 'native-perl');
  await writeFile(wrapper, perlWrapper(await readFile(join(toolbox, 'kiln-bin', 'perl'), 'utf8'), tripletOf(ctx.arch)), { mode: 0o755 });
  await writeFile(join(ctx.root, OWN_PERL), '');
  undo.unshift(`rm -f "$1"${quote(OWN_PERL)}`);
  run('mount', ['--bind', join(ctx.root, perl), join(ctx.root, OWN_PERL)]);
  undo.unshift(`umount "$1"${quote(OWN_PERL)}`);
  run('mount', ['--bind', wrapper, join(ctx.root, perl)]);
  undo.unshift(`umount "$1"${quote(perl)}`);
  ctx.log("native programs: the host's perl runs the maintainer scripts' Perl");
}

async function main([mode, packageCache, scratch, release, mirror, components, arch, root]: string[]): Promise<void> {
  if ((mode !== 'extract' && mode !== 'essential') || !packageCache || !scratch || !release || !mirror || !components || !arch || !root) {
    throw new Error('usage: native-hook extract|essential PACKAGE_CACHE SCRATCH RELEASE MIRROR COMPONENTS ARCH ROOT');
  }
  const essentialDebs = process.env['MMDEBSTRAP_ESSENTIAL'] ?? '';
  // The toolbox's own mmdebstrap must not take this one's apt configuration for its own.
  for (const name of Object.keys(process.env)) if (name.startsWith('MMDEBSTRAP_') || name === 'APT_CONFIG') delete process.env[name];
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const exec = makeExec({ stage: 'bootstrap', signal: new AbortController().signal, onLine: log });
  const ctx = { root, exec, chroot: exec, packageCache, scratch, log, arch, source: { release, mirror, components: components.split(',') } };
  // The customize hook's script: the extract hook's mounts, then the essential hook's on top.
  const undoFile = undoScript(scratch);
  const earlier = (await readFile(undoFile, 'utf8').catch(() => '')).split('\n').filter((l) => l && l !== 'set -e');
  const undo: string[] = [];
  try {
    if (mode === 'extract') await extract(ctx, essentialDebs, undo);
    else await essential(ctx, undo);
    // Run by the customize hook, where a mount that will not go away must stop the build.
    if (undo.length) await writeFile(undoFile, ['set -e', ...undo, ...earlier, ''].join('\n'));
  } catch (err) {
    // What this hook set up is taken down again; the bootstrap goes on with the image's own programs.
    spawnSync('sh', ['-c', undo.join('\n'), 'native-undo', root], { stdio: 'inherit' });
    log(`native programs: none from the ${mode} hook on (${(err as Error).message.split('\n')[0]}); the image's own run under emulation`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv.slice(2));
