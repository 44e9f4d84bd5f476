/**
 * How should a Debian root tree be kept between build stages? Compares four ways of storing a
 * snapshot of it: a tar.zst archive, a full copy, a hard-link farm and overlayfs layers. For each,
 * the medians of: snapshot (keep the tree a stage left), restore (a writable root for the next stage
 * from the newest snapshot), change (write a 4 KiB file, append to /etc/issue, snapshot again), the
 * disk the first snapshot takes and what the second one adds, and whether appending to /etc/passwd in
 * a restored root altered a stored snapshot (checked by reading the snapshot back, not assumed).
 *   node dist/bench/snapshot.js [runs=3] [tree]
 * Without a tree it bootstraps one with mmdebstrap. Needs root. Scratch space lives next to
 * $KILN_CACHE (default ~/.cache/kiln) so that hard links, renames and overlay layers stay on the
 * filesystem kiln really uses, and it is removed at the end, also on failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { median } from './median.js';

const runs = Number(process.argv[2] ?? 3);
const given = process.argv[3];
const cache = process.env.KILN_CACHE ?? join(homedir(), '.cache/kiln');

function run(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Buffer {
  const result = spawnSync(command, args, { ...options, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 2 ** 26 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.toString().slice(-2000)}`);
  return result.stdout;
}

function timed(step: () => void): number {
  run('sync', []); // so writeback left over from setup is not billed to the step being timed
  const t = process.hrtime.bigint();
  step();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** du -sB1 of each path in one call: a hard-linked file counts once, under the first path holding it. */
const du = (...paths: string[]) => run('du', ['-sB1', ...paths]).toString().trim().split('\n').map((line) => Number(line.split('\t')[0]));

interface Strategy {
  name: string;
  /** Where a stage's writable tree lives inside its stage dir before the first snapshot. */
  seed(stage: string): string;
  /** Keep what the stage left in `stage` as snapshot `snap`; the stage dir is dropped afterwards. */
  snapshot(stage: string, snap: string): void;
  /** Make `stage` a writable root holding the state of `snaps` (newest first). */
  restore(snaps: string[], stage: string): void;
  /** Run a shell script with the working directory at the root of a restored `stage`. */
  exec(snaps: string[], stage: string, script: string): void;
  /** One file as the snapshot chain `snaps` stores it. */
  read(snaps: string[], file: string): Buffer;
}

const shell = (_snaps: string[], stage: string, script: string) => void run('sh', ['-ec', script], { cwd: stage });
const plain = (snaps: string[], file: string) => readFileSync(join(snaps[0] ?? '', file));

// The overlay mount only exists inside a private mount namespace that ends with the shell, so no
// mount can outlive the benchmark; mount and umount are part of every timing that writes.
const overlay = (snaps: string[], stage: string, script: string) => {
  const options = `lowerdir=${snaps.join(':')},upperdir=${stage}/upper,workdir=${stage}/work,index=off,redirect_dir=off,metacopy=off`;
  const steps = 'mount -t overlay overlay -o "$1" "$2"; cd "$2"; sh -ec "$3"; cd /; umount "$2"';
  run('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', steps, 'sh', options, `${stage}/merged`, script]);
};

const tarFlags = ['--numeric-owner', '--xattrs', '--acls', '--use-compress-program=zstd -T0 -3'];
const strategies: Strategy[] = [
  {
    name: 'tar | zstd -3',
    seed: (stage) => stage,
    snapshot: (stage, snap) => void run('tar', [...tarFlags, '-C', stage, '-cf', snap, '.']),
    // --xattrs-include: without it GNU tar restores only user.* xattrs and would drop file capabilities.
    restore: (snaps, stage) => {
      mkdirSync(stage);
      run('tar', [...tarFlags, '--xattrs-include=*', '-C', stage, '-xf', snaps[0] ?? '']);
    },
    exec: shell,
    read: (snaps, file) => run('tar', [...tarFlags, '-xOf', snaps[0] ?? '', `./${file}`]),
  },
  {
    name: 'cp -a (full copy)',
    seed: (stage) => stage,
    snapshot: (stage, snap) => void run('cp', ['-a', '--sparse=always', stage, snap]),
    restore: (snaps, stage) => void run('cp', ['-a', '--sparse=always', snaps[0] ?? '', stage]),
    exec: shell,
    read: plain,
  },
  {
    name: 'cp -al (hard links)',
    seed: (stage) => stage,
    snapshot: (stage, snap) => void run('cp', ['-al', stage, snap]),
    restore: (snaps, stage) => void run('cp', ['-al', snaps[0] ?? '', stage]),
    exec: shell,
    read: plain,
  },
  {
    name: 'overlayfs layers',
    seed: (stage) => {
      mkdirSync(stage);
      return join(stage, 'upper');
    },
    // The stage wrote into its upper dir, which already is the delta: keeping it is a rename.
    snapshot: (stage, snap) => renameSync(join(stage, 'upper'), snap),
    restore: (snaps, stage) => {
      for (const dir of ['upper', 'work', 'merged']) mkdirSync(join(stage, dir), { recursive: true });
      overlay(snaps, stage, 'true');
    },
    exec: overlay,
    // The newest layer holding the file wins (no whiteouts or redirects happen in this benchmark).
    read: (snaps, file) => readFileSync(snaps.map((snap) => join(snap, file)).find((path) => existsSync(path)) ?? ''),
  },
];

const change = "head -c 4096 /dev/urandom > etc/kiln-bench.bin; echo '# kiln bench' >> etc/issue";
const write = "echo 'kiln-bench:x:999:999::/nonexistent:/usr/sbin/nologin' >> etc/passwd";

interface Sample { snapshot: number; restore: number; change: number; first: number; added: number; safe: boolean }

function measure(s: Strategy, tree: string, dir: string): Sample {
  const [s1, s2] = [join(dir, 'snap1'), join(dir, 'snap2')];
  const stage = (n: number) => join(dir, `stage${n}`);
  run('cp', ['-a', tree, s.seed(stage(1))]); // every strategy starts from its own copy: hard links would write through
  const snapshot = timed(() => s.snapshot(stage(1), s1));
  rmSync(stage(1), { recursive: true, force: true });
  s.restore([s1], stage(2));
  const changed = timed(() => {
    s.exec([s1], stage(2), change);
    s.snapshot(stage(2), s2);
  });
  rmSync(stage(2), { recursive: true, force: true });
  if (s.read([s2, s1], 'etc/kiln-bench.bin').length !== 4096) throw new Error(`${s.name}: the change is missing from snapshot 2`);
  const [first = NaN, added = NaN] = [du(s1)[0], du(s1, s2)[1]]; // added: what snap2 holds beyond snap1
  // Restore the newest snapshot (for overlayfs the two-layer stack) and write into it in place.
  const restore = timed(() => s.restore([s2, s1], stage(3)));
  const before = [s.read([s1], 'etc/passwd'), s.read([s2, s1], 'etc/passwd')];
  s.exec([s2, s1], stage(3), write);
  const safe = s.read([s1], 'etc/passwd').equals(before[0] ?? Buffer.alloc(0)) && s.read([s2, s1], 'etc/passwd').equals(before[1] ?? Buffer.alloc(0));
  return { snapshot, restore, change: changed, first, added, safe };
}

const mib = (n: number) => (n / 2 ** 20).toFixed(2);

mkdirSync(cache, { recursive: true });
const scratch = mkdtempSync(join(cache, 'bench-snapshot-'));
// Ctrl-C reaches the running child too, which fails, and the finally below cleans up; without a
// listener Node itself would die on the spot and leave the scratch dir behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void (process.exitCode = 130));
try {
  let tree = given;
  if (!tree) {
    tree = join(scratch, 'tree');
    process.stderr.write(`bootstrapping ${tree} ...\n`);
    // mmdebstrap mounts /proc, /sys and /dev in the chroot; the private namespace takes them down with it.
    const packages = 'linux-image-amd64,openssh-server,sudo,systemd-boot-efi,systemd-sysv,udev,zstd';
    run('unshare', ['--mount', '--propagation', 'private', 'mmdebstrap', '--mode=root', '--variant=minbase', `--include=${packages}`, 'bookworm', tree, 'http://deb.debian.org/debian'], { env: { INITRD: 'No' } });
  }
  const files = run('find', [tree, '-xdev', '-type', 'f', '-printf', '.']).length;
  const size = du(tree)[0] ?? NaN;

  const samples = new Map<Strategy, Sample[]>(strategies.map((s) => [s, []]));
  for (let i = 0; i < runs; i++) {
    for (const s of strategies) {
      const dir = join(scratch, `run${i}-${strategies.indexOf(s)}`);
      mkdirSync(dir);
      try {
        samples.get(s)?.push(measure(s, tree, dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    process.stderr.write(`run ${i + 1}/${runs} done\n`);
  }

  console.log(`tree  ${given ?? 'bookworm minbase + kernel, ssh, sudo, systemd-boot-efi, udev, zstd'}: ${files} files, ${mib(size)} MiB (du)`);
  console.log(`runs  ${runs}, medians; seconds, MiB`);
  const row = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(20) : c.padStart(i === 6 ? 14 : 10))).join(' '));
  row(['strategy', 'snapshot', 'restore', 'change', 'snap MiB', '+2nd MiB', 'in-place safe']);
  for (const [s, xs] of samples) {
    const m = (key: 'snapshot' | 'restore' | 'change') => median(xs.map((x) => x[key])).toFixed(2);
    row([s.name, m('snapshot'), m('restore'), m('change'), mib(median(xs.map((x) => x.first))), mib(median(xs.map((x) => x.added))), xs.every((x) => x.safe) ? 'yes' : 'NO']);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
