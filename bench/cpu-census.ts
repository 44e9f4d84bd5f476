/**
 * Where a command's CPU time goes, by program: BSD process accounting (the kernel writes one record
 * per process that ends, with its user and system time) is on while the command runs, and the
 * records are summed by program name and by kind of work. This is how to find what to cut when a
 * run is CPU-bound (the test suite on a 2-core host is: both cores about 88 % busy), since the
 * times the tests print are wall times, shared with whatever ran beside them.
 *   node dist/bench/cpu-census.js [--top N] -- COMMAND [ARGS...]
 * e.g. node dist/bench/cpu-census.js -- npm run test:e2e
 * Needs accton and dump-acct (Debian package acct) and root. Accounting is host-wide: every process
 * that ends while the command runs is counted, so run nothing else meanwhile. Processes still
 * running when the command ends (daemons it left) are not counted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPath } from '../src/host/tools.js';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const top = args[0] === '--top' ? Number(args[1]) : 30;
const command = dash < 0 ? [] : args.slice(dash + 1);
if (command.length === 0 || !Number.isInteger(top) || top < 1) {
  throw new Error('usage: cpu-census.js [--top N] -- COMMAND [ARGS...]');
}
for (const tool of ['accton', 'dump-acct']) {
  if (!onPath(tool)) throw new Error(`${tool} is not installed (Debian package acct): apt-get install acct`);
}

/** Kinds of work, by program name (the kernel keeps its first 15 characters). First match wins. */
const KINDS: [string, RegExp][] = [
  ['QEMU guests (boots)', /^qemu-system/],
  ['node (kiln, test runners, tsc, eslint)', /^node$/],
  ['packages (apt, dpkg, debconf, maintainer scripts)', /^(apt|dpkg|frontend|debconf|deb-systemd|dpkg-|mmdebstrap|gpgv|sqv|http|perl|update-|ldconfig|install-info)/],
  ['kernel and initramfs (depmod, dracut, mkinitramfs)', /^(depmod|dracut|mkinitramfs|cpio|kmod|modprobe|lsinitramfs|systemd-hwdb)/],
  ['file systems and images (mkfs, squashfs, compression, hashing)', /^(mkfs|mke2fs|mksquashfs|debugfs|e2fsck|fsck|dd|zstd|xz|gzip|qemu-img|sha256sum|tar|sfdisk|sgdisk|mcopy|mformat|ostree|xorriso|grub-|sbsign|bmaptool)/],
  ['native module builds (npm ci)', /^(cc1|cc1plus|as|ld|collect2|make)$/],
  ['shell and coreutils', /^(bash|sh|dash|sed|cp|rm|mkdir|ln|mv|cat|grep|awk|mawk|find|readlink|realpath|basename|dirname|chmod|touch|sort|head|tail|tr|cut|env|xargs|stat|mktemp)$/],
];

const dir = mkdtempSync(join(tmpdir(), 'kiln-cpu-census-'));
const file = join(dir, 'pacct');
try {
  writeFileSync(file, '');
  const on = spawnSync('accton', [file], { encoding: 'utf8' });
  if (on.status !== 0) throw new Error(`accton ${file} failed: ${on.stderr.trim()}`);
  // Ctrl-C reaches the command itself; this process then turns accounting off instead of dying with it on.
  process.on('SIGINT', () => {});
  const started = Date.now();
  let status: number | null;
  try {
    status = spawnSync(command[0] ?? '', command.slice(1), { stdio: 'inherit' }).status;
  } finally {
    spawnSync('accton', ['off']);
  }
  const wall = (Date.now() - started) / 1000;
  report(file, wall, status);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function report(pacct: string, wall: number, status: number | null): void {
  // dump-acct: command|version|utime|stime|etime|uid|gid|mem|io|pid|ppid|... with times in clock ticks (100 per second).
  const dump = spawnSync('dump-acct', [pacct], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout;
  const byProgram = new Map<string, { cpu: number; sys: number; count: number }>();
  for (const line of dump.split('\n')) {
    const fields = line.split('|').map((f) => f.trim());
    if (fields.length < 5 || !fields[0]) continue;
    const user = Number(fields[2]) / 100;
    const sys = Number(fields[3]) / 100;
    const entry = byProgram.get(fields[0]) ?? { cpu: 0, sys: 0, count: 0 };
    entry.cpu += user + sys;
    entry.sys += sys;
    entry.count += 1;
    byProgram.set(fields[0], entry);
  }
  const total = [...byProgram.values()].reduce((sum, e) => sum + e.cpu, 0);
  const minutes = (seconds: number) => (seconds / 60).toFixed(1).padStart(6);
  const share = (seconds: number) => `${((100 * seconds) / (total || 1)).toFixed(0).padStart(3)} %`;
  console.log(`\n${command.join(' ')}: exit ${status ?? 'by signal'}, ${minutes(wall)} min wall, ${minutes(total)} CPU-minutes in ${[...byProgram.values()].reduce((n, e) => n + e.count, 0)} processes`);
  const kinds = new Map<string, number>();
  for (const [program, e] of byProgram) {
    const kind = KINDS.find(([, pattern]) => pattern.test(program))?.[0] ?? 'other';
    kinds.set(kind, (kinds.get(kind) ?? 0) + e.cpu);
  }
  console.log('\nBy kind of work (CPU-minutes):');
  for (const [kind, cpu] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(`${minutes(cpu)} ${share(cpu)}  ${kind}`);
  console.log(`\nThe ${top} programs that used the most (CPU-minutes, of which system, processes):`);
  for (const [program, e] of [...byProgram].sort((a, b) => b[1].cpu - a[1].cpu).slice(0, top)) {
    console.log(`${minutes(e.cpu)} ${share(e.cpu)} ${minutes(e.sys)} ${String(e.count).padStart(7)}  ${program}`);
  }
}
