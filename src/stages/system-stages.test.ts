/** The stages behind the system keys, run against a recorder: the commands they ask for and the files they write. */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { BuildError } from '../errors.js';
import { stageRecorder } from '../testing/stage-recorder.js';
import { pinProblems } from './apt-sources.js';
import { bootstrap } from './bootstrap.js';
import { directories } from './directories.js';
import { firewall } from './firewall.js';
import { services } from './services.js';
import { system } from './system.js';
import { users } from './users.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1501:2001::/home/alice:/bin/bash\n';
const GROUP = 'root:x:0:\nusers:x:100:\nsudo:x:27:\n';

void test('users: groups are made (or moved to their gid) before the users that name them', async () => {
  const r = stageRecorder((call, root) => {
    if (call.command === 'groupadd') appendFileSync(join(root, 'etc/group'), `${call.args.at(-1) ?? ''}:x:${call.args[1] ?? '3000'}:\n`);
  });
  r.write('etc/group', GROUP);
  r.write('etc/passwd', PASSWD);
  await users.run(r.ctx, users.options.parse({
    rootPasswordHash: null,
    groups: [{ name: 'developers', gid: 2001 }, { name: 'operators' }, { name: 'users', gid: 1000 }, { name: 'sudo' }],
    users: [
      { name: 'alice', passwordHash: null, groups: ['operators'], shell: '/bin/bash', sshKeys: [], uid: 1501, gid: 'developers', home: '/srv/alice', description: 'Alice Example' },
      { name: 'bob', passwordHash: null, groups: [], shell: '/bin/sh', sshKeys: [], gid: 2001 },
    ],
  }));
  assert.deepEqual(r.calls.map((c) => [c.where, c.command, ...c.args].join(' ')), [
    'chroot groupadd --gid 2001 developers',
    'chroot groupadd operators',
    'chroot groupmod --gid 1000 users',
    'chroot useradd --create-home --gid developers --shell /bin/bash --groups operators --uid 1501 --home-dir /srv/alice --comment Alice Example alice',
    'chroot useradd --create-home --gid 2001 --shell /bin/sh bob',
  ]);
});

void test('users: a primary group the image lacks fails before useradd, naming the fix', async () => {
  const r = stageRecorder();
  r.write('etc/group', GROUP);
  r.write('etc/passwd', PASSWD);
  await assert.rejects(
    users.run(r.ctx, users.options.parse({ rootPasswordHash: null, users: [{ name: 'al', passwordHash: null, groups: [], shell: '/bin/sh', sshKeys: [], gid: 'staff' }] })),
    (err: Error) => err instanceof BuildError && err.message === 'user al: group staff does not exist in the image (add it to groups, or install the package that creates it, e.g. add "sudo" to packages)',
  );
  assert.equal(r.calls.length, 0);
});

void test('services: masks after enabling and disabling; recipes without mask run no extra command', async () => {
  const r = stageRecorder();
  await services.run(r.ctx, services.options.parse({ enable: ['ssh'], disable: [], mask: ['apt-daily.timer', 'getty@tty2.service'] }));
  await services.run(r.ctx, services.options.parse({ enable: [], disable: ['x'] }));
  assert.deepEqual(r.calls.map((c) => [c.command, ...c.args].join(' ')), ['systemctl enable ssh', 'systemctl mask apt-daily.timer getty@tty2.service', 'systemctl disable x']);
});

void test('directories: made with parents inside the image, then owned and moded by number', async () => {
  const r = stageRecorder();
  r.write('etc/group', `${GROUP}developers:x:2001:\n`);
  r.write('etc/passwd', PASSWD);
  await directories.run(r.ctx, directories.options.parse({ items: [{ path: '/srv/data/deep', mode: '0750', owner: 'alice:developers' }, { path: '/var/lib/x', owner: '1501' }, { path: '/opt/y', owner: '4000:4000' }, { path: '/opt/z' }] }));
  assert.deepEqual(r.calls.map((c) => [c.where, c.command, ...c.args].join(' ')), [
    'chroot mkdir -p /srv/data/deep', 'chroot chown 1501:2001 /srv/data/deep', 'chroot chmod 0750 /srv/data/deep',
    'chroot mkdir -p /var/lib/x', 'chroot chown 1501:2001 /var/lib/x', 'chroot chmod 0755 /var/lib/x',
    'chroot mkdir -p /opt/y', 'chroot chown 4000:4000 /opt/y', 'chroot chmod 0755 /opt/y',
    'chroot mkdir -p /opt/z', 'chroot chown 0:0 /opt/z', 'chroot chmod 0755 /opt/z',
  ]);
  await assert.rejects(directories.run(r.ctx, { items: [{ path: '/a', owner: '4000' }] }), /directories: \/a: owner 4000: uid 4000 has no account in the image, so it has no group; give user:group \(e.g\. 4000:4000\)/);
  await assert.rejects(directories.run(r.ctx, { items: [{ path: '/a', owner: 'carol' }] }), /directories: \/a: owner carol: user carol does not exist in the image/);
});

void test('firewall: services resolve through the image\'s /etc/services; rules are written and nftables enabled', async () => {
  const r = stageRecorder();
  r.write('etc/services', 'ssh\t\t22/tcp\nhttp\t\t80/tcp\t\twww\ndomain\t\t53/tcp\ndomain\t\t53/udp\n# x 1/tcp\n');
  await firewall.run(r.ctx, { ports: [{ protocol: 'tcp', port: '8080' }, { protocol: 'udp', port: '60000-60010' }], services: ['www', 'domain'] });
  const conf = readFileSync(join(r.ctx.root, 'etc/nftables.conf'), 'utf8');
  assert.match(conf, /^\t\ttype filter hook input priority filter; policy drop;$/m);
  assert.deepEqual(conf.split('\n').filter((l) => l.includes('dport')), [
    '\t\tip6 saddr fe80::/10 udp dport 546 accept comment "dhcpv6-client"',
    '\t\ttcp dport 8080 accept',
    '\t\tudp dport 60000-60010 accept',
    '\t\ttcp dport 80 accept comment "http"',
    '\t\ttcp dport 53 accept comment "domain"',
    '\t\tudp dport 53 accept comment "domain"',
  ]);
  assert.deepEqual(r.calls.map((c) => [c.command, ...c.args].join(' ')), ['systemctl enable nftables.service']);
  await assert.rejects(firewall.run(r.ctx, { ports: [], services: ['gopher2'] }), /firewall: service gopher2 is not in the image's \/etc\/services; open its port instead \(firewall\.ports: \["8080\/tcp"\]\)/);
});

void test('system: keyboard file and timesyncd drop-in only when the recipe sets them', async () => {
  const r = stageRecorder();
  r.write('usr/share/zoneinfo/Etc/UTC', '');
  mkdirSync(join(r.ctx.root, 'etc'), { recursive: true });
  await system.run(r.ctx, system.options.parse({ hostname: 'h', timezone: 'Etc/UTC', locale: 'C.UTF-8', keyboard: { layout: 'de', variant: 'nodeadkeys' }, ntp: ['a.example.org', '192.0.2.1'] }));
  assert.equal(readFileSync(join(r.ctx.root, 'etc/default/keyboard'), 'utf8'), "# Written by kiln from the recipe's keyboard key; see keyboard(5).\nXKBMODEL=\"pc105\"\nXKBLAYOUT=\"de\"\nXKBVARIANT=\"nodeadkeys\"\nXKBOPTIONS=\"\"\nBACKSPACE=\"guess\"\n");
  assert.equal(readFileSync(join(r.ctx.root, 'etc/systemd/timesyncd.conf.d/50-kiln.conf'), 'utf8'), "# Written by kiln from the recipe's ntp key.\n[Time]\nNTP=a.example.org 192.0.2.1\n");
  const plain = stageRecorder();
  plain.write('usr/share/zoneinfo/Etc/UTC', '');
  mkdirSync(join(plain.ctx.root, 'etc'));
  await system.run(plain.ctx, system.options.parse({ hostname: 'h', timezone: 'Etc/UTC', locale: 'C.UTF-8' }));
  assert.throws(() => readFileSync(join(plain.ctx.root, 'etc/default/keyboard')));
});

void test('bootstrap: extra sources are in place before apt updates, pins are checked after it', async () => {
  const r = stageRecorder();
  const mirror = join(r.ctx.scratch, '..', 'mirror');
  mkdirSync(join(mirror, 'dists/trixie'), { recursive: true });
  appendFileSync(join(mirror, 'dists/trixie/Release'), 'Date: Sat, 01 Nov 2025 00:00:00 UTC\n');
  const key = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----';
  // What mmdebstrap (recorded, not run) would have left: the root's dpkg database.
  r.write('var/lib/dpkg/status', 'Package: hello\nStatus: install ok installed\nVersion: 2.10-5\nArchitecture: amd64\n');
  await bootstrap.run(r.ctx, bootstrap.options.parse({
    release: 'trixie', mirror: pathToFileURL(mirror).href, components: ['main'], variant: 'minbase', arch: 'amd64', packages: ['hello=2.10-5'],
    dpkgExclude: [], dpkgInclude: [], setupHooks: [], env: {}, sourceDateEpoch: 1, autoInstalled: [],
    aptSources: [{ name: 'extra', uris: ['https://r.example.org/debian'], suites: ['trixie'], components: ['main'], key, fingerprint: 'F0B4' }],
    pins: ['hello=2.10-5'],
  }));
  const [call] = r.calls;
  const hooks = (call?.args ?? []).filter((a) => a.startsWith('--setup-hook='));
  assert.match(hooks[0] ?? '', /^--setup-hook=mkdir -p "\$1\/etc\/apt\/sources.list.d" && install -m 0644 '.*\/sources'\/\*\.sources "\$1\/etc\/apt\/sources.list.d\/"$/);
  assert.match(hooks[1] ?? '', /apt-get update/);
  assert.match(hooks[2] ?? '', /for p in 'hello=2.10-5'; do/);
  const sources = readFileSync(join(r.ctx.scratch, 'sources/extra.sources'), 'utf8');
  assert.equal(sources, [
    "# Written by kiln from the recipe's apt.sources (key F0B4).",
    'Types: deb', 'URIs: https://r.example.org/debian', 'Suites: trixie', 'Components: main',
    'Signed-By:', ' -----BEGIN PGP PUBLIC KEY BLOCK-----', ' .', ' mDMEZ', ' =abcd', ' -----END PGP PUBLIC KEY BLOCK-----', '',
  ].join('\n'));
});

void test('bootstrap: the pin check\'s lines become a message naming each missing version and those there are', () => {
  assert.deepEqual(pinProblems('I: x\nkiln-pin: hello=9 is not available; versions: 2.10-3 2.10-5\nkiln-pin: nope=1 is not available; versions: none\nE: failed'), [
    'hello=9 (the repositories have: 2.10-3 2.10-5)',
    'nope=1 (the repositories have: no such package)',
  ]);
});
