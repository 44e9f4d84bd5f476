/**
 * What the compiler makes of releases, kernel.uki and secure_boot: the packages each brings, the
 * stages and their order, and that the signing key's content never reaches the manifest.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkedManifest } from '../engine/plan.js';
import { canonicalJson } from '../host/canonical.js';
import { parseRecipe } from '../recipe/index.js';
import type { Manifest } from './compile.js';
import { plannedPackages } from './package-sets.js';

const folder = mkdtempSync(join(tmpdir(), 'kiln-manifest-boot-'));
after(() => rmSync(folder, { recursive: true, force: true }));
mkdirSync(join(folder, 'keys'));
const keyPem = createPrivateKey({ key: readFileSync('/usr/share/ovmf/PkKek-1-snakeoil.key'), passphrase: 'snakeoil' }).export({ type: 'pkcs8', format: 'pem' }).toString();
writeFileSync(join(folder, 'keys/db.key'), keyPem);
writeFileSync(join(folder, 'keys/db.crt'), readFileSync('/usr/share/ovmf/PkKek-1-snakeoil.pem'));

const plan = (text: string, set: Record<string, string> = {}): Manifest => checkedManifest(parseRecipe('r.yaml', text, folder, { env: {}, set }));
const stage = (m: Manifest, name: string) => m.stages.find((s) => s.stage === name);
const packages = (m: Manifest) => plannedPackages(m.stages).sort();
const SIGNED = 'name: u\nkernel: { uki: true }\nsecure_boot: { key: "${KEY:-keys/db.key}", cert: keys/db.crt }\n';

void test('the default release is trixie; an alias goes to mmdebstrap as written', () => {
  assert.equal((stage(plan('name: a\n'), 'bootstrap')?.options as { release: string }).release, 'trixie');
  assert.equal((stage(plan('name: a\ndistro: { release: stable }\n'), 'bootstrap')?.options as { release: string }).release, 'stable');
});

void test('a bootable image gets D-Bus and logind sessions; a container does not', () => {
  assert.ok(['dbus', 'libpam-systemd'].every((p) => packages(plan('name: a\n')).includes(p)));
  assert.ok(!packages(plan('name: c\noutputs: [tar]\nkernel: { package: none }\nbootloader: none\n')).includes('dbus'));
});

void test('kernel.uki: ukify and the EFI stub in the image; the uki stage before systemd-boot, which writes no type #1 entry', () => {
  const m = plan('name: u\nkernel: { uki: true }\n');
  assert.ok(['systemd-ukify', 'systemd-boot-efi'].every((p) => packages(m).includes(p)));
  const names = m.stages.map((s) => s.stage);
  assert.deepEqual(names.slice(names.indexOf('initramfs'), names.indexOf('initramfs') + 3), ['initramfs', 'uki', 'systemd-boot']);
  assert.equal((stage(m, 'uki')?.options as { removable: boolean }).removable, false);
  assert.equal((stage(m, 'systemd-boot')?.options as { uki: boolean }).uki, true);
  assert.match((stage(m, 'uki')?.options as { cmdline: string[] }).cmdline.join(' '), /^root=PARTUUID=[0-9a-f-]{36} rw console=tty0 console=ttyS0,115200$/);
});

void test('kernel.uki with bootloader: none makes the UKI the removable loader, and no systemd-boot stage', () => {
  const m = plan('name: u\nkernel: { uki: true }\nbootloader: none\n');
  assert.equal((stage(m, 'uki')?.options as { removable: boolean }).removable, true);
  assert.equal(stage(m, 'systemd-boot'), undefined);
  assert.ok(packages(m).includes('systemd-boot-efi'));
});

void test('own keys: the signing stage names the files and fingerprints, never the key; another key is another id', () => {
  const m = plan(SIGNED);
  const sign = stage(m, 'secure-boot-sign');
  assert.ok(sign);
  assert.deepEqual(sign.options.files, ['EFI/BOOT/BOOTX64.EFI', 'EFI/systemd/systemd-bootx64.efi', 'EFI/Linux/u.efi']);
  assert.equal(sign.options.certFingerprint, '28:2E:81:30:B7:07:0F:10:7A:AE:CC:25:D3:99:2C:A4:44:02:70:86:0B:09:08:87:92:A5:07:5F:AB:0D:13:F8');
  const body = keyPem.split('\n')[3] ?? 'missing';
  assert.ok(!canonicalJson(m).includes(body), 'no line of the key in the manifest');
  // After every stage that writes to the ESP, before the file systems are made from the tree.
  const names = m.stages.map((s) => s.stage);
  assert.deepEqual(names.slice(names.indexOf('systemd-boot'), names.indexOf('systemd-boot') + 3), ['systemd-boot', 'secure-boot-sign', 'ssh-host-keys']);
  // The same certificate with another key file content (a re-encoded copy) changes only the signing stage and those after it.
  writeFileSync(join(folder, 'keys/copy.key'), createPrivateKey(keyPem).export({ type: 'pkcs1', format: 'pem' }));
  const other = plan(SIGNED, { KEY: 'keys/copy.key' });
  const changed = m.stages.filter((s, i) => s.id !== other.stages[i]?.id).map((s) => s.stage);
  assert.equal(changed[0], 'secure-boot-sign');
});

void test('secure_boot: debian brings shim-signed, grub-efi-amd64-signed and mokutil, and a signed grub stage', () => {
  const m = plan('name: s\nbootloader: grub-efi\nsecure_boot: debian\n');
  assert.ok(['shim-signed', 'grub-efi-amd64-signed', 'mokutil', 'grub-efi-amd64-bin'].every((p) => packages(m).includes(p)));
  assert.equal((stage(m, 'grub')?.options as { signed: boolean }).signed, true);
  assert.equal(stage(m, 'secure-boot-sign'), undefined);
});

void test('initramfs-tools: the kernel stage before the recipe’s own packages, the initramfs stage after its hooks; dracut: the kernel stage after them', () => {
  const names = (text: string) => plan(text).stages.map((s) => s.stage + (s.options.set === undefined ? '' : `(${s.options.set as string})`));
  assert.deepEqual(names('name: a\nlayers: [growroot]\npackages: [vim]\nhooks: { customize: [] }\n').slice(0, 12), [
    'bootstrap',
    'packages(layer growroot)',
    'fstab',
    'kernel',
    'packages(recipe)',
    'system',
    'users',
    'files',
    'services',
    'customize-hooks',
    'initramfs',
    'systemd-boot',
  ]);
  const kernel = stage(plan('name: a\n'), 'kernel');
  assert.deepEqual(stage(plan('name: a\n'), 'initramfs')?.options, kernel?.options);
  const ostree = names('name: o\nbootloader: grub-efi\nostree: { ref: a/b }\noutputs: [ostree-repo]\n');
  assert.ok(!ostree.includes('initramfs'));
  assert.deepEqual(ostree.slice(ostree.indexOf('customize-hooks'), ostree.indexOf('customize-hooks') + 3), ['customize-hooks', 'fstab', 'kernel']);
  // No kernel: no initramfs, and the fstab where it always was.
  const container = names('name: c\nkernel: { package: none }\nbootloader: none\noutputs: [tar]\n');
  assert.ok(!container.includes('kernel') && !container.includes('initramfs'));
});
