/**
 * Builds the two examples for real, looks inside them without mounting anything, and boots each
 * under QEMU to a login prompt. Slow (several minutes): one build and one boot per image.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { validateSbom } from '../../src/sbom/validate.js';
import { assertLoginPrompt, bootCheck, Ext4, fatFile, kiln, MAIN, partitions, readJson, run, scratch, sharedCache } from './kiln.js';

// The suite's shared store: another test may have made the examples' first stages already (the
// cold build is cache.test.ts's subject).
const env = { KILN_CACHE: sharedCache('examples') };

interface BuildJson {
  name: string;
  recipeHash: string;
  stages: { name: string; id: string; cached: boolean; seconds: number }[];
  packages: { name: string; version: string; arch: string; layers: string[] }[];
  outputs: { file: string; format: string; size: number; sha256: string }[];
}

async function buildAndBoot(recipe: string, name: string) {
  const out = join(scratch(name), 'out');
  // Booted under emulation: no page zeroing (the emulated layer).
  const built = await kiln(['build', recipe, '--layer', 'emulated', '-o', out], env);
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  const image = join(out, `${name}.raw`);
  const record = readJson<BuildJson>(join(out, 'build.json'));
  return { out, image, record };
}

function checkOutputFolder(out: string, image: string, record: BuildJson) {
  for (const file of ['build.json', 'build.log', 'SHA256SUMS']) assert.ok(existsSync(join(out, file)), `${file} missing`);
  const [output] = record.outputs;
  assert.equal(output?.size, statSync(image).size);
  // Every output is listed (the image first, its bmap, the SBOMs), and sha256sum agrees with each.
  const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
  assert.ok(sums.startsWith(`${output?.sha256}  ${output?.file}\n`));
  assert.deepEqual(sums.trim().split('\n').map((l) => l.split('  ')[1]).sort(), record.outputs.map((o) => o.file).sort());
  run('sh', ['-c', `cd '${out}' && sha256sum --quiet -c SHA256SUMS`]);
  assert.ok(run('sha256sum', [image]).startsWith(output?.sha256 ?? '-'), 'SHA256SUMS matches the image');
  // Sparse: the blocks really used are far fewer than the image's length.
  assert.ok(statSync(image).blocks * 512 < statSync(image).size * 0.8, 'the raw image is sparse');
  // The initramfs is made before the recipe's own packages, and checked after its hooks.
  const names = record.stages.map((s) => s.name);
  assert.equal(names[0], 'bootstrap');
  const at = (name: string) => names.indexOf(name);
  assert.ok(at('fstab') < at('kernel') && at('kernel') < at('system') && at('customize-hooks') < at('initramfs'), names.join(' '));
  assert.ok(record.stages.every((s) => s.id.startsWith('sha256:') && s.seconds >= 0));
  // A stage is taken from the store only with all the stages before it: the cached ones lead.
  const cached = record.stages.filter((s) => s.cached).map((s) => s.name);
  assert.deepEqual(cached, record.stages.slice(0, cached.length).map((s) => s.name));
  assert.match(run('sgdisk', ['-v', image]), /No problems found/);
  // Both file systems were made in place inside the image: each must check clean.
  const [esp, root] = partitions(image);
  assert.ok(esp && root);
  run('e2fsck', ['-fn', `${image}?offset=${root.start * 512}`]);
  const espFile = join(out, 'esp.check');
  run('dd', [`if=${image}`, `of=${espFile}`, 'bs=512', `skip=${esp.start}`, `count=${esp.size}`, 'status=none']);
  run('fsck.fat', ['-n', espFile]);
  rmSync(espFile);
}

interface Spdx {
  packages: { name: string; versionInfo?: string; licenseDeclared: string; checksums?: { checksumValue: string }[]; externalRefs?: { referenceLocator: string }[] }[];
}
interface CycloneDx {
  metadata: { component: { hashes: { content: string }[] } };
  components: { name: string; version: string; purl: string }[];
}

/**
 * Both SBOMs validate against the official schemas, describe the image by its sha256, and list
 * exactly the packages dpkg-query finds in the image's own database, with the same versions.
 */
function checkSboms(out: string, image: string, fs: Ext4) {
  const spdx = readJson<Spdx>(join(out, 'minimal.spdx.json'));
  const cdx = readJson<CycloneDx>(join(out, 'minimal.cdx.json'));
  assert.deepEqual(validateSbom('spdx', spdx), []);
  assert.deepEqual(validateSbom('cyclonedx', cdx), []);
  const sha = run('sha256sum', [image]).split(' ')[0];
  assert.equal(spdx.packages[0]?.checksums?.[0]?.checksumValue, sha);
  assert.equal(cdx.metadata.component.hashes[0]?.content, sha);

  const admin = join(out, 'dpkg');
  mkdirSync(admin);
  writeFileSync(join(admin, 'status'), fs.cat('/var/lib/dpkg/status'));
  const installed = run('dpkg-query', [`--admindir=${admin}`, '--show', '--showformat=${db:Status-Abbrev} ${Package} ${Version} ${Architecture}\n'])
    .split('\n')
    .filter((l) => l.startsWith('ii'))
    .map((l) => l.split(/\s+/).slice(1))
    // A purl percent-encodes the name (libstdc++6 is libstdc%2B%2B6); Debian versions stay as they are.
    .map(([name = '', version = '', arch = '']) => `pkg:deb/debian/${encodeURIComponent(name)}@${version}?arch=${arch}&distro=debian-13`)
    .sort();
  assert.ok(installed.length > 100);
  assert.deepEqual(cdx.components.map((c) => c.purl).sort(), installed);
  assert.deepEqual(spdx.packages.slice(1).map((p) => p.externalRefs?.[0]?.referenceLocator).sort(), installed);
  // Licenses come from the DEP-5 copyright files where they are machine-readable.
  assert.equal(spdx.packages.find((p) => p.name === 'grep')?.licenseDeclared, 'GPL-3.0-or-later');
  assert.ok(spdx.packages.every((p) => p.licenseDeclared.length > 0));

  // kiln sbom reads the same from the image alone.
  const again = join(out, 'again');
  mkdirSync(again);
  run('cp', ['--sparse=always', image, again]);
  run(process.execPath, [MAIN, 'sbom', join(again, 'minimal.raw')]);
  const regenerated = readJson<Spdx>(join(again, 'minimal.spdx.json'));
  assert.deepEqual(regenerated.packages.map((p) => [p.name, p.versionInfo, p.licenseDeclared]), spdx.packages.map((p) => [p.name, p.versionInfo, p.licenseDeclared]));
  rmSync(again, { recursive: true });
}

void test('examples/minimal.yaml builds and boots to a login prompt', async () => {
  const { out, image, record } = await buildAndBoot('examples/minimal.yaml', 'minimal');
  checkOutputFolder(out, image, record);
  // The recipe names no packages: kiln adds the kernel because a bootable image needs one.
  const linux = record.packages.find((p) => p.name === 'linux-image-amd64');
  assert.deepEqual(linux?.layers, ['kiln']);
  assert.ok(record.packages.some((p) => p.name === 'systemd' && /^\d/.test(p.version) && p.arch === 'amd64'));

  const [esp, root] = partitions(image);
  assert.ok(esp && root);
  assert.equal(esp.name, 'esp');
  const entry = fatFile(image, esp, '/loader/entries/minimal.conf');
  assert.match(entry, new RegExp(`options root=PARTUUID=${root.uuid.toLowerCase()} rw`));
  assert.ok(fatFile(image, esp, '/EFI/BOOT/BOOTX64.EFI').length > 10000);
  const fs = new Ext4(image, root);
  assert.equal(fs.cat('/etc/hostname'), 'kiln-minimal\n');
  assert.match(fs.cat('/etc/fstab'), /^UUID=[0-9a-f-]{36}\t\/\text4\t/m);
  assert.match(fs.cat('/etc/shadow'), /^root:\$6\$/m);
  // Marked up to date with /usr (the update-done stage), so the first boot does not redo it.
  assert.match(fs.cat('/etc/.updated'), /^TIMESTAMP_NSEC=\d+$/m);
  assert.equal(fs.cat('/var/.updated'), fs.cat('/etc/.updated'));

  // The disk's fsck programs, and the initramfs's: kiln gives it the root's type, which its fsck hook cannot read on the build host.
  assert.ok(fs.exists('/usr/sbin/fsck.ext4') && fs.exists('/usr/sbin/fsck.vfat'));
  assert.equal(fs.cat('/etc/initramfs-tools/conf.d/kiln-fsck.conf').split('\n')[1], 'FSTYPE=ext4');
  assert.doesNotMatch(readFileSync(join(out, 'build.log'), 'utf8'), /Couldn't identify type of root file system/);

  checkSboms(out, image, fs);

  const console = await bootCheck(image);
  // The initramfs checked the root before mounting it (so systemd-fsck-root had nothing left to do).
  assert.match(console, /\/dev\/vda2: clean, \d+\/\d+ files/);
  assertLoginPrompt(console, 'kiln-minimal');
});

void test('examples/server.yaml: user, groups, ssh key, services, overlay, hook, and sshd running after boot', async () => {
  const { out, image, record } = await buildAndBoot('examples/server.yaml', 'server');
  checkOutputFolder(out, image, record);
  const [, root] = partitions(image);
  assert.ok(root);
  const fs = new Ext4(image, root);
  assert.equal(fs.cat('/etc/hostname'), 'kiln-server\n');
  assert.match(fs.cat('/etc/passwd'), /^admin:x:1000:1000::\/home\/admin:\/bin\/bash$/m);
  assert.match(fs.cat('/etc/group'), /^sudo:x:27:admin$/m);
  assert.match(fs.cat('/etc/shadow'), /^admin:\$6\$[^:]+:/m);
  assert.match(fs.cat('/home/admin/.ssh/authorized_keys'), /^ssh-ed25519 AAAA\S+ admin@example$/m);
  assert.equal(fs.stat('/home/admin/.ssh/authorized_keys'), 'regular 0600 1000');
  assert.equal(fs.stat('/etc/systemd/system/multi-user.target.wants/ssh.service').split(' ')[0], 'symlink');
  // openssh-server made host keys when it was installed; kiln takes them out of every image.
  assert.equal(fs.exists('/etc/ssh/ssh_host_ed25519_key'), false);
  assert.equal(fs.stat('/etc/systemd/system/multi-user.target.wants/kiln-ssh-host-keys.service').split(' ')[0], 'symlink');
  assert.ok(fs.exists('/etc/systemd/system/multi-user.target.wants/systemd-networkd.service'));
  assert.match(fs.cat('/etc/systemd/network/80-dhcp.network'), /DHCP=yes/);
  assert.equal(fs.stat('/etc/systemd/network/80-dhcp.network'), 'regular 0644 0');
  assert.equal(fs.cat('/etc/kiln-marker'), 'customized by kiln for server (amd64)\n');
  assert.equal(fs.stat('/home/admin/welcome.txt'), 'regular 0640 1000');
  assert.match(fs.cat('/home/admin/welcome.txt'), /^Welcome, admin/);
  assert.match(readFileSync(join(out, 'build.log'), 'utf8'), /\[image-hooks\] image hook: server\.raw is 2147483648 bytes in \//);
  assert.equal(fs.cat('/etc/motd'), 'Built by kiln from examples/server.yaml\n');
  assert.equal(fs.cat('/etc/timezone'), 'Europe/Berlin\n');
  assert.equal(fs.exists('/usr/sbin/policy-rc.d'), false, 'policy-rc.d is removed after hooks');
  assert.equal(record.outputs[0]?.size, 2 * 1024 ** 3, 'disk.size: 2G is honoured');

  const console = await bootCheck(image);
  const plain = console.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
  assert.match(plain, /Started ssh\.service - OpenBSD Secure Shell server/);
  assert.match(plain, /ssh-keygen: generating new host keys/);
  // /etc/.updated and /var/.updated: systemd's first-boot update units found nothing to do.
  // (The console does show oneshot units as they finish, so the absence below means something.)
  assert.match(plain, /Finished kmod-static-nodes\.service/);
  assert.doesNotMatch(plain, /(Starting|Finished) (ldconfig|systemd-journal-catalog-update|systemd-update-done|systemd-hwdb-update)\.service/);
  assertLoginPrompt(console, 'kiln-server');
});
