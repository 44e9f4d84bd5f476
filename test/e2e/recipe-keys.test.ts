/**
 * The recipe keys of issue 19 at one build and one boot, from an osbuild-composer blueprint that
 * uses every key kiln translates (test/e2e/fixtures/blueprint/blueprint.toml): groups with gids,
 * users with uid, primary group, home, description and keys, root's password, disabled and masked
 * units, directories and files with owners by name and number, hostname, time zone, locale,
 * keyboard, timesyncd's servers, nftables rules that are loaded at boot, sshd's drop-in, a second
 * partition, and a pinned package installed from an extra repository that the test builds, signs
 * and serves itself. A bad key and a missing pin are checked on the YAML recipe of
 * test/e2e/fixtures/recipe-keys/.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { signedRepo } from './apt-repo.js';
import { Console, withConsole } from './console.js';
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

void test('a blueprint with every translated key, built and booted: accounts, units, directories, keyboard, NTP, firewall and an extra repository, seen from a logged-in shell', async (t) => {
  // A copy of the blueprint beside the repository's key, with the port the repository is served on.
  const blueprint = join(dir, 'blueprint.toml');
  const text = readFileSync(join(REPO, 'test/e2e/fixtures/blueprint/blueprint.toml'), 'utf8');
  assert.match(text, /"http:\/\/127\.0\.0\.1:8080\/ kiln main"/);
  writeFileSync(blueprint, text.replace('http://127.0.0.1:8080/', repo.url));
  writeFileSync(join(dir, 'repo-key.asc'), repo.publicKey);

  const out = join(dir, 'out');
  const started = Date.now();
  // Booted under emulation: no page zeroing (the emulated layer), and a VM's short initramfs (vm):
  // Debian's default one took 22 of the build's 188 s, and nothing here is about the initramfs.
  const built = await kiln(['build', blueprint, '--layer', 'vm', '--layer', 'emulated', '-o', out], env);
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  const stages = [...built.stderr.matchAll(/ (\S+) done in ([\d.]+) s/g)].map((m) => `${m[1]} ${m[2]} s`);
  t.diagnostic(`built in ${Math.round((Date.now() - started) / 1000)} s: ${stages.join(', ')}`);

  await withConsole(() => Console.start(join(out, 'blueprint-e2e.raw')), async (vm) => {
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
    await sh('export SYSTEMD_PAGER= SYSTEMD_COLORS=0');
    const groups = await sh('getent group widget gadget | cut -d: -f1,3');
    check('groups', () => assert.match(groups, /^widget:1300\ngadget:\d{4}$/));
    const passwd = await sh('getent passwd admin auditor');
    check('accounts', () => assert.match(passwd, /^admin:x:1200:1300:Blueprint Admin:\/srv\/admin:\/bin\/bash\nauditor:x:1201:\d{4}::\/home\/auditor:\/bin\/bash$/));
    const id = await sh('id admin; id -gn auditor');
    check('id', () => assert.match(id, /^uid=1200\(admin\) gid=1300\(widget\) groups=1300\(widget\),4\(adm\)\nauditor$/));
    // trixie's login.defs makes homes 0700 (HOME_MODE).
    const home = await sh('stat -c "%a %U:%G" /srv/admin');
    check('home', () => assert.equal(home, '700 admin:widget'));
    const keys = await sh('cut -d" " -f3 /srv/admin/.ssh/authorized_keys /root/.ssh/authorized_keys');
    check('ssh keys', () => assert.equal(keys, 'admin@desk\nadmin@laptop\nroot@blueprint'));
    const auditor = await sh('passwd -S auditor | cut -d" " -f2');
    check('auditor password', () => assert.equal(auditor, 'P'));

    const units = (await vm.run('systemctl is-enabled apt-daily-upgrade.timer apt-daily.timer ssh.service systemd-timesyncd.service')).out;
    check('masked, disabled and enabled units', () => assert.equal(units, 'masked\ndisabled\nenabled\nenabled'));

    const dirs = await sh('stat -c "%n %a %U:%G" /srv/widgets /srv/widgets/README /opt/blueprint /opt/blueprint/cache /etc/blueprint.conf');
    check('directories and files', () =>
      assert.equal(
        dirs,
        ['/srv/widgets 750 admin:widget', '/srv/widgets/README 644 admin:root', '/opt/blueprint 755 root:root', '/opt/blueprint/cache 755 admin:widget', '/etc/blueprint.conf 640 root:widget'].join('\n'),
      ),
    );
    const conf = await sh('cat /etc/blueprint.conf');
    check('file content', () => assert.equal(conf, '# written from the blueprint\ngreeting = "hello ${USER}"'));

    const system = await sh('hostname; readlink /etc/localtime; findmnt -n -o FSTYPE /var/lib/data');
    check('hostname, time zone, partition', () => assert.equal(system, 'bp-host\n/usr/share/zoneinfo/Europe/Berlin\next4'));
    const keyboard = await sh('cat /etc/default/keyboard');
    check('keyboard file', () => assert.match(keyboard, /^XKBLAYOUT="de"\nXKBVARIANT="nodeadkeys"$/m));
    const locale = await sh('localectl status');
    check('localectl', () => {
      assert.match(locale, /System Locale: LANG=en_US\.UTF-8$/m);
      assert.match(locale, /X11 Layout: de$/m);
      assert.match(locale, /X11 Variant: nodeadkeys$/m);
    });

    const timesyncd = await sh('systemctl is-active systemd-timesyncd');
    check('timesyncd', () => assert.equal(timesyncd, 'active'));
    const servers = await sh('timedatectl show-timesync -p SystemNTPServers');
    check('NTP servers', () => assert.equal(servers, 'SystemNTPServers=0.debian.pool.ntp.org 1.debian.pool.ntp.org'));

    const sshd = await sh('systemctl is-active ssh; sshd -T | grep -E "^(passwordauthentication|clientaliveinterval|permitrootlogin|kbdinteractiveauthentication) " | sort');
    // sshd -T names prohibit-password by its older alias.
    check('sshd', () => assert.match(sshd, /^active\nclientaliveinterval 300\nkbdinteractiveauthentication no\npasswordauthentication no\npermitrootlogin (without|prohibit)-password$/));

    const nftables = await sh('systemctl is-active nftables');
    check('nftables', () => assert.equal(nftables, 'active'));
    const rules = await sh('nft list ruleset');
    check('rules', () => {
      assert.match(rules, /policy drop;/);
      assert.match(rules, /tcp dport 8080 accept/);
      assert.match(rules, /tcp dport 443 accept/);
      assert.match(rules, /udp dport 60000-60010 accept/);
      assert.match(rules, /tcp dport 80 accept comment "http"/);
      assert.doesNotMatch(rules, /dport 22 /, 'ssh was disabled');
      assert.doesNotMatch(rules, /dport 23 /, 'telnet was disabled');
    });

    const packages = await sh("dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' vim procps openssh-server");
    check('translated package names', () => assert.equal(packages, 'openssh-server ii \nprocps ii \nvim ii '));
    const version = await sh("dpkg-query -W -f '${Version}' kiln-extra");
    const file = await sh('cat /usr/share/kiln-extra/version');
    check('pinned package', () => assert.deepEqual([version, file], ['1.0-1', '1.0-1']));
    const source = await sh('cat /etc/apt/sources.list.d/kiln-local.sources');
    check('sources file', () => {
      assert.match(source, /^URIs: http:\/\/127\.0\.0\.1:\d+\/$/m);
      assert.match(source, /^Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----$/m);
    });
    assert.deepEqual(failed, []);
  });
});

function readRecipe(): string {
  return readFileSync(RECIPE, 'utf8');
}
