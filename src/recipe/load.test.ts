import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UserError } from '../errors.js';
import { parseRecipe } from './load.js';

// A recipe folder with one overlay folder, one file and one hook, and a file outside it.
const outside = mkdtempSync(join(tmpdir(), 'kiln-recipe-'));
after(() => rmSync(outside, { recursive: true, force: true }));
const folder = join(outside, 'recipe');
mkdirSync(join(folder, 'overlay'), { recursive: true });
writeFileSync(join(folder, 'motd'), 'hi\n');
writeFileSync(join(folder, 'hook.sh'), '#!/bin/sh\n');
writeFileSync(join(outside, 'secret'), 'x');

function errorOf(text: string, options: Parameters<typeof parseRecipe>[3] = {}): string {
  try {
    parseRecipe('r.yaml', text, folder, { env: {}, ...options });
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    return err.message;
  }
  return 'no error';
}

const CASES: [string, string, string][] = [
  ['unknown key, near a valid one', 'name: a\nhostnme: x\n', 'r.yaml:2:1 hostnme: unknown key (did you mean "hostname"?)'],
  ['unknown nested key', 'name: a\ndistro:\n  relase: trixie\n', 'r.yaml:3:3 distro.relase: unknown key (did you mean "release"?)'],
  ['unknown key, nothing near', 'name: a\nzzzzzzzz: 1\n', 'r.yaml:2:1 zzzzzzzz: unknown key (valid keys: name, distro, arch, layers, packages, exclude, include, hostname, timezone, locale, keyboard, ntp, root_password, root_password_hash, groups, users, services, firewall, directories, files, apt, hooks, ansible, kernel, disk, bootloader, secure_boot, outputs, installer, ostree, health, compress, sbom, variables)'],
  ['missing name', 'hostname: x\n', 'r.yaml:1:1 name: is required'],
  ['wrong type', 'name: a\npackages: vim\n', 'r.yaml:2:11 packages: expected a list, got "vim"'],
  ['bad name', 'name: My Image\n', 'r.yaml:1:7 name: "My Image" is not a valid name (lowercase letters, digits, ".", "_" and "-", starting with a letter or digit)'],
  ['bad variant', 'name: a\ndistro: { variant: tiny }\n', 'r.yaml:2:20 distro.variant: "tiny" is not valid (supported: minbase, essential, important, standard, required, buildd)'],
  ['bad size', 'name: a\ndisk:\n  partitions:\n    - { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi }\n    - { name: root, size: 10X, fs: ext4, mount: / }\n', 'r.yaml:5:27 disk.partitions[1].size: "10X" is not a size (examples: 512M, 2G, 30%, rest)'],
  ['bad disk size', 'name: a\ndisk: { size: huge }\n', 'r.yaml:2:15 disk.size: "huge" is not a size (examples: auto, 2G, 1500M)'],
  [
    'partitions do not fit',
    'name: a\ndisk:\n  size: 300M\n  partitions:\n    - { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi }\n    - { name: root, size: 100M, fs: ext4, mount: / }\n',
    'r.yaml:3:9 disk.size: partitions need 358 MiB but disk.size is 300 MiB (58 MiB too much)',
  ],
  [
    'two rest partitions',
    'name: a\nbootloader: systemd-boot\ndisk:\n  partitions:\n    - { name: esp, type: esp, size: rest, fs: vfat, mount: /boot/efi }\n    - { name: root, size: rest, fs: ext4, mount: / }\n',
    'r.yaml:6:27 disk.partitions[1].size: only one partition can have size "rest" (partitions[0] and partitions[1] do)',
  ],
  [
    'no root mount',
    'name: a\ndisk:\n  partitions:\n    - { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi }\n    - { name: data, size: rest, fs: ext4, mount: /srv }\n',
    'r.yaml:4:5 disk.partitions: no partition is mounted at "/" (add one with mount: /)',
  ],
  ['files.src missing', 'name: a\nfiles:\n  - { src: nope, dst: /etc/nope }\n', 'r.yaml:3:12 files[0].src: "nope" does not exist (paths are relative to the recipe file)'],
  ['files.src escapes', 'name: a\nfiles:\n  - { src: ../secret, dst: /etc/x }\n', `r.yaml:3:12 files[0].src: "../secret" leaves the recipe's folder; keep referenced files inside it`],
  ['hook missing', 'name: a\nhooks:\n  customize: [hooks/nope.sh]\n', 'r.yaml:3:15 hooks.customize[0]: "hooks/nope.sh" does not exist (paths are relative to the recipe file)'],
  ['hook escapes', 'name: a\nhooks:\n  image: [../secret]\n', `r.yaml:3:11 hooks.image[0]: "../secret" leaves the recipe's folder; keep referenced files inside it`],
  ['unset variable', 'name: a\nhostname: ${HOST}\n', 'r.yaml:2:11 hostname: variable HOST is not set (set it with --set HOST=VALUE or KILN_VAR_HOST=VALUE, or write ${HOST:-default})'],
  ['bad user name', 'name: a\nusers:\n  - name: Admin\n', 'r.yaml:3:11 users[0].name: "Admin" is not a valid user name (lowercase letters, digits, "_" and "-", starting with a letter; not root)'],
  ['bad hostname', 'name: a\nhostname: -bad-\n', 'r.yaml:2:11 hostname: "-bad-" is not a valid hostname (letters, digits and "-", not first or last, at most 63 per dot-separated label)'],
  ['grub-bios on arm64', 'name: a\narch: arm64\nbootloader: grub-bios\ndisk:\n  table: mbr\n  partitions:\n    - { name: root, size: rest, fs: ext4, mount: / }\n', 'r.yaml:3:13 bootloader: grub-bios boots PCs with a BIOS; arm64 machines have none (use systemd-boot or grub-efi)'],
  ['unknown arch', 'name: a\narch: sparc\n', 'r.yaml:2:7 arch: "sparc" is not valid (supported: amd64, arm64, armhf, i386)'],
  ['rpi-firmware on amd64', 'name: a\nbootloader: rpi-firmware\n', 'r.yaml:2:13 bootloader: rpi-firmware boots Raspberry Pis, which are arm64 or armhf; this recipe builds amd64 (set arch: arm64)'],
  ['rpi-firmware on GPT', 'name: a\narch: arm64\nbootloader: rpi-firmware\ndisk:\n  partitions:\n    - { name: firmware, size: 256M, fs: vfat, mount: /boot/firmware }\n    - { name: root, size: rest, fs: ext4, mount: / }\n', 'r.yaml:5:3 disk.table: rpi-firmware needs table: mbr (the Raspberry Pi 3 boot ROM reads only MBR disks)'],
  ['rpi-firmware without a firmware partition', 'name: a\narch: arm64\nbootloader: rpi-firmware\ndisk:\n  table: mbr\n  partitions:\n    - { name: root, size: rest, fs: ext4, mount: / }\n', 'r.yaml:7:5 disk.partitions: rpi-firmware needs a FAT partition for the firmware (add { name: firmware, type: fat32, size: 512M, fs: vfat, mount: /boot/firmware } first)'],
  ['bad initramfs module', 'name: a\nkernel:\n  initramfs_modules: [virtio_blk, "../x"]\n', 'r.yaml:3:35 kernel.initramfs_modules[1]: "../x" is not a kernel module name (e.g. virtio_blk)'],
  [
    'more than four MBR partitions',
    'name: a\nbootloader: grub-bios\ndisk:\n  table: mbr\n  partitions:\n    - { name: a, size: 8M }\n    - { name: b, size: 8M }\n    - { name: c, size: 8M }\n    - { name: d, size: 8M }\n    - { name: root, size: rest, fs: ext4, mount: / }\n',
    'r.yaml:6:5 disk.partitions: an MBR holds at most 4 primary partitions and this disk has 5 (use table: gpt)',
  ],
  [
    'grub-bios on GPT without bios-boot',
    'name: a\nbootloader: grub-bios\ndisk:\n  partitions:\n    - { name: root, size: rest, fs: ext4, mount: / }\n',
    'r.yaml:5:5 disk.partitions: grub-bios on a GPT disk needs a bios-boot partition for its core image (add { name: bios, type: bios-boot, size: 1M } first, or use table: mbr)',
  ],
  [
    'bios-boot on MBR',
    'name: a\nbootloader: grub-bios\ndisk:\n  table: mbr\n  partitions:\n    - { name: bios, type: bios-boot, size: 1M }\n    - { name: root, size: rest, fs: ext4, mount: / }\n',
    'r.yaml:6:27 disk.partitions[0].type: "bios-boot" is a GPT partition type; on an MBR disk grub-bios puts its core image in the gap before the first partition',
  ],
  [
    'unknown MBR type',
    'name: a\nbootloader: grub-bios\ndisk:\n  table: mbr\n  partitions:\n    - { name: root, type: 0x00, size: rest, fs: ext4, mount: / }\n',
    'r.yaml:6:27 disk.partitions[0].type: "0x0" is not an MBR partition type (esp, root, swap, linux, xbootldr, data, home, srv, or a type byte such as 0x83)',
  ],
  ['grub-hybrid on MBR', 'name: a\nbootloader: grub-hybrid\ndisk: { table: mbr }\n', 'r.yaml:2:13 bootloader: grub-hybrid makes one GPT disk that boots with BIOS and UEFI; it needs table: gpt'],
  [
    'a start that is not whole MiB',
    'name: a\ndisk:\n  partitions:\n    - { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi, start: 1536K }\n    - { name: root, size: rest, fs: ext4, mount: / }\n',
    'r.yaml:4:78 disk.partitions[0].start: "1536K" is not a start (a size from the start of the disk in whole MiB, e.g. 1M, 4M, 1G)',
  ],
  ['a bad disk id', 'name: a\nbootloader: grub-bios\ndisk: { table: mbr, id: xyz, partitions: [{ name: root, size: rest, fs: ext4, mount: / }] }\n', 'r.yaml:3:25 disk.id: "xyz" is not an MBR disk id (8 hex digits, e.g. 4b494c4e)'],
  ['unknown partition table', 'name: a\ndisk: { table: apm }\n', 'r.yaml:2:16 disk.table: "apm" is not valid (supported: gpt, mbr)'],
  ['unknown output', 'name: a\noutputs: [floppy]\n', 'r.yaml:2:11 outputs[0]: "floppy" is not valid (supported: raw, qcow2, vmdk, vhdx, vdi, tar, oci, iso, installer-iso, ostree-repo, ostree-container)'],
  ['output twice', 'name: a\noutputs: [raw, qcow2, raw]\n', 'r.yaml:2:23 outputs[2]: "raw" is listed twice'],
  ['no outputs', 'name: a\noutputs: []\n', 'r.yaml:2:10 outputs: is empty; give at least one (raw, qcow2, vmdk, vhdx, vdi, tar, oci, iso, installer-iso, ostree-repo, ostree-container)'],
  ['unknown compression', 'name: a\ncompress: bzip2\n', 'r.yaml:2:11 compress: "bzip2" is not valid (supported: none, zstd, xz, gzip)'],
  [
    'image hooks without a disk',
    'name: a\noutputs: [tar]\nkernel: { package: none }\nbootloader: none\nhooks: { image: [hook.sh] }\n',
    'r.yaml:5:17 hooks.image: image hooks work on the disk image, and outputs tar make none (add raw or qcow2, or use a cleanup hook)',
  ],
  ['password and hash', 'name: a\nusers:\n  - { name: bob, password: x, password_hash: "$6$abc$def" }\n', 'r.yaml:3:5 users[0]: give password or password_hash, not both'],
  ['yaml syntax', 'name: a\npackages: [vim\n', 'r.yaml:3:1 Flow sequence in block collection must be sufficiently indented and end with a ]'],
  ['not a mapping', '- a\n- b\n', 'r.yaml:1:1 the recipe must be a mapping of keys to values (start with "name: my-image")'],
];

for (const [what, text, message] of CASES) {
  void test(`recipe error: ${what}`, () => assert.equal(errorOf(text), message));
}

void test('variables: --set wins over KILN_VAR_ wins over the recipe default wins over the inline default', () => {
  const text = 'name: a\nvariables: { H: fromrecipe }\nhostname: ${H:-inline}\n';
  const hostname = (options: Parameters<typeof parseRecipe>[3]) => parseRecipe('r.yaml', text, folder, options).recipe.hostname;
  assert.equal(hostname({ env: {}, set: { H: 'fromset' } }), 'fromset');
  assert.equal(hostname({ env: { KILN_VAR_H: 'fromenv' } }), 'fromenv');
  assert.equal(hostname({ env: {} }), 'fromrecipe');
  assert.equal(parseRecipe('r.yaml', 'name: a\nhostname: ${H:-inline}\n', folder, { env: {} }).recipe.hostname, 'inline');
  const motd = parseRecipe('r.yaml', 'name: a\nfiles: [{ dst: /etc/motd, content: "x$${H}" }]\n', folder, { env: {} });
  assert.equal(motd.recipe.files[0]?.content, 'x${H}');
});

void test('a valid recipe gets the documented defaults', () => {
  const { recipe } = parseRecipe('r.yaml', 'name: hello\n', folder, { env: {} });
  assert.equal(recipe.distro.release, 'trixie');
  assert.equal(recipe.arch, 'amd64');
  assert.equal(recipe.bootloader, 'systemd-boot');
  assert.deepEqual(recipe.outputs, ['raw']);
  assert.deepEqual(
    recipe.disk.partitions.map((p) => [p.name, p.size, p.mount]),
    [['esp', '256M', '/boot/efi'], ['root', 'rest', '/']],
  );
});

void test('every error of a recipe is reported, in one message', () => {
  // Schema errors (values outside ALLOWED) together; rules between keys together once the schema holds.
  assert.equal(errorOf('name: a\narch: sparc\ncompress: bzip2\n').split('\n').length, 2);
  assert.equal(errorOf('name: a\ntimezone: "no zone"\nhostname: -x\n').split('\n').length, 2);
});
