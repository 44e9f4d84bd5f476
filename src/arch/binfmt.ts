/**
 * Running foreign programs on this amd64 host: qemu-user-static through binfmt_misc. The F flag of
 * Debian's registrations opens the interpreter when it is registered, so it works inside the image
 * root's chroot too. `canRun` is the proof: it runs the architecture's probe program.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeElf, PROBE_EXIT } from './probe.js';
import { archInfo, type ArchName } from './table.js';

const BINFMT = '/proc/sys/fs/binfmt_misc';

/** Runs the probe program of `arch`: true when it ran and exited as it should. */
export function canRun(arch: ArchName): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-probe-'));
  try {
    const file = join(dir, `probe-${arch}`);
    writeFileSync(file, probeElf(arch));
    chmodSync(file, 0o755);
    return spawnSync(file, { timeout: 20000 }).status === PROBE_EXIT;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Mounts binfmt_misc if it is not, and registers qemu-user for `arch` from qemu-user-static's own
 * file in /usr/lib/binfmt.d (what systemd-binfmt would do at boot, on hosts without systemd too).
 * Returns what it did, for the doctor's report; throws with the reason when it cannot.
 */
export function enableBinfmt(arch: ArchName): string[] {
  const name = archInfo(arch).binfmt;
  if (!name) return [];
  const done: string[] = [];
  if (!existsSync(join(BINFMT, 'register'))) {
    const mounted = spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT], { encoding: 'utf8' });
    if (mounted.status !== 0) throw new Error(`mount -t binfmt_misc binfmt_misc ${BINFMT} failed: ${mounted.stderr.trim()}`);
    done.push(`mounted binfmt_misc on ${BINFMT}`);
  }
  if (!existsSync(join(BINFMT, `qemu-${name}`))) {
    const conf = `/usr/lib/binfmt.d/qemu-${name}.conf`;
    if (!existsSync(conf)) throw new Error(`${conf} is missing (the qemu-user-static package provides it)`);
    const line = readFileSync(conf, 'utf8').split('\n').find((l) => l.startsWith(':'));
    if (!line) throw new Error(`${conf} has no registration line`);
    writeFileSync(join(BINFMT, 'register'), line);
    done.push(`registered qemu-${name} with binfmt_misc`);
  } else if (readFileSync(join(BINFMT, `qemu-${name}`), 'utf8').startsWith('disabled')) {
    writeFileSync(join(BINFMT, `qemu-${name}`), '1');
    done.push(`enabled qemu-${name} in binfmt_misc`);
  }
  return done;
}
