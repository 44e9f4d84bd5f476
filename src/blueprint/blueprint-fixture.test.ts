/**
 * The end-to-end blueprint fixture uses every key kiln translates: it must translate without a
 * refusal or warning, and each section must have reached the recipe.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { translateBlueprint } from './translate.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(REPO, 'test/e2e/fixtures/blueprint/blueprint.toml');

void test('the e2e blueprint fixture translates without refusal, every section included', () => {
  const t = translateBlueprint(FIXTURE, readFileSync(FIXTURE, 'utf8'));
  assert.deepEqual(t.warnings, []);
  const keys = ['name', 'distro', 'arch', 'packages', 'apt', 'hostname', 'timezone', 'locale', 'keyboard', 'ntp', 'root_password', 'groups', 'users', 'services', 'firewall', 'directories', 'files', 'kernel', 'disk'];
  assert.deepEqual(Object.keys(t.recipe).sort(), [...keys].sort());
  const users = t.recipe.users as { name: string; uid?: number; gid?: number; ssh_keys?: string[] }[];
  assert.deepEqual(users.map((u) => [u.name, u.uid, u.gid, u.ssh_keys?.length ?? 0]), [['admin', 1200, 1300, 2], ['auditor', 1201, undefined, 0]]);
  assert.deepEqual(t.recipe.services, { enable: ['ssh', 'systemd-timesyncd'], disable: ['apt-daily.timer'], mask: ['apt-daily-upgrade.timer'] });
  // /var/lib/data is not in a Debian tree: its mount point is made, since kiln builds each file system from it.
  assert.deepEqual((t.recipe.directories as { path: string }[]).map((d) => d.path), ['/root/.ssh', '/var/lib/data', '/srv/widgets', '/opt/blueprint/cache']);
  assert.deepEqual(t.recipe.firewall, { ports: ['8080/tcp', '443/tcp', '60000-60010/udp'], services: { enable: ['http'], disable: ['ssh', 'telnet'] } });
  // The package of the signed repository test/e2e/apt-repo.ts builds, pinned to the older of its versions.
  assert.ok((t.recipe.packages as string[]).includes('kiln-extra=1.0-1'));
  assert.deepEqual(t.recipe.apt, { sources: [{ name: 'kiln-local', uris: ['http://127.0.0.1:8080/'], suites: ['kiln'], components: ['main'], key: 'repo-key.asc' }] });
});
