/**
 * Starts systemd-nspawn on a stored image root, for `kiln shell` and `kiln run`.
 *
 * The root is the store's layers stacked with overlayfs, mounted by a small shell script inside
 * `unshare --mount --pid --fork --kill-child`, which then execs nspawn: the mount lives only in
 * that private namespace and every process (nspawn, the container and its init) lives in that pid
 * namespace, so when nspawn ends, or kiln is killed, nothing is left mounted or running. The
 * cached layers are only ever lower (read-only) layers; `--writable` adds an upper layer in a
 * temporary folder that is removed afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { canRun } from '../arch/binfmt.js';
import { ARCH_NAMES, type ArchName } from '../arch/table.js';
import { BuildError, UserError } from '../errors.js';
import { disklessFstab } from '../disk/diskless-fstab.js';
import { nspawnArgs, type Bind, type NspawnSpec } from '../host/nspawn.js';
import { onPath } from '../host/tools.js';
import { folderOf, removeTree, type Store } from '../store/store.js';
import type { StoredTree } from './stored-tree.js';

/**
 * nspawn keeps a folder per machine under /run/systemd/nspawn and, on a host whose /run is not a
 * tmpfs (no systemd as PID 1), refuses to remove it at exit with a warning: a tmpfs of the private
 * mount namespace takes it instead, and vanishes with it.
 */
const MOUNT = [
  'set -e',
  'cd "$1"',
  'mount -t overlay overlay -o "$2" "$3"',
  // Mount points for --bind, made in the throwaway layer: nspawn makes the root read-only first.
  'printf "%s" "$KILN_BIND_DIRS" | while IFS= read -r d; do [ -z "$d" ] || mkdir -p "$3$d"; done',
  'printf "%s" "$KILN_BIND_FILES" | while IFS= read -r f; do [ -z "$f" ] || { mkdir -p "$3${f%/*}"; [ -e "$3$f" ] || : > "$3$f"; }; done',
  'mkdir -p /run/systemd/nspawn',
  'mount -t tmpfs -o mode=0755 tmpfs /run/systemd/nspawn',
  'shift 3',
  'exec systemd-nspawn "$@"',
].join('\n');
/** As in src/host/overlay.ts: every layer stays a plain tree, whatever is mounted over it. */
const OVERLAY_OPTIONS = 'index=off,redirect_dir=off,metacopy=off';

const PREFIX = 'kiln-container-';

/**
 * Temporary folders of kilns that were killed (SIGKILL leaves no time to remove them; their mounts
 * and processes are gone with the namespaces): the folder name holds the owner's pid.
 */
function sweepAbandoned(): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(PREFIX))) {
    const pid = Number(/^kiln-container-(\d+)-/.exec(name)?.[1]);
    if (pid && !alive(pid)) removeTree(join(tmpdir(), name));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What must hold before any container starts: root, nspawn, the architecture, the bind sources. */
export function checkContainerHost(arch: string, binds: readonly Bind[]): Bind[] {
  if (process.getuid?.() !== 0) throw new UserError('kiln shell and kiln run must run as root (they mount the stored image root and start systemd-nspawn); try: sudo kiln ...');
  if (!onPath('systemd-nspawn')) throw new UserError('systemd-nspawn is not installed (Debian package systemd-container); install it with: apt-get install systemd-container, or kiln doctor --install');
  if ((ARCH_NAMES as readonly string[]).includes(arch) && !canRun(arch as ArchName)) {
    throw new UserError(`this machine cannot run ${arch} programs, which a shell in an ${arch} image needs (qemu-user-static through binfmt_misc); fix it with: kiln doctor --install`);
  }
  return binds.map((b) => {
    const host = resolve(b.host);
    if (!existsSync(host)) throw new UserError(`--bind ${b.host}:${b.image}: ${host} does not exist on this machine (create it, or fix the path)`);
    return { host, image: b.image };
  });
}

export interface ContainerRun {
  child: ChildProcess;
  /** Removes the temporary folder (mount point, --writable's upper layer); call after `child` exits. */
  cleanup: () => void;
}

/**
 * Starts nspawn on the tree: `writable` stacks a throwaway upper layer on the stored ones. `stdio`
 * is the child's; the caller waits for it, then calls `cleanup`.
 */
export function startContainer(store: Store, tree: StoredTree, spec: Omit<NspawnSpec, 'directory'>, writable: boolean, stdio: 'inherit' | 'pipe'): ContainerRun {
  sweepAbandoned();
  const temp = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  const root = join(temp, 'root');
  // An empty folder is always the lowest layer, so a tree of one stage is an overlay like any other.
  const empty = join(temp, 'empty');
  for (const dir of [root, empty]) mkdirSync(dir);
  // Always a throwaway upper layer: nspawn makes mount points (--bind) in the root before it makes
  // the root read-only; the stored layers stay lower layers, which overlayfs never writes.
  for (const dir of ['upper', 'work']) mkdirSync(join(temp, dir));
  const lowers = [...tree.layers].reverse().map((id) => `${folderOf(id)}/tree`);
  const options = `lowerdir=${[...lowers, empty].join(':')},upperdir=${join(temp, 'upper')},workdir=${join(temp, 'work')},${OVERLAY_OPTIONS}`;
  const binds = [...(spec.binds ?? []), ...(spec.boot ? containerFstab(store, tree, temp) : [])];
  const args = nspawnArgs({ ...spec, binds, directory: root, readOnly: !writable && !spec.volatile });
  // setpriv --pdeathsig: if kiln dies, even by SIGKILL, unshare is killed, and with it (--kill-child,
  // the pid namespace) nspawn and the whole container.
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--mount-proc', '--kill-child', '--', '/bin/sh', '-c', MOUNT, 'kiln-container', store.stages, options, root, ...args], {
    stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, KILN_BIND_DIRS: mountPoints(binds, true), KILN_BIND_FILES: mountPoints(binds, false) },
  });
  return { child, cleanup: () => removeTree(temp) };
}

/**
 * The image's fstab for a booted container, without the disk's own file systems: their partitions
 * (UUID=, PARTLABEL=, /dev/...) do not exist in a container, and systemd would fail to remount the
 * root by them. tmpfs, bind and network entries stay. A bind of the filtered copy, or none.
 */
function containerFstab(store: Store, tree: StoredTree, temp: string): Bind[] {
  const top = [...tree.layers].reverse().map((id) => join(store.treeOf(id), 'etc/fstab')).find((f) => existsSync(f));
  if (!top) return [];
  const copy = join(temp, 'fstab');
  writeFileSync(copy, disklessFstab(readFileSync(top, 'utf8'), "kiln run: the disk's file systems are left out (a container has no disk)"));
  return [{ host: copy, image: '/etc/fstab' }];
}

/** The image paths of binds whose host side is (or is not) a folder, one a line. */
function mountPoints(binds: readonly Bind[] | undefined, folders: boolean): string {
  return (binds ?? []).filter((b) => statSync(b.host).isDirectory() === folders).map((b) => `${b.image}\n`).join('');
}

/** Ends the container at once (SIGKILL to unshare ends its pid namespace); resolves when it is gone. */
export async function stopContainer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await gone;
}

/** Resolves with the exit status of the child (a signal counts as 128 + its number, as in a shell). */
export function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((done, fail) => {
    child.on('error', (err) => fail(new BuildError(`cannot start the container: ${err.message}`)));
    child.on('exit', (code, signal) => done(code ?? 128 + signalNumber(signal)));
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return (signal && numbers[signal]) ?? 1;
}
