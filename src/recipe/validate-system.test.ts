/**
 * The system keys (groups, account fields, masked units, directories, keyboard, NTP, firewall,
 * apt sources, pins): every refusal with its exact message at file:line:col, and how layers merge them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { parseRecipe } from './load.js';
import { recipeError } from '../testing/recipe-error.js';

const KEY = readFileSync(fileURLToPath(new URL('../../../src/recipe/testdata/repo-key.asc', import.meta.url)), 'utf8');
const folder = mkdtempSync(join(tmpdir(), 'kiln-system-keys-'));
after(() => rmSync(folder, { recursive: true, force: true }));
mkdirSync(join(folder, 'keys'));
writeFileSync(join(folder, 'keys/repo.asc'), KEY);
writeFileSync(join(folder, 'keys/garbage.asc'), 'hello\n');
writeFileSync(join(folder, 'keys/private.asc'), '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxx\n-----END PGP PRIVATE KEY BLOCK-----\n');
// The key with one base64 character changed: its CRC-24 no longer matches.
writeFileSync(join(folder, 'keys/damaged.asc'), KEY.replace(/^(mDME)(.)/m, (_, a: string, c: string) => `${a}${c === 'a' ? 'b' : 'a'}`));

const errorOf = (text: string) => recipeError(folder, text);

const SOURCE = (key: string) => `name: a\napt:\n  sources:\n    - { name: extra, uris: [https://repo.example.org/debian], suites: [trixie], key: ${key} }\n`;

const CASES: [string, string, string][] = [
  ['bad group name', 'name: a\ngroups:\n  - { name: Devs }\n', 'r.yaml:3:13 groups[0].name: "Devs" is not a valid group name (lowercase letters, digits, "_" and "-", starting with a letter)'],
  ['two groups, one gid', 'name: a\ngroups:\n  - { name: a, gid: 2001 }\n  - { name: b, gid: 2001 }\n', 'r.yaml:4:21 groups[1].gid: 2001 is also the gid of group "a"'],
  ['gid out of range', 'name: a\ngroups:\n  - { name: a, gid: 70000 }\n', 'r.yaml:3:21 groups[0].gid: 70000 is too big (maximum 60000)'],
  ['bad primary group', 'name: a\nusers:\n  - { name: al, gid: "Staff!" }\n', 'r.yaml:3:22 users[0].gid: "Staff!" is not a group name or gid (e.g. users, 1000)'],
  ['relative home', 'name: a\nusers:\n  - { name: al, home: al }\n', 'r.yaml:3:23 users[0].home: "al" must be an absolute path without ".." (e.g. /home/al)'],
  ['colon in description', 'name: a\nusers:\n  - { name: al, description: "a:b" }\n', 'r.yaml:3:30 users[0].description: "a:b" must not contain ":" or a line break (they separate /etc/passwd\'s fields and lines)'],
  ['masked and enabled', 'name: a\nservices: { enable: [ssh], mask: [ssh] }\n', 'r.yaml:2:35 services.mask[0]: "ssh" is also in services.enable; a masked unit never starts (remove it from one list)'],
  ['bad unit to mask', 'name: a\nservices: { mask: ["a b"] }\n', 'r.yaml:2:20 services.mask[0]: "a b" is not a systemd unit name'],
  ['relative directory', 'name: a\ndirectories:\n  - { path: srv/x }\n', 'r.yaml:3:13 directories[0].path: "srv/x" must be an absolute path in the image without ".." (e.g. /srv/data)'],
  ['bad directory owner', 'name: a\ndirectories:\n  - { path: /srv/x, owner: "a b" }\n', 'r.yaml:3:28 directories[0].owner: "a b" is not an owner (user or user:group, by name or number, e.g. admin:admin or 1000:1000)'],
  ['bad directory mode', 'name: a\ndirectories:\n  - { path: /srv/x, mode: 755x }\n', 'r.yaml:3:27 directories[0].mode: "755x" is not an octal file mode (e.g. "0644", quoted)'],
  ['bad file owner', 'name: a\nfiles:\n  - { dst: /etc/x, content: "", owner: "root:" }\n', 'r.yaml:3:40 files[0].owner: "root:" is not an owner (user or user:group, by name or number, e.g. admin:admin or 1000:1000)'],
  ['bad keyboard layout', 'name: a\nkeyboard: "de\\"x"\n', 'r.yaml:2:11 keyboard.layout: "de\\"x" is not an XKB layout (e.g. us, de, fr, us,ru)'],
  ['bad keyboard options', 'name: a\nkeyboard: { layout: de, options: "ctrl nocaps" }\n', 'r.yaml:2:34 keyboard.options: "ctrl nocaps" is not an XKB options (e.g. ctrl:nocaps)'],
  ['unknown keyboard key', 'name: a\nkeyboard: { layout: de, varient: x }\n', 'r.yaml:2:25 keyboard.varient: unknown key (did you mean "variant"?)'],
  ['bad NTP server', 'name: a\nntp: ["pool ntp org"]\n', 'r.yaml:2:7 ntp[0]: "pool ntp org" is not an NTP server (a host name or IP address, e.g. 0.debian.pool.ntp.org)'],
  ['bad port', 'name: a\nfirewall: { ports: ["22"] }\n', 'r.yaml:2:21 firewall.ports[0]: "22" is not a port (e.g. "22/tcp", "60000-61000/udp")'],
  ['port out of range', 'name: a\nfirewall: { ports: ["70000/tcp"] }\n', 'r.yaml:2:21 firewall.ports[0]: "70000/tcp" is not a port (e.g. "22/tcp", "60000-61000/udp")'],
  ['backwards range', 'name: a\nfirewall: { ports: ["9-1/udp"] }\n', 'r.yaml:2:21 firewall.ports[0]: "9-1/udp" is not a port (e.g. "22/tcp", "60000-61000/udp")'],
  ['bad firewall service', 'name: a\nfirewall: { services: { enable: ["HTTP Server"] } }\n', 'r.yaml:2:34 firewall.services.enable[0]: "HTTP Server" is not a service name from /etc/services (e.g. ssh, http, domain)'],
  ['unknown firewall key', 'name: a\nfirewall: { zones: [public] }\n', 'r.yaml:2:13 firewall.zones: unknown key (valid keys: ports, services)'],
  ['pin with a space', 'name: a\npackages: ["vim=1 2"]\n', 'r.yaml:2:12 packages[0]: "vim=1 2" is not a Debian package name (e.g. openssh-server, vim=2:9.0.1378-2)'],
  ['bad source name', SOURCE('keys/repo.asc').replace('name: extra', 'name: Extra'), 'r.yaml:4:15 apt.sources[0].name: "Extra" is not a source name (lowercase letters, digits, ".", "_" and "-"; it names /etc/apt/sources.list.d/<name>.sources)'],
  ['bad source URI', SOURCE('keys/repo.asc').replace('https://repo.example.org/debian', 'repo.example.org'), 'r.yaml:4:29 apt.sources[0].uris[0]: "repo.example.org" is not a repository URL (http://, https:// or file://)'],
  ['no suites', SOURCE('keys/repo.asc').replace('[trixie]', '[]'), 'r.yaml:4:71 apt.sources[0].suites: is empty; give a suite (e.g. trixie, stable, or "./" for a flat repository)'],
  ['flat with components', SOURCE('keys/repo.asc').replace('[trixie]', '["./"], components: [main]'), 'r.yaml:4:91 apt.sources[0].components: must be empty for a flat repository (a suite ending in "/")'],
  ['key file missing', SOURCE('keys/nope.asc'), 'r.yaml:4:86 apt.sources[0].key: "keys/nope.asc" does not exist (paths are relative to the recipe file)'],
  ['key not OpenPGP', SOURCE('keys/garbage.asc'), 'r.yaml:4:86 apt.sources[0].key: "keys/garbage.asc" is not an OpenPGP public key: it is not OpenPGP data (byte 0 is not a packet header)'],
  ['private key', SOURCE('keys/private.asc'), 'r.yaml:4:86 apt.sources[0].key: "keys/private.asc" is not an OpenPGP public key: it is a private key; give the public key (gpg --export --armor KEYID)'],
  ['damaged armor', SOURCE('keys/damaged.asc'), 'r.yaml:4:86 apt.sources[0].key: "keys/damaged.asc" is not an OpenPGP public key: it has a damaged armored block (its CRC-24 checksum does not match)'],
  ['inline text that is no key', SOURCE('"-----BEGIN PGP PUBLIC KEY BLOCK-----\\n\\nAAAA\\n-----END PGP PUBLIC KEY BLOCK-----"'), 'r.yaml:4:86 apt.sources[0].key: the armored text is not an OpenPGP public key: it is not OpenPGP data (byte 0 is not a packet header)'],
];

for (const [name, text, expected] of CASES) {
  void test(`system keys: ${name}`, () => assert.equal(errorOf(text), expected));
}

void test('every new key at once is a valid recipe; a string keyboard is a layout; components default later', () => {
  const text = `${SOURCE('keys/repo.asc')}groups: [{ name: devs, gid: 2001 }]\nusers: [{ name: al, uid: 1501, gid: devs, home: /srv/al, description: Al }]\nservices: { mask: [apt-daily.timer] }\ndirectories: [{ path: /srv/x, mode: "0750", owner: 1501 }]\nfiles: [{ dst: /etc/x, content: "", owner: "1501:2001" }]\nkeyboard: de\nntp: [ntp.example.org, "2001:db8::1"]\nfirewall: { ports: [8080/tcp], services: { enable: [http], disable: [ssh] } }\npackages: [vim=2:9.1.1230-2]\n`;
  const r = parseRecipe('r.yaml', text, folder, { env: {} }).recipe;
  assert.deepEqual(r.keyboard, { layout: 'de' });
  assert.deepEqual(r.directories, [{ path: '/srv/x', mode: '0750', owner: '1501' }]);
  assert.equal(r.apt.sources[0]?.components, undefined);
  assert.deepEqual(r.firewall, { ports: ['8080/tcp'], services: { enable: ['http'], disable: ['ssh'] } });
});

void test('layers: groups, masks, directories, NTP servers, firewall ports and sources merge; keyboards must agree', (t) => {
  const project = mkdtempSync(join(tmpdir(), 'kiln-system-layers-'));
  t.after(() => rmSync(project, { recursive: true, force: true }));
  const layer = (name: string, yaml: string) => {
    mkdirSync(join(project, 'layers', name), { recursive: true });
    writeFileSync(join(project, 'layers', name, 'layer.yaml'), yaml);
  };
  mkdirSync(join(project, 'layers/repo/keys'), { recursive: true });
  writeFileSync(join(project, 'layers/repo/keys/repo.asc'), KEY);
  layer('repo', 'apt: { sources: [{ name: extra, uris: [https://r.example.org/], suites: [trixie], key: keys/repo.asc }] }\nntp: [a.example.org]\n');
  layer('fw', 'firewall: { ports: [22/tcp] }\ngroups: [{ name: devs }]\nservices: { mask: [a.timer] }\nkeyboard: de\n');
  layer('fr', 'keyboard: fr\n');
  const recipe = (extra: string) => parseRecipe('r.yaml', `name: a\nlayers: [repo, fw]\n${extra}`, project, { env: {} }).recipe;
  const r = recipe('ntp: [b.example.org]\nfirewall: { ports: [80/tcp] }\ngroups: [{ name: devs, gid: 2001 }]\nservices: { mask: [b.timer] }\n');
  assert.deepEqual(r.ntp, ['a.example.org', 'b.example.org']);
  assert.deepEqual(r.firewall?.ports, ['22/tcp', '80/tcp']);
  assert.deepEqual(r.groups, [{ name: 'devs', gid: 2001 }]);
  assert.deepEqual(r.services.mask, ['a.timer', 'b.timer']);
  assert.deepEqual(r.keyboard, { layout: 'de' });
  assert.deepEqual(r.apt.sources.map((s) => s.name), ['extra']);
  assert.equal(recipe('').firewall?.services.enable.length, 0, 'a layer alone brings the firewall');
  assert.throws(
    () => parseRecipe('r.yaml', 'name: a\nlayers: [fw, fr]\n', project, { env: {} }),
    (err: Error) => err.message.endsWith(`keyboard: "{\\"layout\\":\\"fr\\"}" conflicts with "{\\"layout\\":\\"de\\"}" from layer "fw" (${join(project, 'layers/fw/layer.yaml')}:4:11); set keyboard in the recipe to choose`),
  );
  assert.deepEqual(parseRecipe('r.yaml', 'name: a\nlayers: [fw, fr]\nkeyboard: us\n', project, { env: {} }).recipe.keyboard, { layout: 'us' });
});
