/**
 * Releases, unified kernel images and Secure Boot in the recipe: every refusal with its exact
 * message at file:line:col. The key pair is Debian ovmf's snakeoil pair (its key decrypted here).
 */
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { recipeError } from '../testing/recipe-error.js';

const SNAKEOIL = '/usr/share/ovmf/PkKek-1-snakeoil';
const folder = mkdtempSync(join(tmpdir(), 'kiln-sb-'));
after(() => rmSync(folder, { recursive: true, force: true }));
mkdirSync(join(folder, 'keys'));
mkdirSync(join(folder, 'overlay/etc'), { recursive: true });
const encrypted = readFileSync(`${SNAKEOIL}.key`);
writeFileSync(join(folder, 'keys/db.key'), createPrivateKey({ key: encrypted, passphrase: 'snakeoil' }).export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(join(folder, 'keys/db.crt'), readFileSync(`${SNAKEOIL}.pem`));
writeFileSync(join(folder, 'keys/encrypted.key'), encrypted);
writeFileSync(join(folder, 'keys/other.key'), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(join(folder, 'keys/ec.key'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(join(folder, 'keys/not-a-cert.crt'), 'hello\n');
writeFileSync(join(folder, 'overlay/etc/db.key'), readFileSync(join(folder, 'keys/db.key')));

const errorOf = (text: string) => recipeError(folder, text);

const UKI = 'name: a\nkernel: { uki: true }\n';
const OWN = 'secure_boot: { key: keys/db.key, cert: keys/db.crt }\n';

const CASES: [string, string, string][] = [
  ['unknown release', 'name: a\ndistro: { release: buster }\n', 'r.yaml:2:20 distro.release: "buster" is not a Debian release kiln builds (bookworm, trixie, forky, sid, or oldstable, stable, testing, unstable)'],
  [
    'uki with grub-efi',
    `${UKI}bootloader: grub-efi\n`,
    'r.yaml:2:16 kernel.uki: grub-efi cannot start a unified kernel image; use bootloader: systemd-boot (it finds EFI/Linux/*.efi itself), or bootloader: none (the UKI boots as EFI/BOOT/BOOTX64.EFI), or remove kernel.uki',
  ],
  [
    'uki with grub-bios',
    `${UKI}bootloader: grub-bios\ndisk: { table: mbr, partitions: [{ name: root, size: rest, fs: ext4, mount: / }] }\n`,
    'r.yaml:2:16 kernel.uki: grub-bios cannot start a unified kernel image; use bootloader: systemd-boot (it finds EFI/Linux/*.efi itself), or bootloader: none (the UKI boots as EFI/BOOT/BOOTX64.EFI), or remove kernel.uki\nr.yaml:4:33 disk.partitions: a unified kernel image (kernel.uki) needs an EFI system partition (add { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi })',
  ],
  [
    'uki on bookworm',
    `${UKI}distro: { release: bookworm }\n`,
    'r.yaml:2:16 kernel.uki: bookworm has no systemd-ukify (it came with systemd 253; this release has 252); use distro.release: trixie, or remove kernel.uki',
  ],
  [
    'uki on oldstable names the codename',
    `${UKI}distro: { release: oldstable }\n`,
    'r.yaml:2:16 kernel.uki: oldstable (bookworm) has no systemd-ukify (it came with systemd 253; this release has 252); use distro.release: trixie, or remove kernel.uki',
  ],
  [
    'secure boot with grub-bios',
    'name: a\nbootloader: grub-bios\nsecure_boot: debian\ndisk: { table: mbr, partitions: [{ name: root, size: rest, fs: ext4, mount: / }] }\n',
    'r.yaml:3:14 secure_boot: Secure Boot is a UEFI feature and grub-bios boots with a BIOS; use bootloader: grub-efi (secure_boot: debian) or systemd-boot (secure_boot: { key, cert }), or remove secure_boot',
  ],
  [
    'debian chain with systemd-boot',
    'name: a\nsecure_boot: debian\n',
    'r.yaml:2:14 secure_boot: "debian" boots Debian\'s signed GRUB through shim and needs bootloader: grub-efi (for systemd-boot, sign with your own keys: secure_boot: { key: db.key, cert: db.crt })',
  ],
  ['own keys without a UKI', `name: a\n${OWN}`, 'r.yaml:2:14 secure_boot: with your own keys kiln signs a unified kernel image, whose signature covers the kernel, its initramfs and its command line; set kernel.uki: true'],
  ['own keys with grub-efi', `name: a\nbootloader: grub-efi\n${OWN}`, 'r.yaml:3:14 secure_boot: kiln signs systemd-boot and the UKI with your keys; grub-efi is not signed (use bootloader: systemd-boot with kernel.uki: true, or secure_boot: debian with grub-efi)'],
  ['missing key', `${UKI}secure_boot: { key: keys/none.key, cert: keys/db.crt }\n`, 'r.yaml:3:21 secure_boot.key: "keys/none.key" does not exist (paths are relative to the recipe file)'],
  ['a folder as cert', `${UKI}secure_boot: { key: keys/db.key, cert: keys }\n`, 'r.yaml:3:40 secure_boot.cert: "keys" is a directory, not a certificate file'],
  ['not a certificate', `${UKI}secure_boot: { key: keys/db.key, cert: keys/not-a-cert.crt }\n`, 'r.yaml:3:40 secure_boot.cert: "keys/not-a-cert.crt" is not an X.509 certificate in PEM form (make a pair with: openssl req -new -x509 -newkey rsa:2048 -nodes -subj "/CN=my db key/" -days 3650 -keyout db.key -out db.crt)'],
  [
    'an encrypted key',
    `${UKI}secure_boot: { key: keys/encrypted.key, cert: keys/db.crt }\n`,
    "r.yaml:3:21 secure_boot.key: \"keys/encrypted.key\" is encrypted; sbsign signs unattended and needs an unencrypted key: openssl pkey -in keys/encrypted.key -out keys/encrypted.key.plain (keep it out of the image's files)",
  ],
  ['an EC key', `${UKI}secure_boot: { key: keys/ec.key, cert: keys/db.crt }\n`, 'r.yaml:3:21 secure_boot.key: "keys/ec.key" is a ec key; UEFI firmware verifies RSA signatures only (make an RSA 2048 key)'],
  [
    'key and cert that do not match',
    `${UKI}secure_boot: { key: keys/other.key, cert: keys/db.crt }\n`,
    'r.yaml:3:43 secure_boot.cert: "keys/db.crt" does not belong to the key keys/other.key (the certificate\'s public key is another one: C=US, ST=Colorado, L=Fort Collins, O=SnakeOil)',
  ],
  [
    'a key the image copies',
    `${UKI}secure_boot: { key: overlay/etc/db.key, cert: keys/db.crt }\nfiles: [{ src: overlay/, dst: / }]\n`,
    `r.yaml:3:21 secure_boot.key: "overlay/etc/db.key" is inside ${folder}/overlay, which files: copies into the image; keep the private key out of every folder the image is made from`,
  ],
  ['a live ISO without a kernel', 'name: a\nkernel: { package: none }\nbootloader: none\noutputs: [iso]\n', 'r.yaml:4:11 outputs[0]: a live ISO boots the image\'s own kernel, and kernel.package is "none"; name a kernel package (e.g. linux-image-amd64) or remove iso'],
  ['a live ISO for arm64', 'name: a\narch: arm64\noutputs: [raw, iso]\n', 'r.yaml:3:16 outputs[1]: kiln makes ISOs for PCs (amd64: GRUB for BIOS and UEFI); this recipe builds arm64, so use raw or qcow2 (written to the disk or SD card with bmaptool)'],
  ['a live ISO of Ubuntu', 'name: a\ndistro: { name: ubuntu, release: noble }\noutputs: [iso]\n', "r.yaml:3:11 outputs[0]: an ISO finds its root with Debian's live-boot, which ubuntu does not ship; use distro: debian or remove iso"],
  ['an installer ISO without a kernel', 'name: a\nkernel: { package: none }\nbootloader: none\noutputs: [installer-iso]\n', 'r.yaml:4:11 outputs[0]: an installer ISO boots the image\'s own kernel, and kernel.package is "none"; name a kernel package (e.g. linux-image-amd64) or remove installer-iso'],
  ['an installer ISO of a disk nothing starts', 'name: a\nbootloader: none\noutputs: [installer-iso]\n', 'r.yaml:3:11 outputs[0]: installs a disk that nothing starts (bootloader: none without kernel.uki); choose a bootloader (systemd-boot, grub-efi, grub-hybrid) or set kernel.uki: true'],
  ['installer settings without an installer ISO', 'name: a\ninstaller: { target: auto }\n', 'r.yaml:2:12 installer: applies only to the installer-iso output; add installer-iso to outputs or remove installer'],
  ['an installer target that is not a device', 'name: a\noutputs: [installer-iso]\ninstaller: { target: sda }\n', 'r.yaml:3:22 installer.target: "sda" is not a disk; give a device path (e.g. /dev/sda, /dev/nvme0n1, /dev/disk/by-path/...) or auto'],
  ['an unattended installer that reboots into itself', 'name: a\noutputs: [installer-iso]\ninstaller: { poweroff: false }\n', 'r.yaml:3:24 installer.poweroff: is false with confirm: false, so after installing the machine would restart from the installer medium and install again without asking; set poweroff: true, or confirm: true'],
  ['an installer ISO of a disk larger than ISO 9660 allows', 'name: a\noutputs: [installer-iso]\ndisk: { size: 9T }\n', 'r.yaml:3:15 disk.size: "9T" is larger than an ISO 9660 medium can hold (8T) for installer-iso; make the disk smaller (the installer can grow the last partition with grow: true)'],
  ['a key outside the recipe folder', `${UKI}secure_boot: { key: ../db.key, cert: keys/db.crt }\n`, "r.yaml:3:21 secure_boot.key: \"../db.key\" leaves the recipe's folder; keep referenced files inside it"],
];

for (const [what, text, message] of CASES) {
  void test(`boot rule: ${what}`, () => assert.equal(errorOf(text), message));
}

void test('valid: a signed UKI with systemd-boot, a UKI without a boot loader, Debian\'s chain with grub-efi, every alias', () => {
  for (const text of [`${UKI}${OWN}`, `${UKI}bootloader: none\n${OWN}`, 'name: a\nbootloader: grub-efi\nsecure_boot: debian\n', 'name: a\ndistro: { release: stable }\n', 'name: a\ndistro: { release: unstable }\n', 'name: a\noutputs: [raw, installer-iso]\ninstaller: { target: /dev/disk/by-path/pci-0000:00:04.0, confirm: true, poweroff: false }\n']) {
    assert.equal(errorOf(text), 'no error', text);
  }
});
