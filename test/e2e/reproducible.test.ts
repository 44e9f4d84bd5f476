/**
 * Reproducible images: a build and a rebuild from its kiln.lock, both with the cache off, give
 * byte-identical raw, qcow2 and tar outputs; `kiln diff` says so, and names the package and file
 * that set a third build apart.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ext4, kiln, partitions, readJson, REPO, run, scratch, sharedCache } from './kiln.js';

const FIXTURE = join(REPO, 'test/e2e/fixtures/reproducible');
// The suite's shared cache: a rebuild from the lock installs exactly the locked packages however
// many other .debs the package cache holds.
const cache = sharedCache('repro');

interface Lock {
  sourceDateEpoch: number;
  packages: { name: string; auto?: true }[];
}

interface DiffJson {
  identical: boolean;
  packages: { added: { name: string }[]; removed: unknown[]; changed: unknown[] };
  files: { added: string[]; removed: string[]; changed: { path: string; changes: string[] }[] };
  regions: { name: string; same: boolean }[];
}

/** File name to sha256, from a build's SHA256SUMS. */
function sums(dir: string): Record<string, string> {
  const lines = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n');
  return Object.fromEntries(lines.map((l): [string, string] => {
    const [sum = '', file = ''] = l.split(/\s+/);
    return [file, sum];
  }));
}

async function build(out: string, ...args: string[]): Promise<void> {
  const result = await kiln(['build', join(FIXTURE, 'recipe.yaml'), '-o', out, '--no-cache', ...args], { KILN_CACHE: cache });
  assert.equal(result.code, 0, result.stderr.slice(-3000));
}

void test('reproducible: a build and its rebuild from kiln.lock are byte-identical; kiln diff explains a third', async () => {
  const a = join(scratch('repro'), 'a');
  const b = join(scratch('repro'), 'b');
  await build(a);
  const lock = readJson<Lock>(join(a, 'kiln.lock'));
  // The Release file's date, kept in the lock; dependencies are marked so a locked build marks them alike.
  assert.ok(lock.sourceDateEpoch > 1.6e9 && lock.sourceDateEpoch < Date.now() / 1000, String(lock.sourceDateEpoch));
  assert.ok(lock.packages.some((p) => p.auto) && lock.packages.some((p) => !p.auto));
  await build(b, '--lock', join(a, 'kiln.lock'));

  const [sa, sb] = [sums(a), sums(b)];
  for (const file of ['repro.raw', 'repro.qcow2', 'repro.tar', 'repro.raw.bmap', 'repro.spdx.json', 'repro.cdx.json']) {
    assert.ok(sa[file], `${file} is an output`);
    assert.equal(sa[file], sb[file], `${file} differs between the build and its rebuild`);
  }
  // Whichever stages the store holds, the image is the same: here the base comes from the store
  // (the first build's) and every stage after it (fstab, the kernel's initramfs, the package sets) is made again.
  const onBase = join(scratch('repro'), 'c');
  const partial = await kiln(['build', join(FIXTURE, 'recipe.yaml'), '-o', onBase, '--rebuild-from', 'fstab'], { KILN_CACHE: cache });
  assert.equal(partial.code, 0, partial.stderr.slice(-3000));
  const record = readJson<{ stages: { name: string; cached: boolean }[] }>(join(onBase, 'build.json'));
  assert.deepEqual(record.stages.filter((s) => s.cached).map((s) => s.name), ['bootstrap']);
  assert.equal(sums(onBase)['repro.raw'], sa['repro.raw'], 'an image built on a cached base differs from one built from scratch');
  const same = await kiln(['diff', a, b]);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /are identical \(every partition and every byte of the disk\)/);

  // What makes it so, seen in the image: clamped times, an empty machine-id, no logs or seeds.
  const epoch = lock.sourceDateEpoch;
  const image = join(a, 'repro.raw');
  const root = new Ext4(image, partitions(image).find((p) => p.name === 'root') ?? assert.fail('no root partition'));
  assert.equal(root.cat('/etc/machine-id'), '');
  for (const gone of ['/var/log/dpkg.log', '/var/log/apt/history.log', '/var/cache/ldconfig/aux-cache', '/var/lib/systemd/random-seed']) assert.ok(!root.exists(gone), `${gone} is in the image`);
  const hostname = run('debugfs', ['-R', 'stat /etc/hostname', root.spec]);
  for (const field of ['ctime', 'atime', 'mtime', 'crtime']) {
    const seconds = parseInt(new RegExp(`${field}: 0x([0-9a-f]+)`).exec(hostname)?.[1] ?? '', 16);
    assert.equal(seconds, epoch, `/etc/hostname ${field} is the build's SOURCE_DATE_EPOCH`);
  }
  const latest = run('sh', ['-c', 'TZ=UTC tar --list --verbose --full-time --file "$1" | awk \'{ print $4 "T" $5 }\' | sort | tail -n 1', 'sh', join(a, 'repro.tar')]);
  const newest = Date.parse(`${latest.trim()}Z`) / 1000;
  assert.ok(newest <= epoch, `a tar entry is newer (${newest}) than SOURCE_DATE_EPOCH (${epoch})`);

  // A third build with one package (tree: a program and nothing else) and one file more: kiln diff names both, and little else.
  const other = join(scratch('repro'), 'recipe');
  cpSync(FIXTURE, other, { recursive: true });
  const recipe = join(other, 'recipe.yaml');
  writeFileSync(recipe, readFileSync(recipe, 'utf8').replace('packages: [sudo]', 'packages: [sudo, tree]').replace('files:\n', 'files:\n  - { dst: /etc/kiln-extra, content: "one more\\n" }\n'));
  const c = join(scratch('repro'), 'c');
  const third = await kiln(['build', recipe, '-o', c, '--lock', join(a, 'kiln.lock')], { KILN_CACHE: cache });
  assert.equal(third.code, 0, third.stderr.slice(-3000));
  const diff = await kiln(['diff', a, c, '--json']);
  assert.equal(diff.code, 1, diff.stderr);
  const d = JSON.parse(diff.stdout) as DiffJson;
  assert.equal(d.identical, false);
  assert.deepEqual(d.packages.added.map((p) => p.name), ['tree']);
  assert.deepEqual([d.packages.removed, d.packages.changed], [[], []]);
  assert.ok(d.files.added.includes('/etc/kiln-extra') && d.files.added.includes('/usr/bin/tree'), d.files.added.join(' '));
  assert.deepEqual(d.files.removed, []);
  // Only dpkg's and apt's own records change besides what was added.
  const changed = d.files.changed.map((f) => f.path).filter((p) => !/^\/var\/lib\/(dpkg|apt)\/|^\/etc$|^\/usr\/bin$|^\/usr\/share\/(doc|man\/man1)$/.test(p));
  assert.deepEqual(changed, [], JSON.stringify(d.files.changed.slice(0, 20)));
  assert.deepEqual(d.regions.filter((r) => !r.same).map((r) => r.name), ['partition 2 (root)']);
});
