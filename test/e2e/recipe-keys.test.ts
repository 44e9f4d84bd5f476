/**
 * The recipe keys of issue 19 at one build and one boot: groups with gids, users with uid, primary
 * group, home and description, a masked unit, directories and owners by name and number, the
 * keyboard, timesyncd's servers, nftables rules that are loaded at boot, and a pinned package
 * installed from an extra repository that the test builds, signs and serves itself.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { signedRepo } from './apt-repo.js';
import { Console } from './console.js';
import { kiln, REPO, scratch, sharedCache } from './kiln.js';

const env = { KILN_CACHE: sharedCache('recipe-keys') };
const dir = scratch('recipe-keys');
const RECIPE = join(dir, 'recipe.yaml');
cpSync(join(REPO, 'test/e2e/fixtures/recipe-keys/recipe.yaml'), RECIPE);
// Two versions, so the pin (1.0-1) is what chooses: apt alone would install the newer one.
const repo = await signedRepo(join(dir, 'apt'), 'kiln-extra', ['1.0-1', '2.0-1']);
mkdirSync(join(dir, 'keys'));
writeFileSync(join(dir, 'keys/repo.asc'), repo.publicKey);
after(() => repo.close());

void test('a key that is not an OpenPGP public key is exit 2 at its recipe line, before any work', async () => {
  writeFileSync(join(dir, 'keys/bad.asc'), '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n');
  const bad = join(dir, 'bad-key.yaml');
  writeFileSync(bad, readRecipe().replace('key: keys/repo.asc', 'key: keys/bad.asc'));
  const result = await kiln(['plan', bad, '--set', `REPO_URL=${repo.url}`], env);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /bad-key\.yaml:26:\d+ apt\.sources\[0\]\.key: "keys\/bad\.asc" is not an OpenPGP public key: it is not OpenPGP data/);
});

void test('a pin to a version no repository has is exit 1 naming the versions there are', async () => {
  const result = await kiln(['build', RECIPE, '-o', join(dir, 'out-pin'), '--set', `REPO_URL=${repo.url}`, '--set', 'PIN=9.9-1'], env);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /pinned versions are not in the repositories: kiln-extra=9\.9-1 \(the repositories have: 1\.0-1 2\.0-1\)/);
});

void test('groups, accounts, a masked unit, directories, keyboard, NTP, firewall and an extra repository, seen from a logged-in shell', async (t) => {
  const out = join(dir, 'out');
  const built = await kiln(['build', RECIPE, '-o', out, '--set', `REPO_URL=${repo.url}`], env);
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);

  const vm = Console.start(join(out, 'recipe-keys.raw'));
  try {
    await vm.login('root', 'root');
    t.diagnostic(`logged in ${vm.seconds} s after QEMU started`);
    // Every check runs and the test lists each one that failed: a boot takes minutes.
    const failed: string[] = [];
    const sh = async (command: string) => {
      const r = await vm.run(command);
      if (r.status !== 0) failed.push(`${command}: status ${r.status}:\n${r.out}`);
      return r.out;
    };
    const check = (what: string, assertion: () => void) => {
      try {
        assertion();
      } catch (err) {
        failed.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    // Kernel messages on the console would land in the middle of a command's output.
    await sh('dmesg -n 1; export SYSTEMD_PAGER= SYSTEMD_COLORS=0');
    const groups = await sh('getent group developers operators | cut -d: -f1,3');
    check('groups', () => assert.match(groups, /^developers:2001\noperators:\d{4}$/));
    const passwd = await sh('getent passwd alice bob');
    check('accounts', () => assert.equal(passwd, 'alice:x:1501:2001:Alice Example:/srv/alice:/bin/bash\nbob:x:1502:2001::/home/bob:/bin/bash'));
    const id = await sh('id alice');
    check('id', () => assert.match(id, /^uid=1501\(alice\) gid=2001\(developers\) groups=2001\(developers\),\d+\(operators\)$/));
    // trixie's login.defs makes homes 0700 (HOME_MODE).
    const home = await sh('stat -c "%a %U:%G" /srv/alice');
    check('home', () => assert.equal(home, '700 alice:developers'));

    const masked = (await vm.run('systemctl is-enabled apt-daily.timer')).out;
    check('masked', () => assert.equal(masked, 'masked'));

    const dirs = await sh('stat -c "%n %a %U:%G" /srv/data /srv/data/deep /srv/data/deep/note.txt /var/lib/bobs');
    check('directories', () =>
      assert.equal(dirs, ['/srv/data 755 root:root', '/srv/data/deep 750 alice:developers', '/srv/data/deep/note.txt 640 alice:developers', '/var/lib/bobs 755 bob:developers'].join('\n')),
    );

    const keyboard = await sh('cat /etc/default/keyboard');
    check('keyboard file', () => assert.match(keyboard, /^XKBLAYOUT="de"\nXKBVARIANT="nodeadkeys"$/m));
    const locale = await sh('localectl status');
    check('localectl', () => {
      assert.match(locale, /X11 Layout: de$/m);
      assert.match(locale, /X11 Variant: nodeadkeys$/m);
    });

    const timesyncd = await sh('systemctl is-active systemd-timesyncd');
    check('timesyncd', () => assert.equal(timesyncd, 'active'));
    const servers = await sh('timedatectl show-timesync -p SystemNTPServers');
    check('NTP servers', () => assert.equal(servers, 'SystemNTPServers=ntp1.example.org 192.0.2.123'));

    const nftables = await sh('systemctl is-active nftables');
    check('nftables', () => assert.equal(nftables, 'active'));
    const rules = await sh('nft list ruleset');
    check('rules', () => {
      assert.match(rules, /policy drop;/);
      assert.match(rules, /tcp dport 8080 accept/);
      assert.match(rules, /udp dport 60000-60010 accept/);
      assert.match(rules, /tcp dport 80 accept comment "http"/);
      assert.doesNotMatch(rules, /dport 22 /, 'ssh was disabled');
    });

    const version = await sh("dpkg-query -W -f '${Version}' kiln-extra");
    const file = await sh('cat /usr/share/kiln-extra/version');
    check('pinned package', () => assert.deepEqual([version, file], ['1.0-1', '1.0-1']));
    const source = await sh('cat /etc/apt/sources.list.d/kiln-test.sources');
    check('sources file', () => assert.match(source, /^Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----$/m));
    assert.deepEqual(failed, []);
  } finally {
    await vm.stop();
  }
});

function readRecipe(): string {
  return readFileSync(RECIPE, 'utf8');
}
