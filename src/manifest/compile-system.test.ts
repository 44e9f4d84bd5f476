/** What the system keys compile to: which stages, in which order, with which options; nothing for recipes without them. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { checkedManifest } from '../engine/plan.js';
import { parseRecipe } from '../recipe/index.js';
import type { Manifest } from './compile.js';
import { plannedPackages } from './package-sets.js';

const folder = mkdtempSync(join(tmpdir(), 'kiln-compile-system-'));
after(() => rmSync(folder, { recursive: true, force: true }));
mkdirSync(join(folder, 'keys'));
copyFileSync(fileURLToPath(new URL('../../../src/recipe/testdata/repo-key.asc', import.meta.url)), join(folder, 'keys/repo.asc'));

const RECIPE = `
name: demo
packages: [kiln-extra=1.0-1, vim]
groups: [{ name: devs, gid: 2001 }, { name: ops }]
users: [{ name: al, uid: 1501, gid: devs, home: /srv/al, description: Al }]
services: { mask: [apt-daily.timer] }
directories: [{ path: /srv/x, mode: "0750", owner: al:devs }]
keyboard: { layout: de, variant: nodeadkeys }
ntp: [ntp.example.org]
firewall: { ports: [8080/tcp, 60000-60010/udp], services: { enable: [http], disable: [ssh] } }
apt:
  sources:
    - { name: extra, uris: [http://127.0.0.1:8000/], suites: ["./"], key: keys/repo.asc }
`;

const plan = (text: string): Manifest => checkedManifest(parseRecipe('r.yaml', text, folder, { env: {} }));
const options = (m: Manifest, stage: string) => m.stages.find((s) => s.stage === stage)?.options;

void test('the system keys compile into the stages that apply them, in order', () => {
  const m = plan(RECIPE);
  assert.deepEqual(m.stages.map((s) => s.stage).slice(0, 10), ['bootstrap', 'fstab', 'kernel', 'packages', 'system', 'users', 'directories', 'files', 'services', 'firewall']);
  const bootstrap = options(m, 'bootstrap') as { aptSources: { name: string; suites: string[]; components: string[]; key: string; fingerprint: string }[] };
  const own = options(m, 'packages') as { set: string; packages: string[]; pins: string[] };
  assert.equal(own.set, 'recipe');
  assert.ok(['kiln-extra=1.0-1', 'nftables', 'netbase', 'systemd-timesyncd'].every((p) => own.packages.includes(p)), own.packages.join(' '));
  assert.deepEqual(own.pins, ['kiln-extra=1.0-1']);
  assert.ok(!('pins' in bootstrap));
  const [source] = bootstrap.aptSources;
  assert.deepEqual({ ...source, key: source?.key.split('\n')[0] }, { name: 'extra', uris: ['http://127.0.0.1:8000/'], suites: ['./'], components: [], key: '-----BEGIN PGP PUBLIC KEY BLOCK-----', fingerprint: 'F0B4BE93135520224F44391D57C99B0B4877ACAD' });
  assert.deepEqual(options(m, 'system'), { hostname: 'demo', timezone: 'Etc/UTC', locale: 'C.UTF-8', keyboard: { layout: 'de', variant: 'nodeadkeys' }, ntp: ['ntp.example.org'] });
  const users = options(m, 'users') as { groups: unknown; users: Record<string, unknown>[] };
  assert.deepEqual(users.groups, [{ name: 'devs', gid: 2001 }, { name: 'ops' }]);
  assert.deepEqual([users.users[0]?.gid, users.users[0]?.home, users.users[0]?.description], ['devs', '/srv/al', 'Al']);
  assert.deepEqual(options(m, 'directories'), { items: [{ path: '/srv/x', mode: '0750', owner: 'al:devs' }] });
  assert.deepEqual(options(m, 'services'), { enable: [], disable: [], mask: ['apt-daily.timer'] });
  assert.deepEqual(options(m, 'firewall'), { ports: [{ protocol: 'tcp', port: '8080' }, { protocol: 'udp', port: '60000-60010' }], services: ['http'] });
  assert.deepEqual(m.provenance.packages['systemd-timesyncd'], ['kiln']);
});

void test('without the system keys no stage gets a new option, so earlier plans keep their ids', () => {
  const m = plan('name: demo\n');
  assert.ok(!m.stages.some((s) => s.stage === 'directories' || s.stage === 'firewall'));
  assert.deepEqual(Object.keys(options(m, 'system') ?? {}).sort(), ['hostname', 'locale', 'timezone']);
  assert.deepEqual(Object.keys(options(m, 'users') ?? {}).sort(), ['rootPasswordHash', 'users']);
  assert.deepEqual(Object.keys(options(m, 'services') ?? {}).sort(), ['disable', 'enable']);
  assert.ok(!('aptSources' in (options(m, 'bootstrap') ?? {})) && !('pins' in (options(m, 'bootstrap') ?? {})));
});

void test('a firewall that opens no service needs no /etc/services; ssh is open unless disabled', () => {
  const closed = plan('name: demo\nfirewall: { services: { disable: [ssh] } }\n');
  assert.deepEqual(options(closed, 'firewall'), { ports: [], services: [] });
  assert.ok(!plannedPackages(closed.stages).includes('netbase'));
  assert.deepEqual(options(plan('name: demo\nfirewall: {}\n'), 'firewall'), { ports: [], services: ['ssh'] });
});
