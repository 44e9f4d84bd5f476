import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Exec } from '../host/exec.js';
import { BuildError, InterruptedError } from '../errors.js';
import { stageRecorder, type Call } from '../testing/stage-recorder.js';
import { hostArch } from '../arch/host-arch.js';
import { fakeElf, fakeLoader } from '../testing/elf.js';
import { DEFERRED_IN_ROOT, deferralStub, installedVersions, librariesFolder, nativeChroot, otherSource, parseCalls, resolveInRoot, runDeferred, runsEmulated, toolboxRequest, tripletOf } from './native-tools.js';

const base = mkdtempSync(join(tmpdir(), 'kiln-native-test-'));
after(() => rmSync(base, { recursive: true, force: true }));

void test('only a root whose programs qemu-user runs gets native programs', () => {
  assert.equal(runsEmulated('arm64', 'amd64'), true);
  assert.equal(runsEmulated('armhf', 'amd64'), true);
  assert.equal(runsEmulated('amd64', 'amd64'), false);
  // An amd64 kernel runs i386 programs itself.
  assert.equal(runsEmulated('i386', 'amd64'), false);
  assert.equal(runsEmulated('amd64', 'arm64'), true);
  assert.equal(runsEmulated('arm64', 'arm64'), false);
});

void test("a stub's notes, written by a real shell, come back as the calls it took, in order, each once", () => {
  const log = join(base, 'calls');
  const stub = join(base, 'systemd-hwdb');
  writeFileSync(stub, deferralStub().replace(`${DEFERRED_IN_ROOT}/calls`, log), { mode: 0o755 });
  const depmod = join(base, 'depmod');
  writeFileSync(depmod, deferralStub().replace(`${DEFERRED_IN_ROOT}/calls`, log), { mode: 0o755 });
  execFileSync(stub, ['--usr', 'update']);
  execFileSync(depmod, ['6.12.1+deb13-arm64']);
  execFileSync(stub, ['--usr', 'update']);
  execFileSync(depmod, ['a b', '', "it's"]);
  assert.deepEqual(parseCalls(readFileSync(log, 'utf8')), [
    ['systemd-hwdb', '--usr', 'update'],
    ['depmod', '6.12.1+deb13-arm64'],
    ['depmod', 'a b', '', "it's"],
  ]);
  assert.deepEqual(parseCalls(''), []);
});

void test("the toolbox's library folder is named to be as long as the host's, whose name it takes in the loader", () => {
  assert.equal(librariesFolder('x86_64-linux-gnu'), 'kiln-lib');
  assert.equal(librariesFolder('aarch64-linux-gnu'), 'kiln-lib_');
  assert.equal(librariesFolder('i386-linux-gnu'), 'kiln-l');
  for (const triplet of ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf', 'i386-linux-gnu']) {
    assert.equal(`/run/kiln-native/${librariesFolder(triplet)}/`.length, `/usr/lib/${triplet}/`.length);
  }
});

void test('a binary-only rebuild is asked for by name, and what came must be of the same source', () => {
  const versions = { grep: '3.11-4+b1', sed: '4.9-2+deb13u1', 'perl-base': '5.40.1-6' };
  assert.deepEqual(toolboxRequest(versions), ['grep', 'sed=4.9-2+deb13u1', 'perl-base=5.40.1-6']);
  assert.equal(otherSource(versions, ['grep_3.11-4+b2_amd64.deb', 'sed_4.9-2+deb13u1_amd64.deb', 'libc6_2.41-12_amd64.deb']), undefined);
  assert.equal(otherSource(versions, ['grep_3.11-4_amd64.deb']), undefined);
  assert.equal(otherSource(versions, ['grep_3.12-1_amd64.deb']), 'grep 3.12-1 (the image has 3.11-4+b1)');
});

void test('links are followed inside the image root, absolute ones from its top, never into the host', async () => {
  const root = join(base, 'root');
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'usr/sbin'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/kmod'), '');
  symlinkSync('usr/bin', join(root, 'bin'));
  symlinkSync('../bin/kmod', join(root, 'usr/sbin/depmod'));
  symlinkSync('/bin/kmod', join(root, 'usr/sbin/modprobe'));
  symlinkSync('/usr/sbin/modprobe', join(root, 'usr/sbin/lsmod'));
  assert.equal(await resolveInRoot(root, '/usr/sbin/depmod'), '/usr/bin/kmod');
  assert.equal(await resolveInRoot(root, '/usr/sbin/modprobe'), '/usr/bin/kmod');
  assert.equal(await resolveInRoot(root, '/usr/sbin/lsmod'), '/usr/bin/kmod');
  assert.equal(await resolveInRoot(root, '/bin/kmod'), '/usr/bin/kmod');
  assert.equal(await resolveInRoot(root, '/usr/bin/zstd'), '/usr/bin/zstd');
  symlinkSync('loop', join(root, 'loop'));
  await assert.rejects(resolveInRoot(root, '/loop'), /too many symbolic links/);
});

void test("the image's versions come from its dpkg status, installed packages only", async () => {
  const root = join(base, 'status-root');
  mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
  writeFileSync(
    join(root, 'var/lib/dpkg/status'),
    [
      'Package: kmod\nStatus: install ok installed\nArchitecture: arm64\nVersion: 34.2-2\n',
      'Package: udev\nStatus: deinstall ok config-files\nArchitecture: arm64\nVersion: 257.1-1\n',
      'Package: zstd\nStatus: install ok installed\nArchitecture: arm64\nVersion: 1.5.7+dfsg-1\n',
      'Package: bash\nStatus: install ok installed\nArchitecture: arm64\nVersion: 5.2.37-2\n',
    ].join('\n'),
  );
  assert.deepEqual(await installedVersions(root, ['kmod', 'udev', 'zstd']), { kmod: '34.2-2', zstd: '1.5.7+dfsg-1' });
  assert.deepEqual(await installedVersions(join(base, 'nothing'), ['kmod']), {});
});

void test('the native chroot binds the toolbox and its wrappers over the named files, in a private namespace', async () => {
  const calls: { command: string; args: readonly string[] }[] = [];
  const exec: Exec = (command, args) => {
    calls.push({ command, args });
    return Promise.resolve({ stdout: '' });
  };
  await nativeChroot(exec, '/roots/r', '/cache/native/abc', { zstd: '/usr/bin/zstd' })('update-initramfs', ['-c', '-k', '6.12']);
  const [call] = calls;
  assert.equal(call?.command, 'unshare');
  assert.deepEqual(call?.args.slice(0, 7), ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--']);
  const script = call?.args[9] ?? '';
  assert.match(script, /^mkdir "\$r\/run\/kiln-native" && mount --bind '\/cache\/native\/abc' "\$r\/run\/kiln-native"$/m);
  assert.match(script, /^mount --bind '\/cache\/native\/abc\/kiln-bin\/zstd' "\$r"'\/usr\/bin\/zstd'$/m);
  // /run is the namespace's own tmpfs before the toolbox's folder is made in it.
  assert.ok(script.indexOf('tmpfs "$r/run"') < script.indexOf('mkdir "$r/run/kiln-native"'));
  assert.deepEqual(call?.args.slice(10), ['kiln-chroot', '/roots/r', 'update-initramfs', '-c', '-k', '6.12']);
});

const STATUS = ['kmod 34.2-2', 'udev 257.13-1', 'zstd 1.5.7+dfsg-1'].map((p) => `Package: ${p.split(' ')[0]}\nStatus: install ok installed\nArchitecture: arm64\nVersion: ${p.split(' ')[1]}\n`).join('\n');
const SOURCE = { release: 'trixie', mirror: 'http://deb.debian.org/debian', components: ['main'] };
const NOTED = [['systemd-hwdb', '--usr', 'update'], ['depmod', '6.12.1+deb13-arm64']];

/** mmdebstrap's part, played: the toolbox folder (its second-to-last argument) with the host's loader, a library and the three binaries. */
function extract(call: Call): void {
  if (call.command !== 'mmdebstrap') return;
  const into = call.args.at(-2) ?? '';
  const triplet = tripletOf(hostArch());
  const files: [string, Buffer][] = [
    [`usr/lib/${triplet}/${hostArch() === 'arm64' ? 'ld-linux-aarch64.so.1' : 'ld-linux-x86-64.so.2'}`, fakeLoader(triplet)],
    [`usr/lib/${triplet}/libkmod.so.2`, Buffer.alloc(0)],
    ...['usr/bin/kmod', 'usr/bin/systemd-hwdb', 'usr/bin/zstd'].map((p): [string, Buffer] => [p, fakeElf(true, true, 62, '/lib64/ld-linux-x86-64.so.2')]),
  ];
  for (const [file, bytes] of files) {
    mkdirSync(join(into, file, '..'), { recursive: true });
    writeFileSync(join(into, file), bytes);
  }
}

void test("noted calls run natively with a toolbox of the image's versions, made once and then kept", async () => {
  const r = stageRecorder(extract);
  r.write('var/lib/dpkg/status', STATUS);
  await runDeferred(r.ctx, SOURCE, NOTED);
  const made = r.calls.filter((c) => c.command === 'mmdebstrap');
  assert.equal(made.length, 1);
  assert.ok(made[0]?.args.includes('--variant=extract'));
  assert.ok(made[0]?.args.includes('--include=kmod=34.2-2,udev=257.13-1,zstd=1.5.7+dfsg-1'), made[0]?.args.join(' '));
  const native = r.calls.filter((c) => c.command === 'unshare').map((c) => c.args.slice(12));
  assert.deepEqual(native, [['/run/kiln-native/kiln-bin/systemd-hwdb', '--usr', 'update'], ['/run/kiln-native/kiln-bin/depmod', '6.12.1+deb13-arm64']]);
  assert.equal(r.calls.filter((c) => c.where === 'chroot').length, 0, 'nothing ran under emulation');
  const toolbox = /mount --bind '([^']+)' "\$r\/run\/kiln-native"/.exec(r.calls.find((c) => c.command === 'unshare')?.args[9] ?? '')?.[1] ?? '';
  // kmod under the name depmod, started by the toolbox's loader, which looks for libraries in the toolbox.
  assert.ok(readFileSync(join(toolbox, 'kiln-bin/depmod')).includes('/run/kiln-native/ld\0'));
  assert.ok(readFileSync(join(toolbox, 'ld')).includes(`\0/run/kiln-native/${librariesFolder(tripletOf(hostArch()))}/\0`));
  assert.equal(readlinkSync(join(toolbox, librariesFolder(tripletOf(hostArch())), 'libkmod.so.2')), `/run/kiln-native/usr/lib/${tripletOf(hostArch())}/libkmod.so.2`);
  // The next build of the same versions takes the same toolbox.
  r.calls.length = 0;
  await runDeferred(r.ctx, SOURCE, NOTED);
  assert.equal(r.calls.filter((c) => c.command === 'mmdebstrap').length, 0);
  assert.match(r.logs.join('\n'), /toolbox of kmod=34\.2-2 udev=257\.13-1 zstd=1\.5\.7\+dfsg-1 \(kept from an earlier build\)/);
});

void test("without a toolbox (no mirror, no such version) the noted calls run as the image's own, under emulation", async () => {
  const r = stageRecorder((call) => {
    if (call.command === 'mmdebstrap') throw new BuildError('E: Version 257.13-1 for udev was not found');
  });
  r.write('var/lib/dpkg/status', STATUS);
  await runDeferred(r.ctx, SOURCE, NOTED);
  assert.deepEqual(r.calls.filter((c) => c.where === 'chroot').map((c) => [c.command, ...c.args]), NOTED);
  assert.match(r.logs.join('\n'), /no \S+ toolbox of .* \(E: Version 257\.13-1 for udev was not found\); the image's own run under emulation/);
  assert.deepEqual(readdirSync(join(r.ctx.packageCache, '..', 'native')), [], 'no half-made toolbox is left');
});

void test('Ctrl-C while the toolbox is made stops the build instead of falling back', async () => {
  const r = stageRecorder((call) => {
    if (call.command === 'mmdebstrap') throw new InterruptedError('SIGINT');
  });
  r.write('var/lib/dpkg/status', STATUS);
  await assert.rejects(runDeferred(r.ctx, SOURCE, NOTED), InterruptedError);
  assert.equal(r.calls.filter((c) => c.where === 'chroot').length, 0);
});
