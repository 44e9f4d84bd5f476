/**
 * Debian 13 by default, at one boot: a unified kernel image (kernel.uki) that systemd-boot finds
 * in EFI/Linux by itself, both signed with the recipe's own key (Debian ovmf's snakeoil pair) and
 * booted with Secure Boot enforced; a normal user's systemctl, loginctl, hostnamectl and
 * timedatectl work over D-Bus. Then the same image signed with another key: the firmware refuses it.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Console, withConsole } from './console.js';
import { bootCheck, kiln, partitions, REPO, run, scratch, sharedCache, fatFile, Ext4 } from './kiln.js';

const cache = sharedCache('trixie');
const env = { KILN_CACHE: cache };
const dir = scratch('trixie');
const RECIPE = join(dir, 'uki.yaml');
cpSync(join(REPO, 'test/e2e/fixtures/trixie/uki.yaml'), RECIPE);
mkdirSync(join(dir, 'keys'));
mkdirSync(join(dir, 'other'));
// sbsign signs unattended: the snakeoil key (password "snakeoil") is decrypted into the recipe's folder.
run('openssl', ['pkey', '-in', '/usr/share/ovmf/PkKek-1-snakeoil.key', '-passin', 'pass:snakeoil', '-out', join(dir, 'keys/db.key')]);
cpSync('/usr/share/ovmf/PkKek-1-snakeoil.pem', join(dir, 'keys/db.crt'));
run('openssl', ['req', '-new', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kiln other key/', '-days', '1', '-keyout', join(dir, 'other/db.key'), '-out', join(dir, 'other/db.crt')]);
const out = join(dir, 'out');
const image = join(out, 'uki.raw');
/** A line of the key's base64 body: it must not appear in the image or the build's records. */
const keyLine = readFileSync(join(dir, 'keys/db.key'), 'utf8').split('\n')[5] ?? 'missing';

void test('a key that does not match its certificate is exit 2 at the recipe line, before any work', async () => {
  const result = await kiln(['build', RECIPE, '-o', join(dir, 'bad'), '--set', 'KEY=other/db.key'], env);
  assert.equal(result.code, 2, result.stderr);
  // The error names the recipe line that holds secure_boot, wherever the fixture puts it.
  const line = readFileSync(RECIPE, 'utf8').split('\n').findIndex((text) => text.startsWith('secure_boot:')) + 1;
  assert.ok(line > 0, 'the fixture has a secure_boot line');
  assert.match(result.stderr, new RegExp(`uki\\.yaml:${line}:\\d+ secure_boot\\.cert: "keys/db\\.crt" does not belong to the key other/db\\.key`));
});

void test('trixie UKI signed with the recipe key boots with Secure Boot enforced; a user has D-Bus and a logind session', async (t) => {
  const built = await kiln(['build', RECIPE, '-o', out], env);
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  const [esp, root] = partitions(image);
  assert.ok(esp && root);
  // systemd-boot finds the UKI itself: no type #1 entry, no kernel or initrd copied to the ESP.
  assert.equal(fatFile(image, esp, '/loader/loader.conf'), 'default uki.efi\ntimeout 0\neditor no\n');
  assert.throws(() => fatFile(image, esp, '/loader/entries/uki.conf'));
  for (const file of ['EFI/BOOT/BOOTX64.EFI', 'EFI/systemd/systemd-bootx64.efi', 'EFI/Linux/uki.efi']) {
    const copy = join(dir, file.replaceAll('/', '_'));
    run('mcopy', ['-i', `${image}@@${esp.start * 512}`, `::${file}`, copy]);
    assert.match(run('sbverify', ['--cert', join(dir, 'keys/db.crt'), copy]), /Signature verification OK/, file);
  }
  const fs = new Ext4(image, root);
  assert.match(fs.cat('/usr/lib/os-release'), /^VERSION_CODENAME=trixie$/m);
  const log = readFileSync(join(out, 'build.log'), 'utf8');
  const record = readFileSync(join(out, 'build.json'), 'utf8');
  assert.match(log, /certificate SHA-256 28:2E:81:30/);
  // The private key is in neither the records nor the disk image (its blocks are scanned as text).
  for (const text of [log, record, readFileSync(join(out, 'kiln.lock'), 'utf8')]) assert.ok(!text.includes(keyLine));
  assert.equal(run('sh', ['-c', `grep -c -a -F '${keyLine}' '${image}' || true`]).trim(), '0');

  await withConsole(() => Console.start(image, 'snakeoil'), async (vm) => {
    await vm.login('tester', 'tester');
    t.diagnostic(`trixie UKI under Secure Boot: logged in ${vm.seconds} s after QEMU started`);
    assert.match(vm.output, /secureboot: Secure boot enabled/);
    const sh = async (command: string) => {
      const r = await vm.run(command);
      assert.equal(r.status, 0, `${command}:\n${r.out}`);
      return r.out;
    };
    // Lockdown is asked of the kernel: its console line can be cut by other output on the serial port.
    assert.match(await sh('cat /sys/kernel/security/lockdown'), /\[(integrity|confidentiality)\]/);
    await sh('export SYSTEMD_PAGER= SYSTEMD_COLORS=0');
    assert.match(await sh('hostnamectl'), /Static hostname: kiln-uki/);
    assert.match(await sh('timedatectl'), /Time zone: Etc\/UTC/);
    assert.match(await sh('loginctl list-sessions --no-legend'), /tester/);
    assert.match(await sh('loginctl show-user tester -p State'), /State=(active|online)/);
    assert.match(await sh('systemctl --user is-active default.target'), /^active/m);
    assert.match(await sh('systemctl list-units --no-legend dbus.service'), /dbus\.service\s+loaded active running/);
    // The command line is the one inside the UKI; systemd-boot says which entry it started.
    assert.match(await sh('cat /proc/cmdline'), new RegExp(`root=PARTUUID=${root.uuid.toLowerCase()} rw console=tty0 console=ttyS0,115200`));
    assert.match(await sh('tr -d "\\000" < /sys/firmware/efi/efivars/LoaderEntrySelected-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f'), /uki\.efi/);
    assert.match(await sh('od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c'), /\s1\s*$/);
    // The ESP is an automount (boot does not wait for it): the first look inside mounts the FAT,
    // which only root may read (umask=0077).
    assert.equal(await sh('systemctl is-active boot-efi.automount'), 'active');
    assert.match((await vm.run('ls /boot/efi/EFI')).out, /Permission denied/);
    assert.equal(await sh('findmnt -n -o FSTYPE /boot/efi'), 'autofs\nvfat');
  });
});

void test('the same image signed with another key: the firmware refuses it (Access Denied on the console)', async () => {
  const other = join(dir, 'out-other');
  const built = await kiln(['build', RECIPE, '-o', other, '--set', 'KEY=other/db.key', '--set', 'CERT=other/db.crt'], env);
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  const record = JSON.parse(readFileSync(join(other, 'build.json'), 'utf8')) as { stages: { name: string; cached: boolean }[] };
  // Only the signature and what is made from the tree after it are new.
  assert.deepEqual(record.stages.filter((s) => !s.cached).map((s) => s.name).slice(0, 1), ['secure-boot-sign']);
  const log = join(other, 'refused.log');
  const booted = await kiln(['boot', join(other, 'uki.raw'), '--check', '--secure-boot', '--firmware-vars', 'snakeoil', '--timeout', '600', '--log', log]);
  assert.equal(booted.code, 1, booted.stdout + booted.stderr);
  assert.match(booted.stderr, /boot check failed: refused after \d+ s/);
  assert.match(readFileSync(log, 'utf8'), /failed to load Boot\w+ .*: Access Denied/);
  assert.doesNotMatch(readFileSync(log, 'utf8'), /Linux version/);
});

void test('with bootloader: none the signed UKI is the removable loader itself, started by the firmware with Secure Boot enforced', async (t) => {
  const recipe = join(dir, 'uki-none.yaml');
  writeFileSync(recipe, `${readFileSync(RECIPE, 'utf8').replace('name: uki', 'name: uki-none')}bootloader: none\n`);
  const noneOut = join(dir, 'out-none');
  const built = await kiln(['build', recipe, '-o', noneOut], env);
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  const raw = join(noneOut, 'uki-none.raw');
  const [esp] = partitions(raw);
  assert.ok(esp);
  // No boot manager on the ESP: only the UKI, as EFI/BOOT/BOOTX64.EFI, signed with the recipe's key.
  const loader = join(dir, 'none-BOOTX64.EFI');
  run('mcopy', ['-i', `${raw}@@${esp.start * 512}`, '::EFI/BOOT/BOOTX64.EFI', loader]);
  assert.match(run('sbverify', ['--cert', join(dir, 'keys/db.crt'), loader]), /Signature verification OK/);
  assert.ok(readFileSync(loader).subarray(0, 4096).includes('.linux'), 'the loader is a UKI (its PE section table has .linux)');
  assert.throws(() => fatFile(raw, esp, '/EFI/systemd/systemd-bootx64.efi'));
  const log = await bootCheck(raw, ['--secure-boot', '--firmware-vars', 'snakeoil']);
  t.diagnostic('the UKI as removable loader booted to a login prompt with Secure Boot enforced');
  assert.match(log, /secureboot: Secure boot enabled/);
});
