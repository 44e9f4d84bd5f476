/**
 * The bootstrap's native programs for a foreign root, set up by mmdebstrap hooks. From the moment
 * the essential packages are unpacked, the versions of the rest of the bootstrap are fixed (one
 * apt run, one set of lists), so the host architecture's build of the essential ones can stand in
 * (native-tools.ts has the toolbox):
 *
 * - dpkg-deb and dpkg-split, which dpkg runs by name for every .deb, tar, which dpkg-deb runs, and
 *   the shell's small programs (sed, rm, mkdir, ...), which maintainer scripts run by name. The
 *   extract hook links them first in PATH (the deferral folder, /run/kiln-deferred/bin), where
 *   dpkg installing the essential packages finds them too.
 * - perl and the shell (dash), which maintainer scripts run by their path (debconf's frontend,
 *   deb-systemd-helper, update-rc.d, adduser; #!/bin/sh), bound over the root's own. dpkg could
 *   not rename a new file over a bound one, so perl-base is installed first, on its own, and the
 *   extract hook binds perl at once (perlFirst); the essential hook binds dash once the essential
 *   packages are installed, as nothing in the rest of the bootstrap replaces it. Perl goes through
 *   a wrapper: as soon as the root has compiled Perl modules of its own architecture (libperl, or
 *   any XS module package), which a native perl cannot load, it runs the image's own perl again.
 *
 * Under qemu-user these were most of the CPU of an arm64 bootstrap (process accounting: dpkg-deb
 * 38 CPU-s in 926 runs, debconf's frontend 37 in 10, deb-systemd-helper 22 in 12, then tar, rm,
 * dpkg-split and dpkg-maintscript-helper's shell). The mounts live in mmdebstrap's private mount
 * namespace; a customize hook takes them away again before mmdebstrap cleans the root (and the
 * toolbox is bound read-only, so no clean-up can reach into it).
 *
 * The toolbox is made while mmdebstrap downloads and unpacks the essential packages: a setup hook
 * starts the `prepare` mode in the background once apt's lists are in (the versions are then the
 * candidates apt-cache shows), and the extract hook waits for it, then finds that toolbox.
 *   node native-hook.js prepare|extract|essential PACKAGE_CACHE SCRATCH RELEASE MIRROR COMPONENTS ARCH ROOT
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeExec } from '../host/exec.js';
import { quote } from '../host/shell.js';
import { debOfFileName } from '../lockfile/lockfile.js';
import { hostArch } from '../arch/host-arch.js';
import { DEFERRED_IN_ROOT, IMAGE_TOOLS, NATIVE_IN_ROOT, NATIVE_PROGRAMS, nativeToolbox, resolveInRoot, SHELL_TOOLS, toolboxPrograms, tripletOf, type NativeContext, type ToolboxSource } from './native-tools.js';

/** The programs the bootstrap runs natively once its essential packages are in. */
export const BOOTSTRAP_TOOLS = ['perl', 'dpkg-deb', 'dpkg-split', 'tar', ...SHELL_TOOLS];

/** The ones maintainer scripts run by their path, bound there by the hooks; the rest are found in PATH. */
const BY_PATH: Record<string, string> = { dash: '/usr/bin/dash', perl: '/usr/bin/perl' };

/** Where the image's own perl stays reachable while the wrapper is bound over it. */
export const OWN_PERL = '/run/kiln-perl';

/** The background toolbox's files in the scratch folder: its pid (written by the setup hook's shell), its log, and its end. */
export function preparedFiles(scratch: string): { pid: string; log: string; done: string } {
  return { pid: join(scratch, 'native-prepare.pid'), log: join(scratch, 'native-prepare.log'), done: join(scratch, 'native-prepare.done') };
}

/** The script the customize hook runs ("$1": the root) to take every mount away. */
export function undoScript(scratch: string): string {
  return join(scratch, 'native-undo.sh');
}

/**
 * The wrapper bound over /usr/bin/perl: the image's own perl while the root has compiled Perl
 * modules for its architecture (a native perl cannot load them), the toolbox's otherwise, with the
 * toolbox's perl-base modules (some of them compiled) first in its @INC.
 */
export function perlWrapper(foreignTriplet: string, hostTriplet: string): string {
  return [
    '#!/bin/sh',
    "# kiln: the host's perl of the image's own version, while the image has no compiled Perl modules of its own (see kiln's native-hook.ts).",
    `for d in /usr/lib/${foreignTriplet}/perl /usr/lib/${foreignTriplet}/perl5; do [ -d "$d" ] && exec ${OWN_PERL} "$@"; done`,
    `exec ${NATIVE_IN_ROOT}/kiln-bin/perl -I ${NATIVE_IN_ROOT}/usr/lib/${hostTriplet}/perl-base "$@"`,
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

const packagesOf = (programs: readonly string[]) => new Set(programs.map((name) => NATIVE_PROGRAMS[name]?.package ?? ''));

/** The packages of the kernel stage's native programs that the bootstrap's own do not have (kmod, udev, ...). */
const IMAGE_PACKAGES = [...packagesOf(IMAGE_TOOLS)].filter((p) => !packagesOf(BOOTSTRAP_TOOLS).has(p));

/**
 * The versions of `packages` apt would install in the root, from its package lists (apt-cache
 * with mmdebstrap's apt configuration); the ones it has none of are left out.
 */
function candidates(aptConfig: string, packages: readonly string[]): Record<string, string> {
  if (!aptConfig) return {};
  const shown = spawnSync('apt-cache', ['show', '--no-all-versions', ...packages], { encoding: 'utf8', env: { ...process.env, APT_CONFIG: aptConfig } });
  return shownVersions(shown.stdout ?? '', packages);
}

/** The version of each of `packages` in `apt-cache show` output. */
export function shownVersions(shown: string, packages: readonly string[]): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const paragraph of shown.split('\n\n')) {
    const name = /^Package: (\S+)$/m.exec(paragraph)?.[1];
    const version = /^Version: (\S+)$/m.exec(paragraph)?.[1];
    if (name && version && packages.includes(name)) versions[name] = version;
  }
  return versions;
}

/**
 * Setup hook, in the background: the toolbox of every program the build runs natively, at the
 * versions apt is about to install, made while mmdebstrap downloads and unpacks (about 4 s that
 * were the extract hook's). The extract hook asks for the same versions and finds it.
 */
async function prepare(ctx: NativeContext & { source: ToolboxSource }, aptConfig: string): Promise<void> {
  await buildToolbox(ctx, candidates(aptConfig, [...packagesOf([...BOOTSTRAP_TOOLS, ...IMAGE_TOOLS])].filter(Boolean)));
}

/**
 * The build's one toolbox at these versions: with the kernel stage's programs too, so it serves
 * the whole build (about 4 s less), or the bootstrap's alone where the host has no such build of them.
 */
async function buildToolbox(ctx: NativeContext & { source: ToolboxSource }, versions: Record<string, string>): Promise<string | null> {
  return (await nativeToolbox(ctx, ctx.source, [...BOOTSTRAP_TOOLS, ...IMAGE_TOOLS], versions)) ?? (await nativeToolbox(ctx, ctx.source, BOOTSTRAP_TOOLS, versions));
}

/**
 * Waits for the background toolbox (if a setup hook started one) to end, and passes its log on.
 * The hook's shell writes the end file after it, whatever became of it. A shell killed before it
 * could is gone (no process with its pid in the build's PID namespace), or a zombie no one reaps
 * (a build's PID 1 reaps no orphans), which only the time limit ends.
 */
export async function prepared(scratch: string, log: (line: string) => void): Promise<void> {
  const files = preparedFiles(scratch);
  const pid = Number((await readFile(files.pid, 'utf8').catch(() => '')).trim());
  if (!pid) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const until = Date.now() + 600_000;
  while (!existsSync(files.done) && alive() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const line of (await readFile(files.log, 'utf8').catch(() => '')).split('\n')) if (line) log(line);
}

/** dpkg's setting, for the essential packages' install only, that leaves an installed version as it is. */
const SKIP_INSTALLED = '/etc/dpkg/dpkg.cfg.d/kiln-native';

/**
 * Extract hook: the essential packages are unpacked but not installed, their versions known from
 * mmdebstrap's list. The toolbox is mounted, its programs but the shell and perl linked first in
 * PATH, where dpkg installing the essential packages finds them too (dpkg replaces its own
 * dpkg-deb as it goes, not the link in the deferral folder), and perl bound (perlFirst).
 */
async function extract(ctx: NativeContext & { source: ToolboxSource; arch: string }, essential: string, aptConfig: string, undo: string[]): Promise<void> {
  await prepared(ctx.scratch, ctx.log);
  // The essential packages' versions from mmdebstrap's list, the kernel stage's the ones apt is about to install.
  const toolbox = await buildToolbox(ctx, { ...candidates(aptConfig, IMAGE_PACKAGES), ...essentialVersions(essential) });
  if (!toolbox) return;
  const mountPoint = join(ctx.root, NATIVE_IN_ROOT);
  await mkdir(mountPoint);
  undo.unshift(`rmdir "$1"${quote(NATIVE_IN_ROOT)}`);
  run('mount', ['--bind', toolbox, mountPoint]);
  undo.unshift(`umount "$1"${quote(NATIVE_IN_ROOT)}`);
  // Read-only: a clean-up of /run that missed the unmount cannot reach into the package cache's folder.
  run('mount', ['-o', 'remount,bind,ro', mountPoint]);
  const bin = join(ctx.root, DEFERRED_IN_ROOT, 'bin');
  // The essential packages' programs only: their versions are the ones being installed.
  const inPath = toolboxPrograms(toolbox).filter((name) => BOOTSTRAP_TOOLS.includes(name) && !(name in BY_PATH));
  if (existsSync(bin) && inPath.length) {
    for (const name of inPath) {
      await symlink(`${NATIVE_IN_ROOT}/kiln-bin/${name}`, join(bin, name));
      undo.unshift(`rm -f "$1"${quote(posix.join(DEFERRED_IN_ROOT, 'bin', name))}`);
    }
    ctx.log(`native programs: the host's ${inPath.join(', ')} first in dpkg's PATH`);
  }
  const perlBase = essential.split(' ').find((path) => debOfFileName(basename(path))?.name === 'perl-base');
  if (perlBase && toolboxPrograms(toolbox).includes('perl')) await perlFirst(ctx, perlBase, undo);
}

/**
 * perl-base, which has no maintainer scripts, is installed on its own, and dpkg is told to leave
 * an installed version as it is: the essential packages' install then never renames a new
 * /usr/bin/perl over the wrapper, which goes there at once, before their maintainer scripts run
 * debconf's frontend and deb-systemd-helper (29 of the 51 CPU-s of the arm64 essential install,
 * emulated). The dpkg database comes out the same.
 */
async function perlFirst(ctx: NativeContext & { arch: string }, deb: string, undo: string[]): Promise<void> {
  run('chroot', [ctx.root, 'dpkg', '--install', '--force-depends', deb]);
  // The folder's times go back to these when the setting is removed, so the tree is the same.
  const folder = await stat(join(ctx.root, dirname(SKIP_INSTALLED)));
  const times = JSON.stringify({ atime: folder.atimeMs / 1000, mtime: folder.mtimeMs / 1000 });
  await writeFile(join(ctx.root, SKIP_INSTALLED), `# kiln: removed again once the essential packages are installed (see kiln's native-hook.ts): ${times}\nskip-same-version\n`);
  // Also when a later step fails and the bootstrap goes on without native programs.
  undo.unshift(`if [ -e "$1"${quote(SKIP_INSTALLED)} ]; then rm "$1"${quote(SKIP_INSTALLED)}; touch -d @${folder.mtimeMs / 1000} "$1"${quote(dirname(SKIP_INSTALLED))}; fi`);
  const perl = await resolveInRoot(ctx.root, BY_PATH['perl'] ?? '');
  await writeFile(join(ctx.root, OWN_PERL), '');
  undo.unshift(`rm -f "$1"${quote(OWN_PERL)}`);
  run('mount', ['--bind', join(ctx.root, perl), join(ctx.root, OWN_PERL)]);
  undo.unshift(`umount "$1"${quote(OWN_PERL)}`);
  const wrapper = join(ctx.scratch, 'native-perl');
  await writeFile(wrapper, perlWrapper(tripletOf(ctx.arch), tripletOf(hostArch())), { mode: 0o755 });
  run('mount', ['--bind', wrapper, join(ctx.root, perl)]);
  undo.unshift(`umount "$1"${quote(perl)}`);
  ctx.log("native programs: the host's perl runs the maintainer scripts' Perl (perl-base installed first)");
}

/**
 * Essential hook: the essential packages are installed, and nothing in the rest of the bootstrap
 * replaces the shell (a bind mount would stop dpkg from renaming over it), so the native one goes
 * there. The toolbox is the one the extract hook mounted, if it did.
 */
async function essential(ctx: NativeContext, undo: string[]): Promise<void> {
  const setting = await readFile(join(ctx.root, SKIP_INSTALLED), 'utf8').catch(() => null);
  if (setting !== null) {
    const times = JSON.parse(/\{.*\}/.exec(setting)?.[0] ?? '{}') as { atime?: number; mtime?: number };
    await rm(join(ctx.root, SKIP_INSTALLED));
    if (times.atime && times.mtime) await utimes(join(ctx.root, dirname(SKIP_INSTALLED)), times.atime, times.mtime);
  }
  if (!existsSync(join(ctx.root, NATIVE_IN_ROOT, 'kiln-bin', 'dash'))) return;
  const dash = await resolveInRoot(ctx.root, BY_PATH['dash'] ?? '');
  if (!existsSync(join(ctx.root, dash))) return;
  run('mount', ['--bind', join(ctx.root, NATIVE_IN_ROOT, 'kiln-bin', 'dash'), join(ctx.root, dash)]);
  undo.unshift(`umount "$1"${quote(dash)}`);
  ctx.log("native programs: the host's dash runs the rest of the maintainer scripts");
}

async function main([mode, packageCache, scratch, release, mirror, components, arch, root]: string[]): Promise<void> {
  if ((mode !== 'prepare' && mode !== 'extract' && mode !== 'essential') || !packageCache || !scratch || !release || !mirror || !components || !arch || !root) {
    throw new Error('usage: native-hook prepare|extract|essential PACKAGE_CACHE SCRATCH RELEASE MIRROR COMPONENTS ARCH ROOT');
  }
  const essentialDebs = process.env['MMDEBSTRAP_ESSENTIAL'] ?? '';
  const aptConfig = process.env['MMDEBSTRAP_APT_CONFIG'] ?? '';
  // The toolbox's own mmdebstrap must not take this one's apt configuration for its own.
  for (const name of Object.keys(process.env)) if (name.startsWith('MMDEBSTRAP_') || name === 'APT_CONFIG') delete process.env[name];
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const exec = makeExec({ stage: 'bootstrap', signal: new AbortController().signal, onLine: log });
  const ctx = { root, exec, chroot: exec, packageCache, scratch, log, arch, source: { release, mirror, components: components.split(',') } };
  if (mode === 'prepare') {
    // Its failure is no failure: the extract hook makes the toolbox itself, or goes on without.
    await prepare(ctx, aptConfig).catch((err: Error) => log(`native programs: the toolbox made beforehand failed (${err.message.split('\n')[0]})`));
    return;
  }
  // The customize hook's script: the extract hook's mounts, then the essential hook's on top.
  const undoFile = undoScript(scratch);
  const earlier = (await readFile(undoFile, 'utf8').catch(() => '')).split('\n').filter((l) => l && l !== 'set -e');
  const undo: string[] = [];
  try {
    if (mode === 'extract') await extract(ctx, essentialDebs, aptConfig, undo);
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
