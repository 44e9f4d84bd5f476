import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALIASES, CODENAMES, codenameOf, DEFAULT_RELEASE, describeRelease, RELEASE_NAMES, RELEASES, releaseInfo } from './releases.js';
import { parseDists, parseRelease } from './mirror-release.js';
import { releaseProblem } from './release-check.js';

void test('the default release is trixie, Debian 13, and every alias names a codename in the table', () => {
  assert.equal(DEFAULT_RELEASE, 'trixie');
  assert.equal(RELEASES.trixie.version, '13');
  assert.deepEqual(ALIASES, { oldstable: 'bookworm', stable: 'trixie', testing: 'forky', unstable: 'sid' });
  for (const codename of Object.values(ALIASES)) assert.ok(CODENAMES.includes(codename));
  assert.deepEqual(RELEASE_NAMES, ['bookworm', 'trixie', 'forky', 'sid', 'oldstable', 'stable', 'testing', 'unstable']);
});

void test('names resolve to codenames; unknown names to nothing', () => {
  assert.equal(codenameOf('stable'), 'trixie');
  assert.equal(codenameOf('oldstable'), 'bookworm');
  assert.equal(codenameOf('sid'), 'sid');
  assert.equal(codenameOf('buster'), undefined);
  assert.equal(releaseInfo('unstable'), RELEASES.sid);
  assert.equal(describeRelease('oldstable'), 'oldstable (bookworm)');
  assert.equal(describeRelease('trixie'), 'trixie');
});

void test('what differs per release: ukify from trixie on, D-Bus with logind sessions everywhere', () => {
  assert.equal(RELEASES.bookworm.ukify, null);
  for (const r of ['trixie', 'forky', 'sid'] as const) assert.equal(RELEASES[r].ukify, 'systemd-ukify');
  for (const r of CODENAMES) {
    assert.deepEqual(RELEASES[r].dbus, ['dbus', 'libpam-systemd']);
    assert.ok(RELEASES[r].mergedUsr);
    assert.ok(RELEASES[r].signedChain.includes('shim-signed'));
  }
  assert.equal(RELEASES.bookworm.aptSources, 'one-line');
  assert.equal(RELEASES.trixie.aptSources, 'deb822');
});

void test('a Release file gives its Codename and Suite; a dists/ listing its release names', () => {
  assert.deepEqual(parseRelease('Origin: Debian\nSuite: stable\nCodename: trixie\nDate: x\n'), { codename: 'trixie', suite: 'stable' });
  const html = '<a href="../">../</a><a href="bookworm/">bookworm/</a><a href="bookworm-updates/">x</a><a href="sid/">sid/</a><a href="stable/">stable/</a>';
  assert.deepEqual(parseDists(html), ['bookworm', 'sid', 'stable']);
});

const M = 'http://deb.example/debian';
void test('the mirror check: exact messages for a missing release and a moved alias; silence otherwise', () => {
  assert.equal(
    releaseProblem('trixie', M, { found: false, url: `${M}/dists/trixie/Release`, status: 404, has: ['bookworm', 'sid'] }),
    'the mirror http://deb.example/debian has no release "trixie" (http://deb.example/debian/dists/trixie/Release: 404); it has: bookworm, sid; set distro.release to one it has, or distro.mirror to a mirror with trixie',
  );
  assert.equal(
    releaseProblem('stable', M, { found: true, codename: 'forky', suite: 'stable' }),
    '"stable" is forky on the mirror http://deb.example/debian, but kiln\'s release table has it as trixie; name the codename you want (distro.release: forky)',
  );
  assert.equal(releaseProblem('stable', M, { found: true, codename: 'trixie', suite: 'stable' }), undefined);
  assert.equal(releaseProblem('trixie', M, { unreachable: 'ECONNREFUSED' }), undefined);
});
