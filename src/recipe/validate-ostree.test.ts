/** OSTree in the recipe: every refusal with its exact message at file:line:col, and what is valid. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { recipeError } from '../testing/recipe-error.js';

const folder = mkdtempSync(join(tmpdir(), 'kiln-ostree-'));
after(() => rmSync(folder, { recursive: true, force: true }));
mkdirSync(join(folder, 'bare/objects'), { recursive: true });
writeFileSync(join(folder, 'bare/config'), '[core]\nrepo_version=1\nmode=bare\n');
mkdirSync(join(folder, 'archive/refs/heads/os/edge'), { recursive: true });
writeFileSync(join(folder, 'archive/config'), '[core]\nrepo_version=1\nmode=archive-z2\n');
writeFileSync(join(folder, 'archive/refs/heads/os/edge/amd64'), `${'a'.repeat(64)}\n`);
mkdirSync(join(folder, 'photos'));
writeFileSync(join(folder, 'photos/cat.jpg'), 'x');
mkdirSync(join(folder, 'empty'));
writeFileSync(join(folder, 'file'), 'x');

const errorOf = (text: string) => recipeError(folder, text);

const OK = 'name: a\noutputs: [ostree-repo]\n';

const CASES: [string, string, string][] = [
  ['the output without ostree', 'name: a\noutputs: [ostree-repo]\n', 'r.yaml:2:11 outputs[0]: commits the image to OSTree, which needs ostree: { ref: ... } (e.g. ref: debian/trixie/amd64/edge, repo: ./repo)'],
  ['ostree without its output', 'name: a\nostree: { ref: os/edge }\nbootloader: grub-efi\noutputs: [raw, tar]\n', 'r.yaml:2:9 ostree: makes a commit only with the ostree-repo output; add ostree-repo to outputs\nr.yaml:4:16 outputs[1]: "tar" cannot go with ostree yet: an OSTree recipe makes its commit (ostree-repo), if asked a container serving it (ostree-container) and a disk with the commit deployed (raw, qcow2, vmdk, vhdx, vdi)'],
  ['a deployed disk booted by systemd-boot', 'name: a\nostree: { ref: os/edge }\noutputs: [ostree-repo, qcow2]\n', 'r.yaml:1:1 bootloader: "systemd-boot" cannot boot an OSTree deployment: kiln boots deployments with GRUB from ext4, where OSTree keeps kernels and boot entries; use bootloader: grub-efi'],
  [
    'a deployed disk with a FAT /boot and a /home partition',
    'name: a\nostree: { ref: os/edge }\nbootloader: grub-efi\noutputs: [ostree-repo, raw]\ndisk:\n  partitions:\n    - { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi }\n    - { name: boot, type: linux, size: 512M, fs: vfat, mount: /boot }\n    - { name: root, type: root, size: 2G, fs: ext4, mount: / }\n    - { name: home, type: linux, size: rest, fs: ext4, mount: /home }\n',
    'r.yaml:8:50 disk.partitions[1].fs: "vfat" cannot hold OSTree\'s kernels and boot entries (with the loader symlink); use fs: ext4 (or ext2)\nr.yaml:10:63 disk.partitions[3].mount: "/home": a deployed OSTree disk has a root (/), an optional /boot and the ESP (/boot/efi or /efi) only; keep data under /var, which every deployment shares, or remove this partition',
  ],
  [
    'a bookworm disk with /boot on the root',
    'name: a\ndistro: { release: bookworm }\nostree: { ref: os/edge }\nbootloader: grub-efi\noutputs: [ostree-repo, raw]\n',
    "r.yaml:1:1 disk: a deployed OSTree disk of bookworm needs /boot as a partition of its own: bookworm's ostree writes boot entries relative to it, and with /boot on the root GRUB would find no kernel after the first update; add a partition { name: boot, type: linux, size: 1G, fs: ext4, mount: /boot } before the root",
  ],
  [
    "a commit-only GRUB recipe's disk, which its fstab comes from",
    'name: a\nostree: { ref: os/edge }\nbootloader: grub-efi\noutputs: [ostree-repo]\ndisk:\n  partitions:\n    - { name: esp, type: esp, size: rest, fs: vfat, mount: /boot/efi }\n    - { name: root, size: rest, fs: ext4, mount: / }\n',
    'r.yaml:8:27 disk.partitions[1].size: only one partition can have size "rest" (partitions[0] and partitions[1] do)',
  ],
  ['a ref with a space', `${OK}ostree: { ref: "os/my edge" }\n`, 'r.yaml:3:16 ostree.ref: "os/my edge" is not a valid OSTree ref: it has the component "my edge", which has a character OSTree does not allow (letters, digits, "_", "-" and "." only) (e.g. debian/trixie/amd64/edge)'],
  ['a ref that climbs', `${OK}ostree: { ref: os/../x }\n`, 'r.yaml:3:16 ostree.ref: "os/../x" is not a valid OSTree ref: it has the component "..", which does not start with a letter, digit or "_" (e.g. debian/trixie/amd64/edge)'],
  ['a ref part that starts with a dash', `${OK}ostree: { ref: os/-edge }\n`, 'r.yaml:3:16 ostree.ref: "os/-edge" is not a valid OSTree ref: it has the component "-edge", which does not start with a letter, digit or "_" (e.g. debian/trixie/amd64/edge)'],
  ['a ref that is the folder of another', `${OK}ostree: { ref: os/edge, repo: archive }\n`, 'r.yaml:3:31 ostree.repo: "archive" has refs below os/edge (amd64), so it cannot be a ref itself; choose a ref beside them'],
  ['a ref below another', `${OK}ostree: { ref: os/edge/amd64/x, repo: archive }\n`, 'r.yaml:3:39 ostree.repo: "archive" has the ref os/edge/amd64, and a ref cannot lie below another; choose a ref beside it'],
  ['compress', `${OK}ostree: { ref: os/edge }\ncompress: zstd\n`, 'r.yaml:4:11 compress: applies to raw and tar outputs, and this OSTree recipe makes neither (a commit\'s objects are compressed already); remove compress'],
  ['a ref with a trailing slash', `${OK}ostree: { ref: os/edge/ }\n`, 'r.yaml:3:16 ostree.ref: "os/edge/" is not a valid OSTree ref: it has an empty component (a leading, trailing or doubled "/") (e.g. debian/trixie/amd64/edge)'],
  ['a bare repository', `${OK}ostree: { ref: os/edge, repo: bare }\n`, 'r.yaml:3:31 ostree.repo: "bare" is an OSTree repository in mode bare, and kiln commits to archive repositories (the mode served over HTTP); give another folder, or make one with ostree init --mode=archive'],
  ['a folder that is no repository', `${OK}ostree: { ref: os/edge, repo: photos }\n`, 'r.yaml:3:31 ostree.repo: "photos" is a folder but not an OSTree repository (it has no config file); give an empty or missing folder, or one made with ostree init --mode=archive'],
  ['a file as repository', `${OK}ostree: { ref: os/edge, repo: file }\n`, 'r.yaml:3:31 ostree.repo: "file" is a file, not an OSTree repository folder; give a folder (made on the first commit if missing)'],
  ['a remote that is not a URL', `${OK}ostree: { ref: os/edge, url: "ftp://x/repo" }\n`, 'r.yaml:3:30 ostree.url: "ftp://x/repo" is not a URL a device can pull from; give an http:// or https:// URL (e.g. http://updates.example.com/repo)'],
  ['no kernel', `${OK}ostree: { ref: os/edge }\nkernel: { package: none }\nbootloader: none\n`, 'r.yaml:3:9 ostree: a commit boots its own kernel from /usr/lib/modules, and kernel.package is "none"; name a kernel package (e.g. linux-image-amd64)'],
  ['a signing key that is not there', `${OK}ostree: { ref: os/edge, sign: { key: keys/edge.asc } }\n`, 'r.yaml:3:38 ostree.sign.key: "keys/edge.asc" does not exist (paths are relative to the recipe file)'],
  ['a signing key that is a folder', `${OK}ostree: { ref: os/edge, sign: { key: photos } }\n`, 'r.yaml:3:38 ostree.sign.key: "photos" is a directory; give the file of an OpenPGP secret key (gpg --export-secret-keys --armor KEYID > key.asc)'],
  ['a unified kernel image', `${OK}ostree: { ref: os/edge }\nkernel: { uki: true }\n`, "r.yaml:4:16 kernel.uki: cannot go with ostree: a deployment's boot entries start the kernel and initramfs of the commit, not a unified kernel image; remove kernel.uki"],
];

for (const [what, text, message] of CASES) {
  void test(`ostree rule: ${what}`, () => assert.equal(errorOf(text), message));
}

void test('valid: a new, an empty and an archive repository; a remote; a version', () => {
  for (const repo of ['new', 'empty', 'archive', join(folder, 'archive')]) {
    assert.equal(errorOf(`${OK}ostree: { ref: debian/trixie/amd64/edge, repo: ${repo}, url: "http://10.0.2.2:8080/repo", version: "2.1" }\n`), 'no error', repo);
  }
  assert.equal(errorOf(`${OK}ostree: { ref: os/edge/arm64, repo: archive }\n`), 'no error', 'a ref beside another');
  const deployed = 'name: a\nostree: { ref: os/edge }\nbootloader: grub-efi\noutputs: [ostree-repo, raw, qcow2]\ncompress: zstd\n';
  assert.equal(errorOf(deployed), 'no error', 'a deployed disk, compressed');
  const boot = '\ndisk:\n  partitions:\n    - { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi }\n    - { name: boot, type: linux, size: 512M, fs: ext4, mount: /boot }\n    - { name: root, type: root, size: rest, fs: ext4, mount: / }\n';
  assert.equal(errorOf(`${deployed}${boot}`), 'no error', 'with /boot on its own partition');
  assert.equal(errorOf(`${deployed}distro: { release: bookworm }${boot}`), 'no error', 'bookworm, with /boot on its own partition');
});
