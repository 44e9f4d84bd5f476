/**
 * Commands inside the image root. The API file systems are mounted in a private mount namespace
 * (unshare) that dies with the command, so no mount can outlive a build — not on failure, not on
 * Ctrl-C, not even when kiln itself is killed.
 */
import { quoteCommand, type Exec } from './exec.js';

/** Shell lines that mount the API file systems into the root "$1" (then shifted away). */
export const API_MOUNTS = [
  'set -e',
  'r="$1"; shift',
  'mount -t proc proc "$r/proc"',
  'mount --rbind /sys "$r/sys"; mount --make-rslave "$r/sys"',
  'mount --rbind /dev "$r/dev"; mount --make-rslave "$r/dev"',
  'mount -t tmpfs -o mode=0755 tmpfs "$r/run"',
];

/**
 * `mounts`: more shell lines after the API file systems (the root is "$r"), e.g. native programs
 * bound over the image's own (stages/native-tools.ts); `note` says so in the command's label.
 */
export function makeChroot(exec: Exec, root: string, more: { mounts?: readonly string[]; note?: string } = {}): Exec {
  const setup = [...API_MOUNTS, ...(more.mounts ?? []), 'exec chroot "$r" "$@"'].join('\n');
  const where = more.note ? `in the image root, ${more.note}` : 'in the image root';
  return (command, args, options) =>
    exec(
      'unshare',
      ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--', '/bin/sh', '-c', setup, 'kiln-chroot', root, command, ...args],
      { label: `${quoteCommand(command, args)} (${where})`, ...options, env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', ...options?.env } },
    );
}
