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

/**
 * Registrations qemu-user-static does not ship on an amd64 host, because the kernel normally runs
 * those programs itself: i386, for kernels with IA32 emulation switched off. Magic and mask are
 * qemu's own (scripts/qemu-binfmt-conf.sh); F opens the interpreter now, so chroots work.
 */
export const OWN_REGISTRATION: Record<string, string> = {
  i386: ':qemu-i386:M::\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x03\\x00:\\xff\\xff\\xff\\xff\\xff\\xfe\\xfe\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-i386-static:F',
};

/** The registration line for qemu-<name>: qemu-user-static's file in /usr/lib/binfmt.d, else kiln's own. */
function registration(name: string): string {
  const conf = `/usr/lib/binfmt.d/qemu-${name}.conf`;
  if (!existsSync(conf)) {
    const own = OWN_REGISTRATION[name];
    // The F flag opens the interpreter at once: say which package it is, not ENOENT.
    const interpreter = own?.split(':')[6];
    if (own && interpreter && existsSync(interpreter)) return own;
    throw new Error(`${interpreter ?? conf} is missing (the qemu-user-static package provides it)`);
  }
  const line = readFileSync(conf, 'utf8').split('\n').find((l) => l.startsWith(':'));
  if (!line) throw new Error(`${conf} has no registration line`);
  return line;
}

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
 * The doctor calls it only for an architecture that does not run already, so an amd64 kernel with
 * IA32 emulation keeps running i386 programs natively.
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
    writeFileSync(join(BINFMT, 'register'), registration(name));
    done.push(`registered qemu-${name} with binfmt_misc`);
  } else if (readFileSync(join(BINFMT, `qemu-${name}`), 'utf8').startsWith('disabled')) {
    writeFileSync(join(BINFMT, `qemu-${name}`), '1');
    done.push(`enabled qemu-${name} in binfmt_misc`);
  }
  return done;
}
