/**
 * The bootstrap's native programs for a foreign root, set up by an mmdebstrap essential hook. Once
 * the essential packages are in, their versions are known and stay fixed for the rest of the
 * bootstrap (one apt run, one set of lists), so the host architecture's build of two of them can
 * stand in (native-tools.ts has the toolbox):
 *
 * - dpkg-deb, which dpkg runs by name for every .deb to decompress and read it: the toolbox's is
 *   put first in dpkg's PATH (the deferral folder, /run/kiln-deferred/bin).
 * - perl, which maintainer scripts run by its path (debconf's frontend, deb-systemd-helper,
 *   update-rc.d, adduser): a wrapper is bound over the root's /usr/bin/perl, running the toolbox's
 *   perl with the toolbox's perl-base modules. As soon as the root has compiled Perl modules of its
 *   own architecture (libperl, or any XS module package), which a native perl cannot load, the
 *   wrapper runs the image's own perl again, as before.
 *
 * Under qemu-user these were about half the CPU of an arm64 bootstrap (process accounting: dpkg-deb
 * 38 CPU-s in 926 runs, debconf's frontend 37 in 10, deb-systemd-helper 22 in 12). The mounts live
 * in mmdebstrap's private mount namespace; a customize hook takes them away again before mmdebstrap
 * cleans the root (and the toolbox is bound read-only, so no clean-up can reach into it).
 *   node native-hook.js PACKAGE_CACHE SCRATCH RELEASE MIRROR COMPONENTS ARCH ROOT
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeExec } from '../host/exec.js';
import { quote } from '../host/shell.js';
import { DEFERRED_IN_ROOT, NATIVE_IN_ROOT, nativeToolbox, resolveInRoot, toolboxPrograms, tripletOf } from './native-tools.js';

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

async function main([packageCache, scratch, release, mirror, components, arch, root]: string[]): Promise<void> {
  if (!packageCache || !scratch || !release || !mirror || !components || !arch || !root) throw new Error('usage: native-hook PACKAGE_CACHE SCRATCH RELEASE MIRROR COMPONENTS ARCH ROOT');
  // The toolbox's own mmdebstrap must not take this one's apt configuration for its own.
  for (const name of Object.keys(process.env)) if (name.startsWith('MMDEBSTRAP_') || name === 'APT_CONFIG') delete process.env[name];
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const exec = makeExec({ stage: 'bootstrap', signal: new AbortController().signal, onLine: log });
  const ctx = { root, exec, chroot: exec, packageCache, scratch, log };
  const toolbox = await nativeToolbox(ctx, { release, mirror, components: components.split(',') }, BOOTSTRAP_TOOLS);
  if (!toolbox) return;
  const programs = toolboxPrograms(toolbox);
  const undo: string[] = [];
  // Run by the customize hook, where a mount that will not go away must stop the build.
  const writeUndo = (strict: boolean) => writeFile(undoScript(scratch), [...(strict ? ['set -e'] : []), ...undo, ''].join('\n'));
  try {
    const mountPoint = join(root, NATIVE_IN_ROOT);
    await mkdir(mountPoint);
    undo.unshift(`rmdir "$1"${quote(NATIVE_IN_ROOT)}`);
    run('mount', ['--bind', toolbox, mountPoint]);
    undo.unshift(`umount "$1"${quote(NATIVE_IN_ROOT)}`);
    run('mount', ['-o', 'remount,bind,ro', mountPoint]);
    const used: string[] = [];
    if (programs.includes('dpkg-deb') && existsSync(join(root, DEFERRED_IN_ROOT, 'bin'))) {
      const target = join(root, DEFERRED_IN_ROOT, 'bin', 'dpkg-deb');
      await copyFile(join(toolbox, 'kiln-bin', 'dpkg-deb'), target);
      await chmod(target, 0o755);
      used.push('dpkg-deb');
    }
    if (programs.includes('perl')) {
      const perl = await resolveInRoot(root, '/usr/bin/perl');
      const wrapper = join(scratch, 'native-perl');
      await writeFile(wrapper, perlWrapper(await readFile(join(toolbox, 'kiln-bin', 'perl'), 'utf8'), tripletOf(arch)), { mode: 0o755 });
      await writeFile(join(root, OWN_PERL), '');
      undo.unshift(`rm -f "$1"${quote(OWN_PERL)}`);
      run('mount', ['--bind', join(root, perl), join(root, OWN_PERL)]);
      undo.unshift(`umount "$1"${quote(OWN_PERL)}`);
      run('mount', ['--bind', wrapper, join(root, perl)]);
      undo.unshift(`umount "$1"${quote(perl)}`);
      used.push('perl');
    }
    await writeUndo(true);
    log(`native programs: ${used.join(' and ')} of the host for the rest of the bootstrap`);
  } catch (err) {
    // Whatever was set up is taken down again; the bootstrap goes on with the image's own programs.
    await writeUndo(false);
    run('sh', [undoScript(scratch), root]);
    await writeFile(undoScript(scratch), '');
    log(`native programs: none for the bootstrap (${(err as Error).message.split('\n')[0]}); the image's own run under emulation`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv.slice(2));
