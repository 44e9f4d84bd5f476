/** The packages stage against a recorder: apt's steps in order, and the .debs it reports for kiln.lock. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BuildError } from '../errors.js';
import { stageRecorder } from '../testing/stage-recorder.js';
import { packages, withComponents } from './packages.js';

const STATUS = 'Package: udev\nStatus: install ok installed\nVersion: 257-1\nArchitecture: amd64\n\n';
const OPTIONS = { set: 'layer growroot', release: 'trixie', arch: 'amd64', packages: ['fdisk=2.41-5', 'hello'], autoInstalled: ['libfdisk1'], pins: ['fdisk=2.41-5'] };

void test('packages: update, pin check and cache check before apt installs in the root; only what this set installed is reported', async () => {
  const r = stageRecorder((call, root) => {
    if (call.command !== 'unshare') return;
    // What apt would do: install two packages, leaving their .debs in the archive folder.
    appendFileSync(join(root, 'var/lib/dpkg/status'), 'Package: hello\nStatus: install ok installed\nVersion: 2.10-5\nArchitecture: amd64\n\n');
    writeFileSync(join(call.options?.env?.KILN_ARCHIVES ?? '', 'hello_2.10-5_amd64.deb'), 'a deb');
    writeFileSync(join(call.options?.env?.KILN_ARCHIVES ?? '', 'udev_257-1_amd64.deb'), 'linked in from the cache, installed earlier');
    mkdirSync(join(root, 'var/log'), { recursive: true });
    writeFileSync(join(root, 'var/log/dpkg.log'), 'today\n');
  });
  r.write('var/lib/dpkg/status', STATUS);
  r.write('var/lib/apt/extended_states', 'Package: libfdisk1\nArchitecture: amd64\nAuto-Installed: 1\n');
  r.ctx.facts = { debs: [{ name: 'udev', version: '257-1', arch: 'amd64', sha256: 'c'.repeat(64), set: 'base' }] };
  const made = await packages.run(r.ctx, packages.options.parse(OPTIONS));

  const steps = r.calls.map((c) => `${c.command} ${c.args.slice(0, 2).join(' ')}`);
  assert.deepEqual(steps.map((s) => s.split(' ')[0]), ['apt-get', '/bin/sh', 'unshare', 'apt-mark', 'apt-get', 'apt-get']);
  assert.equal(steps[0], 'apt-get update -q');
  assert.match(r.calls[1]?.args[1] ?? '', /for p in 'fdisk=2\.41-5'; do/);
  const install = r.calls[2];
  assert.ok(install?.args.includes(`DPkg::Chroot-Directory=${r.ctx.root}`));
  assert.deepEqual(install?.args.slice(-3), ['install', 'fdisk=2.41-5', 'hello']);
  assert.equal(install?.options?.env?.INITRD, 'No');
  const config = readFileSync(install?.options?.env?.APT_CONFIG ?? '', 'utf8');
  assert.match(config, new RegExp(`^Dir "${r.ctx.root}";$`, 'm'));
  assert.match(config, /^Apt::Install-Recommends false;$/m);
  assert.deepEqual(r.calls[3]?.args, ['auto', 'libfdisk1']);
  assert.deepEqual(r.calls[4]?.args.slice(-2), ['update', '-q']);
  assert.deepEqual(r.calls[5]?.args, ['clean']);

  // The earlier stages' .debs stay; of the new ones only hello was installed by this set.
  assert.deepEqual(made.debs.map((d) => [d.name, d.set]), [['udev', 'base'], ['hello', 'layer growroot']]);
  assert.deepEqual(made.autoInstalled, ['libfdisk1']);
  assert.ok(existsSync(join(r.ctx.packageCache, 'hello_2.10-5_amd64.deb')), 'a downloaded .deb goes into the package cache');
  assert.ok(!existsSync(join(r.ctx.root, 'var/log/dpkg.log')), "dpkg's log is removed, as mmdebstrap removes it");
});

void test("packages: apt runs no Pre-Install-Pkgs hook (debconf's preconfiguration), and keeps the rest of the image's configuration", async () => {
  const r = stageRecorder();
  r.write('var/lib/dpkg/status', STATUS);
  r.write('etc/apt/apt.conf.d/70debconf', 'DPkg::Pre-Install-Pkgs {"/usr/sbin/dpkg-preconfigure --apt || true";};\n');
  r.write('etc/apt/apt.conf.d/20listchanges', 'DPkg::Pre-Install-Pkgs { "/usr/bin/apt-listchanges --apt || test $? -lt 10"; };\nDPkg::Tools::Options::/usr/bin/apt-listchanges::Version "2";\n');
  r.write('etc/apt/apt.conf', 'Acquire::Retries "7";\n');
  await packages.run(r.ctx, packages.options.parse(OPTIONS));
  const install = r.calls.find((c) => c.command === 'unshare');
  // apt's own reading of the configuration: the file kiln gives it, the image's parts, then the main file.
  const dump = spawnSync('apt-config', ['dump'], { encoding: 'utf8', env: { ...process.env, APT_CONFIG: install?.options?.env?.APT_CONFIG ?? '' } });
  assert.equal(dump.status, 0, dump.stderr);
  // (#clear leaves the option itself, empty: `DPkg::Pre-Install-Pkgs "";`.)
  assert.doesNotMatch(dump.stdout, /^DPkg::Pre-Install-Pkgs::/m);
  assert.doesNotMatch(dump.stdout, /dpkg-preconfigure|apt-listchanges --apt/);
  assert.match(dump.stdout, /^DPkg::Tools::Options::\/usr\/bin\/apt-listchanges::Version "2";$/m);
  assert.match(dump.stdout, /^Acquire::Retries "7";$/m);
  assert.match(dump.stdout, /^APT::Install-Recommends "false";$/m);
});

void test("packages: a pin apt cannot meet is named with the versions there are", async () => {
  const r = stageRecorder((call) => {
    if (call.command === '/bin/sh') throw new BuildError('the pin check exited with status 1', 'packages', 'sh', ['kiln-pin: fdisk=2.41-5 is not available; versions: 2.41-4']);
  });
  r.write('var/lib/dpkg/status', STATUS);
  await assert.rejects(packages.run(r.ctx, packages.options.parse(OPTIONS)), /pinned versions are not in the repositories: fdisk=2\.41-5 \(the repositories have: 2\.41-4\)/);
});

void test('packages: an initramfs update a maintainer script asks for reaches the stub first in dpkg\'s PATH and becomes a fact, not an initramfs', async () => {
  const run = async (asks: boolean, earlier?: boolean) => {
    const r = stageRecorder((call) => {
      if (call.command !== 'unshare') return;
      const deferred = call.options?.env?.KILN_DEFERRED ?? '';
      // The stub, as e2fsprogs' postinst would meet it inside the root (the folder is bind-mounted there).
      const stub = readFileSync(join(deferred, 'bin/update-initramfs'), 'utf8');
      assert.match(stub, /^#!\/bin\/sh\n/);
      assert.match(stub, /^: > \/run\/kiln-packages\/initramfs-outdated$/m);
      assert.match(call.args[call.args.indexOf('-c') + 1] ?? '', /mount --bind "\$KILN_DEFERRED" "\$r\/run\/kiln-packages"/);
      assert.ok(call.args.includes('DPkg::Path=/run/kiln-packages/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
      if (asks) writeFileSync(join(deferred, 'initramfs-outdated'), '');
    });
    r.write('var/lib/dpkg/status', STATUS);
    if (earlier !== undefined) r.ctx.facts = { initramfsOutdated: earlier };
    return { made: await packages.run(r.ctx, packages.options.parse(OPTIONS)), logs: r.logs };
  };
  const asked = await run(true);
  assert.equal(asked.made.initramfsOutdated, true);
  assert.ok(asked.logs.some((l) => /the initramfs update it asked for is left to kiln/.test(l)));
  assert.equal((await run(false)).made.initramfsOutdated, false);
  assert.equal((await run(false, true)).made.initramfsOutdated, true, 'an earlier set that asked is not forgotten');
});

void test('packages: components a set adds go on the mirror lines of sources.list before apt reads it, once', async () => {
  const r = stageRecorder(() => undefined);
  r.write('var/lib/dpkg/status', STATUS);
  r.write('etc/apt/sources.list', 'deb http://deb.debian.org/debian trixie main\n');
  let seen = '';
  const recorded = stageRecorder((call, root) => {
    if (call.command === 'apt-get' && call.args.includes('update') && !seen) seen = readFileSync(join(root, 'etc/apt/sources.list'), 'utf8');
  });
  recorded.write('var/lib/dpkg/status', STATUS);
  recorded.write('etc/apt/sources.list', 'deb http://deb.debian.org/debian trixie main\n');
  await packages.run(recorded.ctx, packages.options.parse({ ...OPTIONS, pins: [], components: ['non-free-firmware'] }));
  assert.equal(seen, 'deb http://deb.debian.org/debian trixie main non-free-firmware\n');
  assert.equal(readFileSync(join(recorded.ctx.root, 'etc/apt/sources.list'), 'utf8'), seen);
  // Without the option the file is not touched.
  await packages.run(r.ctx, packages.options.parse({ ...OPTIONS, pins: [] }));
  assert.equal(readFileSync(join(r.ctx.root, 'etc/apt/sources.list'), 'utf8'), 'deb http://deb.debian.org/debian trixie main\n');
});

void test('withComponents: deb lines only, each component once, comments and deb-src untouched', () => {
  const text = '# mirror\ndeb [arch=arm64] http://m/debian trixie main contrib\ndeb-src http://m/debian trixie main\ndeb http://m/debian trixie main non-free-firmware \n';
  assert.equal(
    withComponents(text, ['non-free-firmware']),
    '# mirror\ndeb [arch=arm64] http://m/debian trixie main contrib non-free-firmware\ndeb-src http://m/debian trixie main\ndeb http://m/debian trixie main non-free-firmware \n',
  );
});
