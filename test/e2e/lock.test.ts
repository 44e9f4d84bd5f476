/**
 * kiln.lock: a build writes one (every package, exact version, the .deb's sha256), a build with
 * --lock installs exactly that, and a locked version the mirror no longer has fails naming it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kiln, readJson, scratch, sharedCache } from './kiln.js';

const RECIPE = 'test/e2e/fixtures/lock/small.yaml';
// The suite's shared cache, full of other recipes' .debs: the lock must still list only what this
// build installed (those .debs are linked into apt's archive folder too).
const cache = sharedCache('lock');
interface Lock {
  kilnLock: number;
  arch: string;
  distro: { release: string };
  packages: { name: string; version: string; arch: string; sha256: string; set?: string }[];
}
interface Record {
  packages: { name: string; version: string; arch: string }[];
}

void test('lock: written by every build, installed exactly with --lock, and a vanished version is named', async () => {
  const first = join(scratch('lock'), 'out');
  const built = await kiln(['build', RECIPE, '-o', first], { KILN_CACHE: cache });
  assert.equal(built.code, 0, built.stderr.slice(-3000));
  const lock = readJson<Lock>(join(first, 'kiln.lock'));
  assert.equal(lock.kilnLock, 1);
  assert.equal(lock.distro.release, 'trixie');
  const record = readJson<Record>(join(first, 'build.json'));
  // Every installed package is in the lock at its installed version, with its .deb's sha256.
  const installed = record.packages.map((p) => `${p.name} ${p.version} ${p.arch}`).sort();
  assert.deepEqual(lock.packages.map((p) => `${p.name} ${p.version} ${p.arch}`).sort(), installed);
  const zstd = lock.packages.find((p) => p.name === 'zstd');
  assert.ok(zstd);
  const deb = join(cache, 'packages', `zstd_${zstd.version.replace(/:/g, '%3a')}_${zstd.arch}.deb`);
  assert.equal(createHash('sha256').update(readFileSync(deb)).digest('hex'), zstd.sha256);

  const second = join(scratch('lock'), 'out');
  const locked = await kiln(['build', RECIPE, '-o', second, '--lock', join(first, 'kiln.lock')], { KILN_CACHE: cache });
  assert.equal(locked.code, 0, locked.stderr.slice(-3000));
  // Each locked package goes back into the set whose stage installed it: the bootstrap's mmdebstrap or a packages stage's apt.
  assert.ok(lock.packages.every((p) => p.set === 'base' || p.set === 'recipe'), 'every package has its set');
  assert.match(readFileSync(join(second, 'build.log'), 'utf8'), zstd.set === 'base' ? /--include=\S*zstd=/ : /\$ apt-get install .*\bzstd=/);
  assert.deepEqual(readJson<Lock>(join(second, 'kiln.lock')).packages, lock.packages.slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));

  const gone = join(scratch('lock'), 'gone.lock');
  writeFileSync(gone, JSON.stringify({ ...lock, packages: lock.packages.map((p) => (p.name === 'zstd' ? { ...p, version: '0.0-kiln-gone' } : p)) }));
  const failed = await kiln(['build', RECIPE, '-o', join(scratch('lock'), 'out'), '--lock', gone], { KILN_CACHE: cache });
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /locked versions are no longer on the mirror: zstd 0\.0-kiln-gone \(point distro\.mirror at a snapshot/);

  const otherArch = join(scratch('lock'), 'arm.lock');
  writeFileSync(otherArch, JSON.stringify({ ...lock, arch: 'arm64' }));
  const wrong = await kiln(['build', RECIPE, '--lock', otherArch], { KILN_CACHE: cache });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--lock: the lock is for debian trixie arm64, the recipe builds debian trixie amd64/);
});
