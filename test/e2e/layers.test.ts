/**
 * One image built from layers (the built-ins that boot, plus a local layer that leaves a marker
 * from every hook phase), checked inside, then booted on a disk made 1 GiB larger: the root file
 * system grows, SSH host keys are made on first boot, networkd and sshd start, and a login prompt
 * appears on the serial console.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertLoginPrompt, bootCheck, Ext4, kiln, partitions, plain, readJson, run, scratch, sharedCache } from './kiln.js';

interface Record {
  layers: { name: string }[];
  stages: { name: string }[];
  packages: { name: string; layers: string[] }[];
  operations: { stage: string; op: string; target: string; layers: string[] }[];
}

void test('layers: a layered image with hooks in every phase grows its root and boots with fresh SSH host keys', async () => {
  const out = join(scratch('layered'), 'out');
  const built = await kiln(['build', 'test/e2e/fixtures/layered/recipe.yaml', '-o', out], { KILN_CACHE: sharedCache('layered') });
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  const image = join(out, 'layered.raw');
  const record = readJson<Record>(join(out, 'build.json'));

  assert.deepEqual(record.layers.map((l) => l.name), ['base', 'probe', 'ssh-server', 'systemd-networkd', 'serial-console', 'growroot', 'slim', 'emulated']);
  assert.ok(record.stages.some((s) => s.name === 'cleanup-hooks'));
  const asked = (name: string) => record.packages.find((p) => p.name === name)?.layers;
  assert.deepEqual(asked('openssh-server'), ['ssh-server']);
  // Every bootable image gets D-Bus from kiln itself now; the base layer names it too.
  assert.deepEqual(asked('dbus'), ['kiln', 'base']);
  assert.deepEqual(asked('linux-image-amd64'), ['kiln']);
  assert.deepEqual(asked('libc6'), [], 'a dependency nobody asked for');
  const op = (stage: string, target: string) => record.operations.find((o) => o.stage === stage && o.target === target)?.layers;
  assert.deepEqual(op('bootstrap', 'hooks/setup/10-setup'), ['probe']);
  assert.deepEqual(op('customize-hooks', 'hooks/customize/10-mark'), ['probe']);
  assert.deepEqual(op('services', 'systemd-networkd'), ['systemd-networkd']);
  assert.deepEqual(op('files', '/etc/kiln-probe'), ['probe']);
  assert.ok(!record.operations.some((o) => o.target.includes('10-mark~') || o.target.includes('.bak')), 'backups are not hooks');

  const [, root] = partitions(image);
  assert.ok(root);
  const fs = new Ext4(image, root);
  assert.equal(fs.cat('/etc/kiln-probe-setup'), 'setup in probe: root=ok usr-bin-dpkg=no\n');
  assert.equal(fs.cat('/etc/kiln-probe-customize'), 'customize in probe: word=from-the-recipe arch=amd64\n');
  assert.equal(fs.cat('/etc/kiln-probe-cleanup'), 'cleanup: kernel=present loader=present\n');
  assert.equal(fs.cat('/etc/kiln-probe'), 'word=from-the-recipe\n');
  assert.match(readFileSync(join(out, 'build.log'), 'utf8'), /probe image hook: layered\.raw in layer probe, cwd probe/);
  assert.match(fs.cat('/etc/ssh/sshd_config.d/50-kiln.conf'), /^Port 22$/m);
  assert.equal(fs.exists('/etc/ssh/ssh_host_ed25519_key'), false, 'no host key is baked into the image');
  assert.equal(fs.exists('/etc/ssh/ssh_host_rsa_key.pub'), false);
  assert.match(fs.cat('/etc/systemd/network/80-kiln-wired.network'), /DHCP=yes/);
  assert.ok(fs.exists('/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service'));
  // slim's path filters on an essential package (bash), which mmdebstrap unpacks with tar through
  // kiln's mmtarfilter before dpkg installs it: anything the filter let through would stay.
  assert.match(readFileSync(join(out, 'build.log'), 'utf8'), /the essential packages go through kiln's mmtarfilter/);
  assert.equal(fs.exists('/usr/share/doc/bash/copyright'), true);
  assert.equal(fs.exists('/usr/share/doc/bash/NEWS.gz'), false);
  assert.equal(fs.exists('/usr/share/locale/af'), false, "bash's translations");

  const rootBefore = root.size * 512;
  run('qemu-img', ['resize', '-f', 'raw', image, '+1G']);
  const console = plain(await bootCheck(image));
  assert.match(console, /kiln-growpart: partition 2 of \/dev\/vda grew from \d+ MiB to \d+ MiB/);
  const grew = /kiln-growroot: grew \/dev\/vda2 and its file system from (\d+)M to (\d+)M/.exec(console);
  assert.ok(grew, `the root file system grew on first boot:\n${console.slice(-3000)}`);
  assert.ok(Number(grew[2]) - Number(grew[1]) > 900, `grown by about 1 GiB (${grew[1]}M -> ${grew[2]}M, partition was ${rootBefore / 2 ** 20} MiB)`);
  assert.match(console, /generating new host keys/);
  assert.match(console, /Started systemd-networkd\.service/);
  assert.match(console, /Started ssh\.service/);
  assertLoginPrompt(console, 'layered');
});
