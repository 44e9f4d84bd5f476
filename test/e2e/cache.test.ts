/**
 * The stage store and the package cache, for real, on one small recipe with its own cache folder:
 * reuse, keys that follow content, resume after a failure, forced rebuilds, the package cache
 * (including a corrupted .deb), SIGKILL mid-stage, two builds at once, and pruning.
 * The tests run in order and build on each other's cache.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeExec } from '../../src/host/exec.js';
import { initrdFiles } from '../../src/stages/initrd-files.js';
import { Ext4, kiln, partitions, run, scratch, type Run, type SfdiskPartition } from './kiln.js';

const cache = scratch('store');
const env = { KILN_CACHE: cache };
const dir = scratch('store-recipe');
const file = join(dir, 'recipe.yaml');
const out = join(dir, 'out');

mkdirSync(join(dir, 'overlay/etc'), { recursive: true });
mkdirSync(join(dir, 'hooks'), { recursive: true });
writeFileSync(join(dir, 'overlay/etc/kiln-note'), 'first\n');
writeFileSync(join(dir, 'hooks/10-ok.sh'), '#!/bin/sh\necho ok > /etc/kiln-hook\n');
// The initramfs holds only what QEMU's virtio disk needs: Debian's default (every storage driver)
// costs about a minute per cold build here, and these tests are about the store, not the initramfs.
const RECIPE = (hook: string) => `name: cached
hostname: \${HOST:-cached}
root_password: root
kernel: { initramfs_modules: [virtio_pci, virtio_blk, ext4] }
files:
  - { src: overlay/, dst: / }
hooks:
  customize: [${hook}]
`;
writeFileSync(file, RECIPE('hooks/10-ok.sh'));

interface Record {
  stages: { name: string; id: string; cached: boolean; seconds: number }[];
  outputs: { file: string; sha256: string }[];
}

function record(folder = out): Record {
  return JSON.parse(readFileSync(join(folder, 'build.json'), 'utf8')) as Record;
}

/** Stage names that ran (not from the cache), in order. */
function ran(r: Record): string[] {
  return r.stages.filter((s) => !s.cached).map((s) => s.name);
}

function ok(result: Run): void {
  assert.equal(result.code, 0, result.stderr);
}

function entries(): string[] {
  const stages = join(cache, 'stages');
  return existsSync(stages) ? readdirSync(stages).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort() : [];
}

function packageLine(folder = out): string {
  return /packages: .*/.exec(readFileSync(join(folder, 'build.log'), 'utf8'))?.[0] ?? '';
}

/** No process of a build in this cache is left, so no mount namespace of one is left either. */
function assertNoProcesses(): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline: string;
    let environ: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue;
    }
    assert.ok(!cmdline.includes(cache) && !environ.includes(`KILN_CACHE=${cache}`), `process ${pid} of the build is left: ${cmdline}`);
  }
  assert.ok(!readFileSync('/proc/mounts', 'utf8').includes(cache), 'no mount is left');
}

let first: Record;

void test('a cold build stores every stage and downloads every package', async () => {
  ok(await kiln(['build', file, '-o', out], env));
  first = record();
  assert.deepEqual(ran(first), first.stages.map((s) => s.name));
  // Each image stage works on a copy of the image before it, which is then dropped: the store
  // keeps one entry per tree stage and one image, the last image stage's (partition-table's goes).
  const kinds = entries().map((n) => (JSON.parse(readFileSync(join(cache, 'stages', n, 'meta.json'), 'utf8')) as { stage: string; kind: string }));
  assert.deepEqual(kinds.filter((e) => e.kind === 'image').map((e) => e.stage), ['filesystems']);
  assert.equal(kinds.length, first.stages.length - 1, 'one store entry per stage but the replaced image');
  const trash = join(cache, 'stages', '.trash');
  assert.deepEqual(existsSync(trash) ? readdirSync(trash) : [], [], 'the replaced image is deleted when the build ends');
  assert.match(packageLine(), /packages: (\d+) \.debs, 0 from the package cache, \1 downloaded/);
});

void test('an unchanged recipe: every stage from the store, the same image', async () => {
  ok(await kiln(['build', file, '-o', out], env));
  const again = record();
  assert.deepEqual(ran(again), []);
  assert.match(readFileSync(join(out, 'build.log'), 'utf8'), /\[partition-table\] cached: within the stored result of filesystems/);
  assert.deepEqual(again.stages.map((s) => s.id), first.stages.map((s) => s.id));
  assert.equal(again.outputs[0]?.sha256, first.outputs[0]?.sha256);
});

void test('one changed byte in an overlay file reruns exactly the stages from files on', async () => {
  writeFileSync(join(dir, 'overlay/etc/kiln-note'), 'firsT\n');
  ok(await kiln(['build', file, '-o', out], env));
  const r = record();
  const from = r.stages.findIndex((s) => s.name === 'files');
  assert.deepEqual(ran(r), r.stages.slice(from).map((s) => s.name));
  const image = join(out, 'cached.raw');
  const root = partitions(image).find((p) => p.name === 'root');
  assert.ok(root);
  assert.equal(new Ext4(image, root).cat('/etc/kiln-note'), 'firsT\n');
  assert.equal(new Ext4(image, root).cat('/etc/kiln-hook'), 'ok\n');
  assert.match(readFileSync(join(out, 'build.log'), 'utf8'), /\[initramfs\] the initramfs the kernel stage made is current/);
});

/** The files in the initramfs of an image's root file system, listed as kiln lists them. */
async function initramfsFiles(image: string, part: SfdiskPartition): Promise<Set<string>> {
  const root = new Ext4(image, part);
  const version = /initrd\.img-([^/\s]+)/.exec(run('debugfs', ['-R', 'ls -p /boot', root.spec]))?.[1];
  assert.ok(version);
  const initrd = join(dir, 'initrd.img');
  run('debugfs', ['-R', `dump /boot/initrd.img-${version} ${initrd}`, root.spec]);
  // Its already-compressed modules first, in an archive of their own; then the rest, in zstd.
  const files = await initrdFiles(makeExec({ stage: 'test', signal: new AbortController().signal, onLine: () => undefined }), initrd, dir);
  if (typeof files === 'string') assert.fail(`the initramfs cannot be listed: ${files}`);
  return files;
}

void test('a package added reruns the stages from its set on and keeps the initramfs; a modprobe setting or a package with an initramfs hook makes it again, with them in it', async () => {
  writeFileSync(file, RECIPE('hooks/10-ok.sh').replace('files:', 'packages: [hello]\nfiles:'));
  ok(await kiln(['build', file, '-o', out], env));
  const r = record();
  const from = r.stages.findIndex((s) => s.name === 'packages');
  assert.deepEqual(ran(r), r.stages.slice(from).map((s) => s.name));
  assert.equal(r.stages[from - 1]?.name, 'kernel');
  const log = readFileSync(join(out, 'build.log'), 'utf8');
  assert.match(log, /\[initramfs\] the initramfs the kernel stage made is current/);
  assert.doesNotMatch(log, /update-initramfs: Generating/);
  const image = join(out, 'cached.raw');
  const part = partitions(image).find((p) => p.name === 'root');
  assert.ok(part);
  assert.ok(new Ext4(image, part).exists('/usr/bin/hello'));

  // The initramfs's kmod hook copies /etc/modprobe.d: a file there makes it again, once.
  mkdirSync(join(dir, 'overlay/etc/modprobe.d'), { recursive: true });
  writeFileSync(join(dir, 'overlay/etc/modprobe.d/kiln-test.conf'), 'options loop max_loop=4\n');
  try {
    ok(await kiln(['build', file, '-o', out], env));
    const again = readFileSync(join(out, 'build.log'), 'utf8');
    assert.match(again, /\[initramfs\] the initramfs: remade once, because stage files changed \/etc\/modprobe\.d/);
    assert.equal(again.match(/update-initramfs: Generating/g)?.length, 1);
    assert.ok((await initramfsFiles(image, part)).has('etc/modprobe.d/kiln-test.conf'));

    // A package with an initramfs hook (busybox's, which puts busybox in the initramfs) makes it again too.
    writeFileSync(file, RECIPE('hooks/10-ok.sh').replace('files:', 'packages: [hello, busybox]\nfiles:'));
    ok(await kiln(['build', file, '-o', out], env));
    const third = readFileSync(join(out, 'build.log'), 'utf8');
    assert.match(third, /\[initramfs\] the initramfs: remade once, because (a package set asked for it|stage packages changed \/usr\/share\/initramfs-tools\/)/);
    assert.ok((await initramfsFiles(image, part)).has('usr/bin/busybox'));
  } finally {
    rmSync(join(dir, 'overlay/etc/modprobe.d'), { recursive: true, force: true });
    writeFileSync(file, RECIPE('hooks/10-ok.sh'));
  }
});

void test('a failed build keeps the stages before the failure; the fixed build starts at the failed stage', async () => {
  writeFileSync(join(dir, 'hooks/20-fix-me.sh'), '#!/bin/sh\nexit 4\n');
  writeFileSync(file, RECIPE('hooks/10-ok.sh, hooks/20-fix-me.sh'));
  const failed = await kiln(['build', file, '-o', out], env);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /stage customize-hooks failed/);
  writeFileSync(join(dir, 'hooks/20-fix-me.sh'), '#!/bin/sh\nexit 0\n');
  ok(await kiln(['build', file, '-o', out], env));
  const r = record();
  const from = r.stages.findIndex((s) => s.name === 'customize-hooks');
  assert.deepEqual(ran(r), r.stages.slice(from).map((s) => s.name));
});

void test('--rebuild-from runs that stage and every later one; an unknown stage is exit 2', async () => {
  ok(await kiln(['build', file, '-o', out, '--rebuild-from', 'kernel'], env));
  const r = record();
  const from = r.stages.findIndex((s) => s.name === 'kernel');
  assert.deepEqual(ran(r), r.stages.slice(from).map((s) => s.name));
  const bad = await kiln(['build', file, '-o', out, '--rebuild-from', 'kernal'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--rebuild-from kernal: this recipe has no such stage; its stages are: bootstrap, fstab, kernel, packages, system/);
});

void test('--no-cache: a cold stage store with a warm package cache downloads nothing; a corrupted .deb is fetched again', async () => {
  const debs = readdirSync(join(cache, 'packages')).filter((n) => n.startsWith('zstd_'));
  const zstd = join(cache, 'packages', debs[0] ?? 'missing');
  const size = readFileSync(zstd).length;
  // Same name, same size, wrong content: only the checksum from the signed index can tell.
  writeFileSync(zstd, Buffer.alloc(size, 0x5a));
  ok(await kiln(['build', file, '-o', out, '--no-cache'], env));
  assert.deepEqual(ran(record()), record().stages.map((s) => s.name));
  assert.match(packageLine(), /packages: (\d+) \.debs, (\d+) from the package cache, 1 downloaded/);
  // The package lists kept from the earlier builds: apt fetches InRelease at most (the mirror may
  // not answer If-Modified-Since), finds the kept index matches it, and fetches no Packages file.
  const log = readFileSync(join(out, 'build.log'), 'utf8');
  assert.match(log, /\[packages\] (Hit|Get):\d+ .* InRelease/);
  assert.doesNotMatch(log, /\[packages\] Get:\d+ .* Packages/);
  assert.notEqual(readFileSync(zstd).subarray(0, 8).toString('latin1'), 'ZZZZZZZZ', 'the cache holds the good file again');
  assert.match(readFileSync(zstd).subarray(0, 8).toString('latin1'), /^!<arch>/);
});

void test('SIGKILL mid-bootstrap: no process, no mount, no trusted entry; the next build succeeds', async () => {
  const before = entries();
  let pid = 0;
  const running = kiln(['build', file, '-o', out, '--no-cache'], env, (p) => (pid = p));
  await new Promise((r) => setTimeout(r, 15000));
  process.kill(pid, 'SIGKILL');
  await running;
  await new Promise((r) => setTimeout(r, 1000));
  assertNoProcesses();
  assert.deepEqual(entries(), before, 'the store holds exactly what it held before');
  const r = await kiln(['build', file, '-o', out], env);
  ok(r);
  assert.deepEqual(ran(record()), []);
  assert.deepEqual(readdirSync(join(cache, 'builds')), [], 'the killed build\'s workspace is gone');
});

void test('two builds of a new variant at once: each stage is made once, both images are the same', async () => {
  const outs = [join(dir, 'out-a'), join(dir, 'out-b')];
  const results = await Promise.all(outs.map((o) => kiln(['build', file, '-o', o, '--set', 'HOST=twin'], env)));
  results.forEach(ok);
  const [a, b] = outs.map((o) => record(o)) as [Record, Record];
  for (const [i, stage] of a.stages.entries()) {
    assert.ok(stage.cached || b.stages[i]?.cached, `stage ${stage.name} was made by both builds`);
  }
  assert.ok(ran(a).length + ran(b).length > 0);
  assert.equal(a.outputs[0]?.sha256, b.outputs[0]?.sha256);
  assertNoProcesses();
});

void test('kiln cache list and prune', async () => {
  const list = await kiln(['cache', 'list'], env);
  ok(list);
  assert.match(list.stdout, /bootstrap +\d+(\.\d+)? MiB .* cached \(.*recipe\.yaml\)/);
  assert.match(list.stdout, /packages: \d+ \.debs/);
  const bad = await kiln(['cache', 'prune', '--older-than', 'fortnight'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--older-than fortnight: expected a duration such as 30m, 12h, 14d or 2w/);
  const count = entries().length;
  ok(await kiln(['cache', 'prune', '--max-size', '1T'], env));
  assert.equal(entries().length, count, 'nothing goes while everything fits');
  const pruned = await kiln(['cache', 'prune', '--max-size', '0'], env);
  ok(pruned);
  assert.match(pruned.stdout, /removed \d+ stage entries and \d+ packages/);
  assert.deepEqual(entries(), []);
  assert.deepEqual(readdirSync(join(cache, 'packages')), []);
  assert.deepEqual(readdirSync(join(cache, 'apt-lists')), []);
  assert.match(pruned.stdout, /\d+ sets of package lists/);
});
