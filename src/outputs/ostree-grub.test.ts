import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deploymentGrubCfg, grubDefaults, grubEnvBlock, loaderGrubCfg, parseBootEntry } from './ostree-grub.js';

const entry = (version: number) =>
  `title Debian GNU/Linux 13 (trixie) (ostree:${version})\nversion ${version}\noptions root=UUID=abc rw ostree=/ostree/boot.1/debian/ff/${version}\nlinux /ostree/debian-ff/vmlinuz-6.12.0-amd64\ninitrd /ostree/debian-ff/initramfs-6.12.0-amd64.img\n`;

void test('a boot entry becomes a menu entry with its kernel, initramfs and options, under /boot of the root file system', () => {
  const cfg = deploymentGrubCfg({ bootUuid: 'abc', bootPath: '/boot', serial: false, entries: [parseBootEntry('ostree-1.conf', entry(1))] });
  assert.match(cfg, /^search --no-floppy --fs-uuid --set=root abc$/m);
  assert.match(cfg, /^menuentry 'Debian GNU\/Linux 13 \(trixie\) \(ostree:1\)' \{\n {2}linux \/boot\/ostree\/debian-ff\/vmlinuz-6\.12\.0-amd64 root=UUID=abc rw ostree=\/ostree\/boot\.1\/debian\/ff\/1\n {2}initrd \/boot\/ostree\/debian-ff\/initramfs-6\.12\.0-amd64\.img\n\}$/m);
  assert.doesNotMatch(cfg, /serial/);
});

void test('the newest deployment (highest version) is the first entry, the default; serial when asked', () => {
  const cfg = deploymentGrubCfg({ bootUuid: 'abc', bootPath: '', serial: true, entries: [parseBootEntry('a.conf', entry(1)), parseBootEntry('b.conf', entry(2))] });
  const [newest, older] = [cfg.indexOf('(ostree:2)'), cfg.indexOf('(ostree:1)')];
  assert.ok(newest >= 0 && older > newest, cfg);
  assert.match(cfg, /^terminal_output serial console$/m);
  assert.match(cfg, /^ {2}linux \/ostree\/debian-ff\/vmlinuz/m, 'a /boot partition: paths as OSTree wrote them');
});

void test('an entry without a kernel line is an error that names the file', () => {
  assert.throws(() => parseBootEntry('ostree-1.conf', 'title x\noptions a\ninitrd /i\n'), /boot entry ostree-1\.conf has no linux line/);
});

void test("the deployed disk's fixed grub.cfg reads the current boot configuration's menu, on the root or a /boot partition", () => {
  assert.match(loaderGrubCfg({ bootPath: '/boot' }), /^source \/boot\/loader\/grub\.cfg$/m);
  assert.match(loaderGrubCfg({ bootPath: '' }), /^source \/loader\/grub\.cfg$/m);
});

void test("grub-mkconfig's settings on the device: the newest deployment at once, no arguments of its own, serial when asked", () => {
  const serial = grubDefaults({ serial: true });
  for (const line of ['GRUB_DEFAULT=0', 'GRUB_TIMEOUT=0', 'GRUB_CMDLINE_LINUX=""', 'GRUB_DISABLE_OS_PROBER=true', 'GRUB_TERMINAL="serial console"']) {
    assert.ok(serial.split('\n').includes(line), line);
  }
  assert.doesNotMatch(grubDefaults({ serial: false }), /GRUB_TERMINAL/);
});

void test('a GRUB environment block is 1024 bytes, its variables first', () => {
  const block = grubEnvBlock({ boot_success: '1' });
  assert.equal(block.length, 1024);
  assert.match(block, /^# GRUB Environment Block\nboot_success=1\n#+$/);
  assert.equal(grubEnvBlock().length, 1024);
});
