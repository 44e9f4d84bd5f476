/**
 * Other architectures on this amd64 host: examples/arm64-vm.yaml built for arm64 and amd64 in one
 * `--matrix` run, the arm64 image booted with qemu-system-aarch64 and AAVMF to a login prompt, a
 * second matrix run taken wholly from the cache, and a host that cannot run arm64 programs
 * refused before anything starts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootCheck, Ext4, fatFile, kiln, kilnUnder, partitions, readJson, run, scratch, sharedCache } from './kiln.js';

const RECIPE = 'examples/arm64-vm.yaml';
// Booted under emulation: no page zeroing (the emulated layer), in every run so the second is cached.
const BUILD = ['build', RECIPE, '--layer', 'emulated', '--matrix', 'arch=arm64,amd64'];
const cache = sharedCache('arm64');

interface Record {
  arch: string;
  stages: { name: string; cached: boolean }[];
  packages: { name: string; arch: string }[];
}

void test('arm64: a matrix of arm64 and amd64, the arm64 image boots under AAVMF, a rebuild is all cached, and kiln shell runs arm64 programs', async () => {
  const out = join(scratch('arm64'), 'out');
  const built = await kiln([...BUILD, '-o', out], { KILN_CACHE: cache });
  assert.equal(built.code, 0, built.stderr.slice(-3000));

  for (const arch of ['arm64', 'amd64']) {
    const record = readJson<Record>(join(out, arch, 'build.json'));
    assert.equal(record.arch, arch);
    const kernel = record.packages.find((p) => p.name === `linux-image-${arch}`);
    assert.equal(kernel?.arch, arch, `${arch}: the kernel metapackage is the architecture's own`);
  }
  const image = join(out, 'arm64', 'arm64-vm.raw');
  const [esp, rootPart] = partitions(image);
  assert.ok(esp && rootPart);
  // systemd-boot's arm64 loader as the removable-media path, and an arm64 kernel beside it.
  assert.match(run('mdir', ['-b', '-i', `${image}@@${esp.start * 512}`, '::/EFI/BOOT']), /BOOTAA64\.EFI/i);
  assert.match(fatFile(image, esp, '/loader/entries/arm64-vm.conf'), /console=ttyAMA0,115200/);
  // mkinitramfs ran with amd64's builds of the image's shell, small programs, dracut-install, cpio,
  // zstd and depmod (stages/native-tools.ts), and none of them ended up in the initramfs.
  const log = readFileSync(join(out, 'arm64', 'build.log'), 'utf8');
  assert.match(log, /update-initramfs -c -k \S+ \(in the image root, zstd, cpio, dracut-install, dash, sed, grep, [^)]*\brealpath\b[^)]*, depmod native\)/);
  assert.doesNotMatch(log, /the initramfs holds the host's build/);
  // The bootstrap (unless the Raspberry Pi file built the same one first) unpacked with amd64's
  // dpkg-deb and tar, and ran the maintainer scripts with amd64's perl from the essential packages
  // on, and amd64's dash after them (stages/native-hook.ts).
  if (!/\[bootstrap\] cached:/.test(log)) {
    assert.match(log, /\[bootstrap\] native programs: the host's [^\n]*\bdpkg-deb, dpkg-split\b[^\n]*\btar\b[^\n]* first in dpkg's PATH/);
    assert.match(log, /\[bootstrap\] native programs: the host's perl runs the maintainer scripts' Perl \(perl-base installed first\)\n(.*\n)*.*I: installing essential packages/);
    assert.match(log, /\[bootstrap\] native programs: the host's dash runs the rest of the maintainer scripts/);
  }
  const root = new Ext4(image, rootPart);
  assert.match(root.cat('/etc/initramfs-tools/conf.d/kiln.conf'), /^MODULES=list$/m);
  assert.match(root.cat('/etc/initramfs-tools/modules'), /^virtio_blk$/m);

  const console = await bootCheck(image);
  assert.match(console, /Booting Linux on physical CPU/);
  assert.match(console, /Linux version \d+\.\d+\.\S+-arm64/);
  assert.match(console, /Debian GNU\/Linux 13 arm64-vm ttyAMA0/);

  // The same matrix again: every stage of both variants comes from the store.
  const again = await kiln([...BUILD, '-o', out], { KILN_CACHE: cache });
  assert.equal(again.code, 0, again.stderr.slice(-3000));
  for (const arch of ['arm64', 'amd64']) {
    const stages = readJson<Record>(join(out, arch, 'build.json')).stages;
    assert.deepEqual(stages.filter((s) => !s.cached).map((s) => s.name), [], `${arch}: every stage cached`);
  }

  // kiln shell runs the arm64 tree's own programs (through qemu-user) and exits with their status.
  // They read the hardware database and the module index that amd64's systemd-hwdb and depmod wrote.
  const programs = '/usr/bin/dash /usr/bin/perl /usr/bin/sed /usr/bin/tar /usr/bin/dpkg-deb';
  const shell = await kiln(['shell', join(out, 'arm64'), '--', 'sh', '-c', `uname -m; systemd-hwdb query usb:v1D6Bp0001; modprobe -S "$(ls /lib/modules)" --show-depends virtio_blk; perl -MConfig -e "print \\"perl \\$Config{archname}\\n\\""; for p in ${programs}; do echo "$p $(od -An -j18 -N2 -tu2 $p)"; done; ls /etc/dpkg/dpkg.cfg.d; exit 3`], { KILN_CACHE: cache });
  assert.equal(shell.code, 3, shell.stderr);
  assert.match(shell.stdout, /^aarch64$/m);
  assert.match(shell.stdout, /^ID_VENDOR_FROM_DATABASE=Linux Foundation$/m);
  assert.match(shell.stdout, /^insmod \/lib\/modules\/\S+-arm64\/kernel\/drivers\/block\/virtio_blk\.ko/m);
  // The image's own perl, not a wrapper the bootstrap left bound or written over it, and the
  // image's own programs (ELF machine 183, AArch64) where amd64's were bound or linked.
  assert.match(shell.stdout, /^perl aarch64-linux-gnu/m);
  for (const program of programs.split(' ')) assert.match(shell.stdout, new RegExp(`^${program} +183$`, 'm'));
  // The bootstrap's dpkg setting (skip-same-version, for the essential packages) is gone.
  assert.doesNotMatch(shell.stdout, /kiln-native/);
});

void test('arm64: a host that cannot run arm64 programs is refused before anything starts, with the fix', async () => {
  // A user namespace with a binfmt_misc instance of its own, empty (Linux 6.7 and later): a host
  // without qemu-user, for kiln inside it only. Switching the host's entry off instead would fail
  // any arm64 build another test runs at the same time.
  const bare = ['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && exec "$@"', 'sh'];
  const out = join(scratch('arm64-refused'), 'out');
  const refused = await kilnUnder(bare, ['build', RECIPE, '-o', out], { KILN_CACHE: cache });
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /this machine cannot run arm64 programs, which building an arm64 image needs \(qemu-user-static through binfmt_misc\); fix it with: kiln doctor --install/);
  assert.ok(!existsSync(out), 'nothing was created');
  const doctor = await kilnUnder(bare, ['doctor']);
  assert.equal(doctor.code, 1);
  assert.match(doctor.stdout, /missing\s+runs arm64 programs/);
  // The host itself still runs them.
  assert.match(readFileSync('/proc/sys/fs/binfmt_misc/qemu-aarch64', 'utf8'), /^enabled/);
});
