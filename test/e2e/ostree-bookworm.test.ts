/**
 * OSTree on bookworm, the release before the default (ostree 2022.7, systemd 252, GRUB 2.06):
 * examples/edge.yaml on bookworm's ref, with the /boot partition bookworm's ostree needs. v1's
 * deployed disk boots, pulls v2 from `kiln serve-repo` with `ostree admin upgrade`, boots v2 from
 * the menu the device wrote itself, and v2's health checks end its trial. v2 differs from v1 in
 * its version only and is built as a commit alone (no disk), so its build starts at the commit:
 * this file is about bookworm's ostree, GRUB and systemd doing the update; ostree.test.ts runs the
 * whole loop on trixie with a changed package, the failed v3 and its rollback.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Console, withConsole } from './console.js';
import { buildRecord, kiln, REPO, run, scratch, sharedCache } from './kiln.js';
import { serveRepo } from './ostree-kit.js';
import { freePort } from '../../src/testing/free-port.js';

const REF = 'debian/bookworm/amd64/edge';
const dir = scratch('ostree-bookworm');
const cache = sharedCache('ostree-bookworm');

/** The example on bookworm: its ref, a repository beside the test's recipe, the test's port. */
function recipe(port: number, version: string): string {
  const example = readFileSync(join(REPO, 'examples/edge.yaml'), 'utf8')
    .replace(/^ {2}ref: .*$/m, `  ref: ${REF}`)
    .replace(/^ {2}repo: .*$/m, '  repo: ./repo')
    .replace('10.0.2.2:8000', `10.0.2.2:${port}`)
    .replace('version: "1"', `version: "${version}"`)
    // Booted under emulation: no page zeroing (the emulated layer); a VM's short initramfs (vm's list, dracut's drivers).
    .replace('layers: [systemd-networkd, health]', 'layers: [systemd-networkd, health, emulated, vm]');
  return `${example}distro:
  release: bookworm
disk:
  size: 2G
  partitions:
    - { name: esp, type: esp, size: 64M, fs: vfat, mount: /boot/efi }
    - { name: boot, type: linux, size: 256M, fs: ext4, mount: /boot }
    - { name: root, type: root, size: rest, fs: ext4, mount: / }
health:
  boot_tries: 1
`;
}

async function build(port: number, version: string): Promise<string> {
  // v2 is pulled by the device, not booted from a disk of its own: its build makes the commit only.
  const text = recipe(port, version);
  writeFileSync(join(dir, 'edge.yaml'), version === '1' ? text : text.replace(/^outputs: .*$/m, 'outputs: [ostree-repo]'));
  const built = await kiln(['build', join(dir, 'edge.yaml'), '-o', join(dir, `v${version}`)], { KILN_CACHE: cache });
  assert.equal(built.code, 0, built.stderr.slice(-3000));
  const commit = (buildRecord(join(dir, `v${version}`)) as ReturnType<typeof buildRecord> & { ostree?: { commit: string } }).ostree?.commit ?? '';
  assert.match(commit, /^[0-9a-f]{64}$/);
  return commit;
}

void test('ostree on bookworm: the deployed disk with its /boot partition boots, pulls v2 with ostree admin upgrade, and boots v2', async (t) => {
  const port = await freePort();
  const v1 = await build(port, '1');
  // v2 is built while v1's disk boots (the device only asks for it after its checks).
  const startDevice = Console.device(join(dir, 'v1', 'edge.raw'), join(dir, 'device.raw'));
  const server = await serveRepo(join(dir, 'repo'), port);
  const building = build(port, '2');
  building.catch(() => {}); // awaited below; a failure before then must not end the process
  try {
    await withConsole(startDevice, async (vm) => {
      await vm.login('root', 'root');
      t.diagnostic(`v1: login prompt after ${vm.seconds} s`);
      assert.deepEqual(await vm.run('. /etc/os-release; echo $VERSION_CODENAME; ostree --version | grep -o "2022\\.7"'), { out: 'bookworm\n2022.7', status: 0 });
      assert.match((await vm.run('ostree admin status')).out, new RegExp(`^\\* debian ${v1}\\.0\\n\\s+Version: 1\\n`));
      // The boot entries live on /boot, a partition of its own: what bookworm's ostree writes relative to.
      assert.deepEqual(await vm.run('findmnt -n -o SOURCE,FSTYPE /boot'), { out: '/dev/vda2 ext4', status: 0 });
      assert.deepEqual(await vm.run('systemctl --failed --plain --no-legend --no-pager'), { out: '', status: 0 });
      assert.match((await vm.run('systemctl is-system-running --wait; journalctl --no-pager -b -u kiln-health -o cat', 300)).out, /^kiln-health: healthy$/m);

      const v2 = await building;
      const stages = buildRecord(join(dir, 'v2')).stages;
      const fresh = stages.findIndex((s) => !s.cached);
      assert.equal(stages[fresh]?.name, 'ostree-commit', 'a new version alone starts at the commit: every stage before it is reused');
      assert.equal(run('ostree', ['rev-parse', `--repo=${join(dir, 'repo')}`, `${REF}^`]).trim(), v1, "v2's parent is v1");

      const asked = vm.seconds;
      const upgrade = await vm.run('ostree admin upgrade', 900);
      assert.equal(upgrade.status, 0, upgrade.out);
      assert.equal((await vm.run(`grep -c "^menuentry .*ostree" /boot/loader/grub.cfg`)).out, '2', 'v2 and v1 in the menu the device wrote');
      vm.send('systemctl reboot');
      await vm.login('root', 'root');
      t.diagnostic(`v1 -> v2: ${(vm.seconds - asked).toFixed(0)} s from ostree admin upgrade to v2's login prompt`);
      const booted = (await vm.run('ostree admin status')).out;
      assert.match(booted, new RegExp(`^\\* debian ${v2}\\.0\\n\\s+Version: 2\\n`), booted);
      assert.match(booted, new RegExp(`debian ${v1}\\.0 \\(rollback\\)`), 'v1 is kept to fall back to');
      // v2 was built without a disk, and its /etc (fstab) still mounts the device's /boot.
      assert.deepEqual(await vm.run('findmnt -n -o SOURCE,FSTYPE /boot'), { out: '/dev/vda2 ext4', status: 0 });
      // v2's checks passed, which ended its trial.
      assert.match((await vm.run('systemctl is-system-running --wait; journalctl --no-pager -b -u kiln-health -o cat', 300)).out, /^kiln-health: healthy$/m);
      assert.deepEqual(await vm.run('grub-editenv /boot/grub/grubenv list'), { out: 'boot_success=1', status: 0 });
    });
  } finally {
    server.stop();
  }
});
