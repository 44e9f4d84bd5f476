import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkedManifest } from '../engine/plan.js';
import { parseRecipe } from '../recipe/index.js';
import { OWN_REGISTRATION } from './binfmt.js';
import { probeElf, PROBE_EXIT } from './probe.js';
import { ARCH_NAMES, ARCHES, defaultConsoles } from './table.js';
import { plannedPackages } from '../manifest/package-sets.js';

void test('the architecture table is complete for every architecture', () => {
  assert.deepEqual(Object.keys(ARCHES).sort(), [...ARCH_NAMES].sort());
  for (const arch of ARCH_NAMES) {
    const a = ARCHES[arch];
    assert.match(a.kernel, /^linux-image-[a-z0-9-]+$/, arch);
    assert.match(a.console, /^tty(S|AMA)0$/, arch);
    assert.match(a.efi, /^(x64|aa64|arm|ia32)$/, arch);
    assert.match(a.grubEfi.platform, /^[a-z0-9_]+-efi$/, arch);
    assert.match(a.grubEfi.package, /^grub-efi-[a-z0-9]+-bin$/, arch);
    assert.match(a.qemu.binary, /^qemu-system-/, arch);
    assert.ok(a.qemu.args.includes('-machine') && a.qemu.args.includes('-cpu'), arch);
    assert.ok(a.qemu.firmware.length > 0 && a.qemu.firmware.every((f) => f.code.startsWith('/usr/share/') && f.vars.startsWith('/usr/share/')), arch);
    assert.ok(a.qemu.firmwarePackage && a.qemu.systemPackage, arch);
    assert.ok(a.oci.architecture, arch);
    assert.deepEqual(defaultConsoles(arch, 'systemd-boot'), ['console=tty0', `console=${a.console},115200`]);
  }
  // Only the ARM ones always need qemu-user on an amd64 host; i386 needs it where the kernel's
  // IA32 emulation is off, and amd64 never.
  assert.deepEqual(ARCH_NAMES.filter((a) => !ARCHES[a].native), ['arm64', 'armhf']);
  assert.deepEqual(ARCH_NAMES.filter((a) => ARCHES[a].binfmt), ['arm64', 'armhf', 'i386']);
});

void test('the probe programs are ELF files of the right class and machine; the native one exits 42', (t) => {
  const expect = { amd64: [2, 62], arm64: [2, 183], armhf: [1, 40], i386: [1, 3] } as const;
  for (const arch of ARCH_NAMES) {
    const elf = probeElf(arch);
    assert.equal(elf.subarray(0, 4).toString('latin1'), '\x7fELF');
    assert.equal(elf[4], expect[arch][0], `${arch} ELF class`);
    assert.equal(elf.readUInt16LE(18), expect[arch][1], `${arch} machine`);
    assert.ok(elf.length < 200, `${arch} probe is ${elf.length} bytes`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'kiln-probe-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'probe');
  writeFileSync(file, probeElf('amd64'));
  chmodSync(file, 0o755);
  assert.equal(spawnSync(file).status, PROBE_EXIT);
});

void test('an arm64 recipe gets its kernel, console, EFI names and GRUB platform from the table', (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'kiln-arch-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const plan = (text: string) => checkedManifest(parseRecipe(join(folder, 'r.yaml'), text, folder, { env: {} }));
  const options = (m: ReturnType<typeof plan>, stage: string) => m.stages.find((s) => s.stage === stage)?.options as Record<string, unknown>;
  const m = plan('name: a\narch: arm64\n');
  assert.ok(plannedPackages(m.stages).includes('linux-image-arm64'));
  assert.equal(options(m, 'bootstrap').arch, 'arm64');
  assert.equal(options(m, 'systemd-boot').efiArch, 'aa64');
  assert.deepEqual((options(m, 'systemd-boot').cmdline as string[]).slice(-2), ['console=tty0', 'console=ttyAMA0,115200']);
  const g = plan('name: a\narch: arm64\nbootloader: grub-efi\n');
  assert.deepEqual(options(g, 'grub').platforms, ['arm64-efi']);
  assert.ok(plannedPackages(g.stages).includes('grub-efi-arm64-bin'));
  // What the recipe says wins over the table.
  const own = plan('name: a\narch: arm64\nkernel: { package: linux-image-rt-arm64, cmdline: [console=ttyS2] }\n');
  assert.ok(plannedPackages(own.stages).includes('linux-image-rt-arm64'));
  assert.deepEqual((options(own, 'systemd-boot').cmdline as string[]).slice(-1), ['console=ttyS2']);
  // --arch replaces the recipe's arch, and the defaults follow it.
  const amd = checkedManifest(parseRecipe(join(folder, 'r.yaml'), 'name: a\narch: amd64\n', folder, { env: {}, arch: 'armhf' }));
  assert.ok(plannedPackages(amd.stages).includes('linux-image-armmp-lpae'));
});

void test('a Raspberry Pi recipe: MBR with a FAT firmware partition, non-free-firmware, raspi-firmware, root by PARTUUID, ttyS1', (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'kiln-rpi-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const m = checkedManifest(parseRecipe(join(folder, 'r.yaml'), 'name: pi\narch: arm64\nlayers: [raspberrypi]\n', folder, { env: {} }));
  const options = (stage: string) => m.stages.find((s) => s.stage === stage)?.options as Record<string, unknown>;
  // The first package set adds non-free-firmware: the bootstrap is any arm64 recipe's.
  assert.deepEqual(options('bootstrap').components, ['main']);
  const sets = m.stages.filter((s) => s.stage === 'packages').map((s) => s.options as { components?: string[] });
  assert.deepEqual(sets.map((s) => s.components), [['non-free-firmware'], ...sets.slice(1).map(() => undefined)]);
  const vm = checkedManifest(parseRecipe(join(folder, 'r.yaml'), 'name: vm\narch: arm64\n', folder, { env: {} }));
  assert.equal(vm.stages[0]?.id, m.stages[0]?.id);
  assert.ok(plannedPackages(m.stages).includes('raspi-firmware'));
  assert.ok((options('kernel').initramfsModules as string[]).includes('sdhci_iproc'));
  const table = options('partition-table') as { table: string; diskId: string; partitions: { name: string; type: string; mount?: string; partUuid: string }[] };
  assert.equal(table.table, 'mbr');
  assert.deepEqual(table.partitions.map((p) => [p.name, p.type, p.mount]), [
    ['firmware', '0c', '/boot/firmware'],
    ['root', '83', '/'],
  ]);
  assert.deepEqual(options('rpi-firmware'), { root: `PARTUUID=${table.diskId}-02`, consoles: ['tty0', 'ttyS1,115200'], extra: [] });
  assert.ok(!m.stages.some((s) => s.stage === 'systemd-boot'));
  // The layer's board hook gets BOARD; growroot comes with it.
  const hooks = options('customize-hooks').scripts as { path: string; env: Record<string, string> }[];
  assert.deepEqual(hooks.map((h) => [h.path, h.env.BOARD]), [['hooks/customize/10-board', '4']]);
  assert.ok((options('services').enable as string[]).includes('kiln-growroot'));
});

void test('the default consoles apply only when nobody names a console', (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'kiln-console-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const cmdline = (text: string) => {
    const m = checkedManifest(parseRecipe(join(folder, 'r.yaml'), text, folder, { env: {} }));
    return (m.stages.find((s) => s.stage === 'systemd-boot')?.options as { cmdline: string[] }).cmdline.slice(2);
  };
  assert.deepEqual(cmdline('name: a\n'), ['console=tty0', 'console=ttyS0,115200']);
  assert.deepEqual(cmdline('name: a\nkernel: { cmdline: [quiet] }\n'), ['console=tty0', 'console=ttyS0,115200', 'quiet']);
  assert.deepEqual(cmdline('name: a\nkernel: { cmdline: ["console=ttyS1,9600"] }\n'), ['console=ttyS1,9600']);
});

void test('armhf and i386 recipes plan with their own kernel, EFI names and GRUB', (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'kiln-arch32-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const plan = (text: string) => checkedManifest(parseRecipe(join(folder, 'r.yaml'), text, folder, { env: {} }));
  const options = (m: ReturnType<typeof plan>, stage: string) => m.stages.find((s) => s.stage === stage)?.options as Record<string, unknown>;
  const armhf = plan('name: a\narch: armhf\nbootloader: grub-efi\n');
  assert.ok(plannedPackages(armhf.stages).includes('linux-image-armmp-lpae'));
  assert.deepEqual(options(armhf, 'grub').platforms, ['arm-efi']);
  assert.equal(options(armhf, 'grub').efiArch, 'arm');
  const i386 = plan('name: a\narch: i386\nbootloader: grub-hybrid\ndisk:\n  partitions:\n    - { name: bios, type: bios-boot, size: 1M }\n    - { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi }\n    - { name: root, size: rest, fs: ext4, mount: / }\n');
  assert.ok(plannedPackages(i386.stages).includes('linux-image-686-pae'));
  assert.deepEqual(options(i386, 'grub').platforms, ['i386-pc', 'i386-efi']);
  assert.ok(plannedPackages(i386.stages).includes('grub-efi-ia32-bin'));
});

void test("kiln's own i386 binfmt_misc registration matches i386 programs, and only them", () => {
  const line = OWN_REGISTRATION.i386 ?? assert.fail('no i386 registration');
  // :name:type:offset:magic:mask:interpreter:flags, with the magic and mask written as \xNN.
  const [, name, type, offset, magic = '', mask = '', interpreter, flags] = line.split(':');
  assert.deepEqual([name, type, offset, interpreter, flags], ['qemu-i386', 'M', '', '/usr/bin/qemu-i386-static', 'F']);
  const bytes = (s: string) => Buffer.from(s.replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  const [m, k] = [bytes(magic), bytes(mask)];
  assert.equal(m.length, k.length);
  // As the kernel compares: the bits the mask keeps must equal the magic's.
  const matches = (elf: Buffer) => m.every((byte, i) => (((elf[i] ?? 0) ^ byte) & (k[i] ?? 0)) === 0);
  assert.deepEqual(ARCH_NAMES.filter((arch) => matches(probeElf(arch))), ['i386']);
});
