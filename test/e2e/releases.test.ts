/**
 * The other releases still boot: `--matrix release=bookworm,sid` builds both (trixie, the default,
 * is booted by every example). sid is allowed to fail only when apt's own output shows the mirror's
 * sid cannot be installed (unmet dependencies), and the test then says so. A release the mirror does
 * not have is refused before any work, naming the recipe line.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootCheck, Ext4, kiln, partitions, scratch, sharedCache } from './kiln.js';

/**
 * apt's words when the mirror's sid cannot be used: packages that cannot be installed together, or
 * a Release file past its Valid-Until (a stale mirror or snapshot). The mirror, not kiln, is broken.
 */
const APT_BROKEN = /unmet dependencies|held broken packages|but it is not (going to be )?installable|Release file for \S+ is expired/;

void test('--matrix release=bookworm,sid: both build and boot to a login prompt', async (t) => {
  const out = join(scratch('releases'), 'out');
  const built = await kiln(['build', 'test/e2e/fixtures/trixie/release.yaml', '-o', out, '--matrix', 'release=bookworm,sid'], { KILN_CACHE: sharedCache('releases') });
  const bookworm = join(out, 'bookworm', 'release.raw');
  assert.ok(existsSync(bookworm), `bookworm did not build:\n${built.stderr.slice(-3000)}`);
  const [, root] = partitions(bookworm);
  assert.ok(root);
  assert.match(new Ext4(bookworm, root).cat('/usr/lib/os-release'), /^VERSION_CODENAME=bookworm$/m);
  const started = Date.now();
  assert.match(await bootCheck(bookworm), /Debian GNU\/Linux 12 [\s\S]*login:/);
  t.diagnostic(`bookworm: build and login prompt, boot ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const sid = join(out, 'sid', 'release.raw');
  if (!existsSync(sid)) {
    const failedLog = join(out, 'sid', 'build-failed.log');
    const apt = existsSync(failedLog) ? readFileSync(failedLog, 'utf8') : built.stderr;
    assert.match(apt, APT_BROKEN, `sid failed, and not because the mirror's sid is uninstallable:\n${built.stderr.slice(-3000)}`);
    t.diagnostic(`sid is broken on the mirror today (apt: ${APT_BROKEN.exec(apt)?.[0] ?? ''}); bookworm booted`);
    return;
  }
  assert.equal(built.code, 0, built.stderr.slice(-3000));
  const sidStarted = Date.now();
  assert.match(await bootCheck(sid), /login:/);
  t.diagnostic(`sid: login prompt after ${((Date.now() - sidStarted) / 1000).toFixed(0)} s`);
});

void test('a release the mirror does not have: exit 2 at distro.release, listing what it has', async () => {
  const dir = scratch('nomirror');
  mkdirSync(join(dir, 'mirror/dists/bookworm'), { recursive: true });
  writeFileSync(join(dir, 'mirror/dists/bookworm/Release'), 'Suite: oldstable\nCodename: bookworm\n');
  writeFileSync(join(dir, 'recipe.yaml'), `name: nomirror\ndistro:\n  release: trixie\n  mirror: file://${dir}/mirror\n`);
  const result = await kiln(['build', join(dir, 'recipe.yaml'), '-o', join(dir, 'out')], { KILN_CACHE: join(dir, 'cache') });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, new RegExp(`recipe\\.yaml:3:12 distro\\.release: the mirror file://${dir}/mirror has no release "trixie" \\(file://${dir}/mirror/dists/trixie/Release: 404\\); it has: bookworm;`));
  assert.equal(existsSync(join(dir, 'out')), false);
});
