import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { checkedManifest, sourceDateEpoch } from '../engine/plan.js';
import { UserError } from '../errors.js';
import { loadRecipe, parseRecipe } from '../recipe/index.js';
import { canonicalJson } from '../host/canonical.js';
import type { Manifest } from './compile.js';
import { plannedPackages } from './package-sets.js';
import { INSTALLER_SCRIPT_SHA256 } from '../outputs/installer.js';

const folder = mkdtempSync(join(tmpdir(), 'kiln-manifest-'));
after(() => rmSync(folder, { recursive: true, force: true }));
mkdirSync(join(folder, 'overlay/etc'), { recursive: true });
writeFileSync(join(folder, 'overlay/etc/app.conf'), 'port=80\n');
writeFileSync(join(folder, 'hook.sh'), '#!/bin/sh\necho hi\n');

const RECIPE = `
name: demo
packages: [vim, curl]
hostname: demo-host
users:
  - { name: admin, password: secret, groups: [sudo] }
files:
  - { src: overlay/, dst: / }
hooks:
  customize: [hook.sh]
`;
// The same recipe with keys in another order and other spacing.
const REORDERED = `
hooks: { customize: [hook.sh] }
files: [{ dst: /, src: overlay/ }]
users: [{ groups: [sudo], password: secret, name: admin }]
hostname: demo-host
packages: [vim, curl]
name: demo
`;

const plan = (text: string): Manifest => checkedManifest(parseRecipe('r.yaml', text, folder, { env: {} }));
const ids = (m: Manifest) => m.stages.map((s) => s.id);

void test('the same recipe and files give byte-identical plans', () => {
  assert.equal(canonicalJson(plan(RECIPE)), canonicalJson(plan(RECIPE)));
});

void test('reordering keys in the recipe changes no id', () => {
  assert.deepEqual(ids(plan(REORDERED)), ids(plan(RECIPE)));
  assert.equal(plan(REORDERED).recipeHash, plan(RECIPE).recipeHash);
});

void test('changing one byte of an overlay file changes the ids from the files stage on, and only those', () => {
  const before = plan(RECIPE);
  writeFileSync(join(folder, 'overlay/etc/app.conf'), 'port=81\n');
  const after = plan(RECIPE);
  writeFileSync(join(folder, 'overlay/etc/app.conf'), 'port=80\n');
  const firstChanged = before.stages.findIndex((s, i) => s.id !== after.stages[i]?.id);
  assert.equal(before.stages[firstChanged]?.stage, 'files');
  assert.ok(after.stages.slice(firstChanged).every((s, i) => s.id !== before.stages[firstChanged + i]?.id));
});

void test('changing a hook script changes the customize-hooks id', () => {
  const before = plan(RECIPE);
  writeFileSync(join(folder, 'hook.sh'), '#!/bin/sh\necho bye\n');
  const after = plan(RECIPE);
  writeFileSync(join(folder, 'hook.sh'), '#!/bin/sh\necho hi\n');
  const changed = before.stages.filter((s, i) => s.id !== after.stages[i]?.id).map((s) => s.stage);
  assert.equal(changed[0], 'customize-hooks');
});

void test('plain-text passwords never reach the manifest; hashes are SHA-512 crypt', () => {
  const text = canonicalJson(plan(RECIPE));
  assert.ok(!text.includes('"secret"'));
  assert.match(text, /"passwordHash":"\$6\$[./A-Za-z0-9]{16}\$[./A-Za-z0-9]{86}"/);
});

void test('a bootable image gets its kernel, init and boot loader packages: the base system in the bootstrap, the rest after it', () => {
  const stages = plan(RECIPE).stages;
  const [bootstrap] = stages;
  const own = stages.find((s) => s.stage === 'packages');
  assert.deepEqual(bootstrap?.options.packages, ['dbus', 'dosfstools', 'e2fsprogs', 'libpam-systemd', 'linux-image-amd64', 'systemd-sysv', 'udev', 'zstd']);
  assert.equal(own?.stage, 'packages');
  assert.deepEqual(own?.options, { release: 'trixie', arch: 'amd64', set: 'recipe', packages: ['curl', 'systemd-boot-efi', 'vim'], pins: [], autoInstalled: [] });
});

void test("the disk's fsck programs are in the base system, and the initramfs checks the root's file system before mounting it", () => {
  const options = (m: Manifest, stage: string) => m.stages.find((s) => s.stage === stage)?.options;
  const m = plan(RECIPE);
  assert.deepEqual(options(m, 'kernel')?.fsckTypes, ['ext4']);
  // An A/B disk's root slot counts, though the fstab has no entry for it.
  const ab = plan(`name: ab\nbootloader: grub-efi\ndisk:\n  layout: ab\n  partitions:\n    - { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi }\n    - { name: root, type: root, size: 1G, fs: ext4, mount: / }\n`);
  assert.deepEqual(options(ab, 'kernel')?.fsckTypes, ['ext4']);
  assert.ok((options(ab, 'bootstrap')?.packages as string[]).includes('e2fsprogs'));
  // No FAT partition: no dosfstools.
  const bios = plan(`name: m\nbootloader: grub-bios\ndisk:\n  table: mbr\n  partitions:\n    - { name: swap, type: swap, size: 64M }\n    - { name: root, size: rest, fs: ext4, mount: / }\n`);
  assert.deepEqual((options(bios, 'bootstrap')?.packages as string[]).filter((p) => p === 'e2fsprogs' || p === 'dosfstools'), ['e2fsprogs']);
  // A container image has no disk to check.
  const container = plan('name: c\noutputs: [oci]\n');
  assert.ok(!(options(container, 'bootstrap')?.packages as string[]).includes('e2fsprogs'));
});

void test('the kernel command line finds root by its PARTUUID', () => {
  const m = plan(RECIPE);
  const boot = m.stages.find((s) => s.stage === 'systemd-boot')?.options as { cmdline: string[] };
  const disk = m.stages.find((s) => s.stage === 'partition-table')?.options as { partitions: { name: string; partUuid: string }[] };
  const root = disk.partitions.find((p) => p.name === 'root');
  assert.match(root?.partUuid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(boot.cmdline[0], `root=PARTUUID=${root?.partUuid}`);
});

void test('on MBR, PARTUUID is the disk id and the partition number, and /boot gets the boot flag', () => {
  const m = plan(`name: m\nbootloader: grub-bios\ndisk:\n  table: mbr\n  partitions:\n    - { name: swap, type: swap, size: 64M }\n    - { name: root, size: rest, fs: ext4, mount: / }\n`);
  const disk = m.stages.find((s) => s.stage === 'partition-table')?.options as { diskId: string; partitions: { type: string; partUuid: string; bootable: boolean }[] };
  assert.match(disk.diskId, /^[0-9a-f]{8}$/);
  assert.deepEqual(disk.partitions.map((p) => [p.type, p.partUuid, p.bootable]), [['82', `${disk.diskId}-01`, false], ['83', `${disk.diskId}-02`, true]]);
  const grub = m.stages.find((s) => s.stage === 'grub')?.options as { cmdline: string[]; platforms: string[] };
  assert.equal(grub.cmdline[0], `root=PARTUUID=${disk.diskId}-02`);
  assert.deepEqual(grub.platforms, ['i386-pc']);
  assert.deepEqual(m.stages.map((s) => s.stage).slice(-3), ['partition-table', 'filesystems', 'grub-bios-install']);
  assert.ok(plannedPackages(m.stages).includes('grub-pc-bin'));
});

// Each built-in layer, planned on its own: what it adds, and who the record says asked for it.
const BUILTIN: [string, (m: Manifest) => void][] = [
  // Every bootable image gets D-Bus from kiln (the release table); base asks for it too, for containers.
  ['base', (m) => assert.deepEqual(m.provenance.packages.dbus, ['kiln', 'base'])],
  ['systemd-networkd', (m) => assert.ok(m.provenance.operations.some((o) => o.op === 'enable-service' && o.target === 'systemd-networkd' && o.layers[0] === 'systemd-networkd'))],
  [
    'ssh-server',
    (m) => {
      assert.deepEqual(m.provenance.packages['openssh-server'], ['ssh-server']);
      // Host keys are kiln's own business, for every image: the stage runs after all tree stages
      // but update-done, which marks the finished tree.
      const at = (name: string) => m.stages.findIndex((s) => s.stage === name);
      assert.equal(at('ssh-host-keys'), at('partition-table') - 2);
      assert.equal(at('update-done'), at('partition-table') - 1);
      assert.ok(JSON.stringify(options(m, 'files')).includes('Port 22'));
    },
  ],
  ['serial-console', (m) => assert.deepEqual((options(m, 'systemd-boot').cmdline as string[]).slice(2), ['console=tty0', 'console=ttyS0,115200'])],
  ['growroot', (m) => assert.ok(plannedPackages(m.stages).includes('fdisk') && !plannedPackages(m.stages).includes('cloud-guest-utils'))],
  ['cloud-init', (m) => assert.ok(JSON.stringify(options(m, 'files')).includes('datasource_list: [ NoCloud'))],
  ['devuser', (m) => assert.ok(m.provenance.operations.some((o) => o.op === 'create-user' && o.target === 'dev' && o.layers[0] === 'devuser'))],
  ['slim', (m) => assert.ok((options(m, 'bootstrap').dpkgExclude as string[]).includes('/usr/share/doc/*'))],
  ['kiosk', (m) => assert.ok(JSON.stringify(options(m, 'files')).includes('chromium --kiosk'))],
  ['container-host', (m) => assert.deepEqual(m.provenance.packages.podman, ['container-host'])],
];

function options(m: Manifest, stage: string): Record<string, unknown> {
  const found = m.stages.find((s) => s.stage === stage);
  assert.ok(found, `the plan has a ${stage} stage`);
  return found.options;
}

for (const [layer, check] of BUILTIN) {
  void test(`built-in layer ${layer} plans`, () => {
    const m = plan(`name: t\nlayers: [${layer}]\n`);
    assert.equal(m.layers.at(-1)?.name, layer);
    assert.notEqual(m.layers.at(-1)?.description, '');
    check(m);
  });
}

void test('every example recipe plans', () => {
  const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
  const recipes = readdirSync(examples).filter((f) => f.endsWith('.yaml'));
  assert.ok(recipes.includes('kiosk.yaml') && recipes.includes('cloud.yaml'));
  for (const file of recipes) {
    const m = checkedManifest(loadRecipe(join(examples, file), { env: {} }));
    assert.equal(`${m.name}.yaml`, file);
  }
});

void test('a lock pins every package it names, and keeps what the recipe adds', () => {
  const loaded = parseRecipe('r.yaml', 'name: l\npackages: [vim, curl]\n', folder, { env: {} });
  const lock = {
    kilnLock: 1 as const,
    distro: { name: 'debian', release: 'bookworm', mirror: 'http://deb.debian.org/debian' },
    arch: 'amd64',
    packages: [{ name: 'vim', version: '2:9.0.1378-2', arch: 'amd64', sha256: 'a'.repeat(64) }],
  };
  const packages = plannedPackages(checkedManifest(loaded, lock).stages);
  assert.ok(packages.includes('vim=2:9.0.1378-2'));
  assert.ok(!packages.includes('vim'));
  assert.ok(packages.includes('curl'));
  // A lock older than package sets: what it names goes into the base.
  assert.ok((checkedManifest(loaded, lock).stages[0]?.options.packages as string[]).includes('vim=2:9.0.1378-2'));
});

void test('package sets: the base system, then each layer that names packages, then the recipe; a lock puts each package back in its set', () => {
  const loaded = parseRecipe('r.yaml', 'name: l\nlayers: [growroot, vm]\npackages: [vim, fdisk, zstd]\n', folder, { env: {} });
  const sets = (m: Manifest) => m.stages.filter((s) => s.stage === 'bootstrap' || s.stage === 'packages').map((s) => [s.options.set ?? 'base', (s.options.packages as string[]).join(' ')]);
  // fdisk: growroot asked first; zstd and e2fsprogs: the base system has them; vm names no package, so no stage.
  assert.deepEqual(sets(checkedManifest(loaded)), [
    ['base', 'dbus dosfstools e2fsprogs libpam-systemd linux-image-amd64 systemd-sysv udev zstd'],
    ['layer growroot', 'fdisk'],
    ['recipe', 'systemd-boot-efi vim'],
  ]);
  const deb = (name: string, set: string, auto?: true) => ({ name, version: '1', arch: 'amd64', sha256: 'a'.repeat(64), set, ...(auto ? { auto } : {}) });
  const lock = {
    kilnLock: 1 as const,
    distro: { name: 'debian', release: 'trixie', mirror: 'http://deb.debian.org/debian' },
    arch: 'amd64',
    packages: [deb('udev', 'base'), deb('libfdisk1', 'layer growroot', true), deb('fdisk', 'layer growroot'), deb('vim', 'recipe'), deb('gone', 'layer removed')],
  };
  const locked = checkedManifest(loaded, lock);
  assert.deepEqual(sets(locked), [
    ['base', 'dbus dosfstools e2fsprogs libpam-systemd linux-image-amd64 systemd-sysv udev=1 zstd'],
    ['layer growroot', 'fdisk=1 libfdisk1=1'],
    ['recipe', 'gone=1 systemd-boot-efi vim=1'],
  ]);
  assert.deepEqual(locked.stages[1]?.options.autoInstalled, ['libfdisk1']);
  // Adding a package to the recipe changes only the recipe's set: the stages before it keep their
  // ids, the kernel stage (the initramfs) among them.
  const more = checkedManifest(parseRecipe('r.yaml', 'name: l\nlayers: [growroot, vm]\npackages: [vim, fdisk, zstd, curl]\n', folder, { env: {} }));
  const ids = (m: Manifest) => m.stages.map((s) => s.id);
  assert.deepEqual(more.stages.slice(0, 5).map((s) => s.stage), ['bootstrap', 'packages', 'fstab', 'kernel', 'packages']);
  assert.deepEqual(ids(more).slice(0, 4), ids(checkedManifest(loaded)).slice(0, 4));
  assert.notEqual(ids(more)[4], ids(checkedManifest(loaded))[4]);
});

void test('SOURCE_DATE_EPOCH: from the environment, else the lock, else the Release file (null); a lock marks its dependencies auto again', () => {
  const loaded = parseRecipe('r.yaml', 'name: l\npackages: [vim]\n', folder, { env: {} });
  const lock = {
    kilnLock: 1 as const,
    distro: { name: 'debian', release: 'bookworm', mirror: 'http://deb.debian.org/debian' },
    arch: 'amd64',
    sourceDateEpoch: 1783764997,
    packages: [
      { name: 'vim', version: '2:9.0.1378-2', arch: 'amd64', sha256: 'a'.repeat(64) },
      { name: 'vim-runtime', version: '2:9.0.1378-2', arch: 'all', sha256: 'b'.repeat(64), auto: true as const },
    ],
  };
  const bootstrap = (m: Manifest) => m.stages[0]?.options as { sourceDateEpoch: number | null; autoInstalled: string[] };
  assert.equal(bootstrap(checkedManifest(loaded)).sourceDateEpoch, null);
  assert.deepEqual(bootstrap(checkedManifest(loaded)).autoInstalled, []);
  assert.equal(bootstrap(checkedManifest(loaded, lock, lock.sourceDateEpoch)).sourceDateEpoch, 1783764997);
  assert.deepEqual(bootstrap(checkedManifest(loaded, lock)).autoInstalled, ['vim-runtime']);
  const ids = [checkedManifest(loaded), checkedManifest(loaded, undefined, 1), checkedManifest(loaded, undefined, 2)].map((m) => m.stages[0]?.id);
  assert.equal(new Set(ids).size, 3, 'the epoch is part of the bootstrap id');
});

void test('SOURCE_DATE_EPOCH must be whole seconds: anything else is exit 2 with an example', () => {
  assert.equal(sourceDateEpoch({}), undefined);
  assert.equal(sourceDateEpoch({ SOURCE_DATE_EPOCH: '' }), undefined);
  assert.equal(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' }), 1700000000);
  for (const bad of ['yesterday', '-5', '1.5', '2026-11-22']) {
    assert.throws(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: bad }), (e) => e instanceof UserError && /expected whole seconds since 1970-01-01 UTC, e\.g\. SOURCE_DATE_EPOCH=\$\(date \+%s\)/.test(e.message));
  }
});

void test("a short initramfs always holds ext4, the root's file system; Debian's default is left alone", () => {
  const modules = (text: string) => plan(text).stages.find((s) => s.stage === 'kernel')?.options.initramfsModules;
  assert.deepEqual(modules('name: a\n'), []);
  assert.deepEqual(modules('name: a\nkernel: { initramfs_modules: [virtio_blk] }\n'), ['virtio_blk', 'ext4']);
  assert.deepEqual(modules('name: a\nkernel: { initramfs_modules: [ext4, virtio_blk] }\n'), ['ext4', 'virtio_blk']);
  // An OSTree image's dracut gets the same list (its exclusive drivers).
  assert.deepEqual(modules('name: a\nbootloader: grub-efi\nostree: { ref: a/b }\noutputs: [ostree-repo]\nkernel: { initramfs_modules: [virtio_blk] }\n'), ['virtio_blk', 'ext4']);
});

void test('a live ISO: live-boot in the base set (one initramfs), isofs in a short list, the volume label and kernel arguments for the outputs stage', () => {
  const m = plan('name: my-live\nkernel: { initramfs_modules: [virtio_blk] }\noutputs: [iso]\n');
  const bootstrap = m.stages.find((s) => s.stage === 'bootstrap')?.options;
  assert.ok((bootstrap?.packages as string[]).includes('live-boot'));
  assert.deepEqual(m.stages.find((s) => s.stage === 'kernel')?.options.initramfsModules, ['virtio_blk', 'ext4', 'isofs']);
  // No disk: no partition table, file systems or disk boot loader.
  assert.deepEqual(m.stages.filter((s) => ['partition-table', 'filesystems', 'systemd-boot', 'fstab'].includes(s.stage)), []);
  const outputs = m.stages.find((s) => s.stage === 'outputs')?.options;
  assert.deepEqual(outputs?.live, { label: 'KILN_MY_LIVE', title: 'my-live', cmdline: ['console=tty0', 'console=ttyS0,115200'] });
  // Debian's default initramfs has isofs already; a recipe without iso is unchanged.
  assert.deepEqual(plan('name: a\noutputs: [iso]\n').stages.find((s) => s.stage === 'kernel')?.options.initramfsModules, []);
  assert.ok(!(plan('name: a\n').stages.find((s) => s.stage === 'bootstrap')?.options.packages as string[]).includes('live-boot'));
});

void test('an installer ISO: a disk, live-boot, its own volume label, the growing partition and the installer\'s hash', () => {
  const m = plan('name: box\ndisk: { partitions: [{ name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi }, { name: root, type: root, size: rest, fs: ext4, mount: /, grow: true }] }\noutputs: [installer-iso]\ninstaller: { target: /dev/sda }\n');
  assert.ok((m.stages.find((s) => s.stage === 'bootstrap')?.options.packages as string[]).includes('live-boot'));
  assert.ok(m.stages.some((s) => s.stage === 'partition-table'));
  const outputs = m.stages.find((s) => s.stage === 'outputs')?.options;
  assert.equal(outputs?.image, 'box.raw');
  assert.deepEqual(outputs?.installer, { label: 'KILN_BOX_INSTALL', target: '/dev/sda', confirm: false, poweroff: true, grow: { partition: 2, fs: 'ext4' }, script: INSTALLER_SCRIPT_SHA256 });
  // Without grow and without settings: the defaults.
  assert.deepEqual(plan('name: box\noutputs: [installer-iso]\n').stages.find((s) => s.stage === 'outputs')?.options.installer, { label: 'KILN_BOX_INSTALL', target: 'auto', confirm: false, poweroff: true, grow: null, script: INSTALLER_SCRIPT_SHA256 });
});

void test('an OSTree disk: the commit is deployed, and the disk is made from the sysroot; a plain disk is not', () => {
  const m = plan('name: e\nostree: { ref: os/edge, url: "http://10.0.2.2:8000/repo" }\nbootloader: grub-efi\noutputs: [ostree-repo, raw]\n');
  assert.deepEqual(m.stages.map((s) => s.stage).slice(-5), ['ostree-commit', 'ostree-deploy', 'partition-table', 'filesystems', 'outputs']);
  const deploy = options(m, 'ostree-deploy');
  const root = (options(m, 'filesystems').partitions as { mount?: string; uuid: string }[]).find((p) => p.mount === '/');
  assert.deepEqual([deploy.remote, deploy.bootPath, deploy.bootUuid, deploy.esp], ['e', '/boot', root?.uuid, '/boot/efi']);
  assert.equal(options(m, 'partition-table').from, 'sysroot');
  assert.equal(options(m, 'filesystems').from, 'sysroot');
  const plain = plan('name: p\nbootloader: grub-efi\n');
  assert.equal(options(plain, 'filesystems').from, undefined, "a plain disk's stage id is what it was");
});

void test('an OSTree commit-only build makes the same tree as one with the deployed disk: fstab and GRUB settings included', () => {
  const recipe = 'name: e\nostree: { ref: os/edge }\nbootloader: grub-efi\noutputs: ';
  const upTo = (m: ReturnType<typeof plan>) => m.stages.slice(0, m.stages.findIndex((s) => s.stage === 'ostree-commit')).map((s) => s.id);
  const commitOnly = plan(`${recipe}[ostree-repo]\n`);
  assert.deepEqual(upTo(commitOnly), upTo(plan(`${recipe}[ostree-repo, raw]\n`)));
  assert.ok(['fstab', 'grub'].every((name) => commitOnly.stages.some((s) => s.stage === name)));
  // Another bootloader cannot boot a deployment kiln makes: such a commit keeps the image's own fstab.
  assert.ok(!plan('name: e\nostree: { ref: os/edge }\noutputs: [ostree-repo]\n').stages.some((s) => s.stage === 'fstab'));
  // A container image (no disk, no commit) has neither.
  assert.ok(!plan('name: c\nkernel: { package: none }\nbootloader: none\noutputs: [tar]\n').stages.some((s) => s.stage === 'fstab' || s.stage === 'grub'));
});

void test('fstab: the ESP is mounted on first use (automount, unmounted when idle); other FAT partitions and options the recipe gives as they are', () => {
  const m = plan(`name: f
disk:
  partitions:
    - { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi }
    - { name: root, type: root, size: 1G, fs: ext4, mount: / }
    - { name: share, type: linux, size: 64M, fs: vfat, mount: /srv/share }
    - { name: data, type: linux, size: 64M, fs: vfat, mount: /srv/data, options: noatime }
`);
  const entries = options(m, 'fstab').entries as { mount: string; options: string }[];
  assert.deepEqual(
    entries.map((e) => [e.mount, e.options]),
    [
      ['/', 'errors=remount-ro'],
      ['/boot/efi', 'umask=0077,x-systemd.automount,x-systemd.idle-timeout=2min'],
      ['/srv/data', 'noatime'],
      ['/srv/share', 'umask=0077'],
    ],
  );
});

void test("an OSTree container: made from the commit, for the recipe's release and architecture; no outputs stage without a disk", () => {
  const m = plan('name: e\narch: arm64\ndistro: { release: bookworm }\nostree: { ref: os/edge }\noutputs: [ostree-repo, ostree-container]\n');
  assert.deepEqual(m.stages.map((s) => s.stage).slice(-2), ['ostree-commit', 'ostree-container']);
  assert.deepEqual(options(m, 'ostree-container'), { name: 'e', release: 'bookworm', mirror: 'http://deb.debian.org/debian', arch: 'arm64', sign: null });
  assert.ok(!plan('name: e\nostree: { ref: os/edge }\noutputs: [ostree-repo]\n').stages.some((s) => s.stage === 'ostree-container'));
});
