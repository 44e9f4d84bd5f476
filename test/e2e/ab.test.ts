/**
 * A/B updates (examples/ab.yaml, with small slots): v1's disk boots from slot A; kiln-ab writes
 * v2's slot image (one package more) into slot B and starts its trial; GRUB boots B, whose checks
 * pass and make it the good slot; v3, whose required check fails, goes into A, boots once, reboots,
 * and GRUB goes back to B, which reports the rollback. /data keeps its files through all of it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Console, withConsole } from './console.js';
import { buildRecord, kiln, REPO, run, scratch, sharedCache } from './kiln.js';

const dir = scratch('ab');
const cache = sharedCache('ab');

/**
 * On the default release, trixie (bookworm's devices are proven by the bookworm OSTree e2e test).
 * Slots of 384 MiB: the image needs about 320, and a guest under emulation writes every byte of an
 * update, so a smaller slot is a shorter test.
 */
const SMALL = `disk:
  layout: ab
  partitions:
    - { name: esp, type: esp, size: 64M, fs: vfat, mount: /boot/efi }
    - { name: system, type: root, size: 384M, fs: ext4, mount: / }
    - { name: data, type: linux, size: 64M, fs: ext4, mount: /data }
# Booted under emulation: the small initramfs, and no page zeroing.
layers: [vm, emulated]
health:
  boot_tries: 1
`;
/** v3's required check, which fails. */
const BROKEN = '  required: [50-broken]\n';

async function build(version: string, extra: string): Promise<{ slot: string; sha256: string }> {
  const example = readFileSync(join(REPO, 'examples/ab.yaml'), 'utf8').replace(/^disk:\n(?: .*\n)+/m, '');
  writeFileSync(join(dir, 'ab.yaml'), `${example}${SMALL}${extra}`);
  const out = join(dir, version);
  const built = await kiln(['build', join(dir, 'ab.yaml'), '-o', out], { KILN_CACHE: cache });
  assert.equal(built.code, 0, built.stderr.slice(-3000));
  const record = buildRecord(out);
  assert.ok(record.outputs.some((o) => o.file === 'ab.slot.img' && o.format === 'ab-slot'), JSON.stringify(record.outputs));
  const sha256 = readFileSync(join(out, 'ab.slot.img.sha256'), 'utf8').split(' ')[0] ?? '';
  assert.match(sha256, /^[0-9a-f]{64}$/);
  return { slot: join(out, 'ab.slot.img'), sha256 };
}

void test('A/B: v1 boots from slot A, v2 is installed into B and kept after a healthy boot, v3 fails its check and GRUB goes back to B', async (t) => {
  await build('v1', '');
  const partitions = JSON.parse(run('sfdisk', ['--json', join(dir, 'v1', 'ab.raw')])) as { partitiontable: { partitions: { name: string; size: number }[] } };
  assert.deepEqual(partitions.partitiontable.partitions.map((p) => p.name), ['esp', 'system_a', 'system_b', 'data']);
  assert.equal(partitions.partitiontable.partitions[1]?.size, partitions.partitiontable.partitions[2]?.size, 'two slots of one size');
  assert.match(run('dumpe2fs', ['-h', join(dir, 'v1', 'ab.slot.img')]), /^Filesystem volume name:\s+system_a$/m);
  const v2 = await build('v2', 'packages: [hello]\n');
  writeFileSync(join(dir, '50-broken'), '#!/bin/sh\necho "v3 is broken on purpose" >&2\nexit 1\n', { mode: 0o755 });
  const v3 = await build('v3', `${BROKEN}packages: [hello]\n`);

  // The update images reach the device as disks: /dev/vdb is v2's, /dev/vdc v3's.
  const startDevice = Console.device(join(dir, 'v1', 'ab.raw'), join(dir, 'device.raw'), [v2.slot, v3.slot]);
  await withConsole(startDevice, async (vm) => {
    await vm.login('root', 'root');
    t.diagnostic(`v1: login prompt after ${vm.seconds} s`);
    assert.match((await vm.run('cat /proc/cmdline')).out, /root=PARTLABEL=system_a kiln\.slot=a /);
    assert.deepEqual(await vm.run('. /etc/os-release; echo $VERSION_CODENAME'), { out: 'trixie', status: 0 });
    assert.deepEqual(await vm.run('readlink -f /dev/disk/by-slot/active /dev/disk/by-slot/other'), { out: '/dev/vda2\n/dev/vda3', status: 0 });
    assert.deepEqual(await vm.run('findmnt -n -o SOURCE,FSTYPE /data'), { out: '/dev/vda4 ext4', status: 0 });
    assert.match((await vm.run('systemctl is-system-running --wait; journalctl --no-pager -b -u kiln-health -o cat', 300)).out, /^kiln-health: healthy$/m);
    assert.equal((await vm.run('kiln-ab status')).out, 'running: slot a (/dev/disk/by-slot/active)\ngood: slot a\ntrial: none');
    await vm.run('echo kept > /data/note');
    // A checksum that does not match (here of a piece of v2's image, from standard input): no trial.
    const wrong = await vm.run(`head -c 4M /dev/vdb | kiln-ab install - ${v2.sha256}`, 600);
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.out, /not switching to it/);
    assert.match((await vm.run('kiln-ab status')).out, /^trial: none$/m);
    // An image larger than the slot is refused before anything is written.
    const big = await vm.run(`truncate -s 1G /tmp/big.img && kiln-ab install /tmp/big.img ${v2.sha256}`);
    assert.notEqual(big.status, 0);
    assert.match(big.out, /the image \(1073741824 bytes\) is larger than slot b \(\d+ bytes\)/);
    // From standard input its size shows only once the slot is full: refused then, with no trial.
    const overflow = await vm.run(`head -c 400M /dev/zero | kiln-ab install - ${v2.sha256}`, 600);
    assert.notEqual(overflow.status, 0);
    assert.match(overflow.out, /the image is larger than slot b \(\d+ bytes\)/);
    assert.match((await vm.run('kiln-ab status')).out, /^trial: none$/m);

    const asked = vm.seconds;
    const install = await vm.run(`kiln-ab install /dev/vdb ${v2.sha256}`, 900);
    assert.equal(install.status, 0, install.out);
    const installed = vm.seconds;
    assert.match((await vm.run('kiln-ab status')).out, /^trial: slot b, 1 boot\(s\) left$/m);
    vm.send('systemctl reboot');
    await vm.login('root', 'root');
    t.diagnostic(`v2: kiln-ab install of ${run('du', ['--apparent-size', '-m', v2.slot]).split('\t')[0]} MiB took ${(installed - asked).toFixed(0)} s, the reboot into slot B ${(vm.seconds - installed).toFixed(0)} s (under emulation)`);
    assert.match((await vm.run('cat /proc/cmdline')).out, /root=PARTLABEL=system_b kiln\.slot=b /);
    assert.equal((await vm.run('hello')).out, 'Hello, world!');
    assert.deepEqual(await vm.run('cat /data/note'), { out: 'kept', status: 0 });
    assert.deepEqual(await vm.run('readlink -f /dev/disk/by-slot/active'), { out: '/dev/vda3', status: 0 });
    const trial = (await vm.run('systemctl is-system-running --wait; journalctl --no-pager -b -u kiln-health -o cat', 300)).out;
    assert.match(trial, /^kiln-health: slot b passed its trial: it is the slot GRUB boots from now on$/m);
    assert.equal((await vm.run('kiln-ab status')).out, 'running: slot b (/dev/disk/by-slot/active)\ngood: slot b\ntrial: none');

    // v3 fails its required check: one boot of it, then GRUB boots slot B again.
    const broken = await vm.run(`kiln-ab install /dev/vdc ${v3.sha256}`, 900);
    assert.equal(broken.status, 0, broken.out);
    const tried = vm.seconds;
    vm.send('systemctl reboot');
    await vm.waitFor(/kiln-health: required\.d\/50-broken FAILED \(exit 1\): v3 is broken on purpose/, 900, 300);
    await vm.waitFor(/rebooting: GRUB boots the last good slot next/, 300, 300);
    await vm.waitFor(/Linux version/, 300, 300);
    await vm.login('root', 'root');
    t.diagnostic(`v3: from the reboot into it to the login of slot B again, ${(vm.seconds - tried).toFixed(0)} s`);
    assert.match((await vm.run('cat /proc/cmdline')).out, /kiln\.slot=b /);
    assert.match((await vm.run('kiln-health status')).out, /^ {2}\S+ rolled back: slot a \(back to slot b\)$/m);
    assert.equal((await vm.run('kiln-ab status')).out, 'running: slot b (/dev/disk/by-slot/active)\ngood: slot b\ntrial: none');
    assert.deepEqual(await vm.run('cat /data/note'), { out: 'kept', status: 0 });
  });
});
