/**
 * The installer ISO (examples/appliance.yaml): boots from a CD under UEFI, installs the image onto
 * the only disk unattended, checks it, grows the root and powers off; the disk then boots on its
 * own. A disk smaller than the image is refused by the ISO's installer with nothing written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Console, withConsole } from './console.js';
import { assertLoginPrompt, blankDisk, bootCheck, Ext4, kiln, partitions, run, scratch, sharedCache } from './kiln.js';

const cache = sharedCache('installer-iso');
const MiB = 1024 * 1024;

/** Bytes the host has allocated for a file: a blank disk nobody wrote to has none. */
function allocated(path: string): number {
  return Number(run('du', ['-B1', path]).split('\t')[0]);
}

void test('installer ISO: installs unattended under UEFI, checks and grows; the disk boots alone; a small disk is refused', async () => {
  const dir = scratch('installer-iso');
  const out = join(dir, 'out');
  const built = await kiln(['build', 'examples/appliance.yaml', '--layer', 'vm', '--layer', 'emulated', '-o', out], { KILN_CACHE: cache });
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  const iso = join(out, 'appliance-installer.iso');
  assert.match(run('xorriso', ['-indev', iso, '-pvd_info']), /Volume Id\s*:\s*KILN_APPLIANCE_INSTALL/);

  // The payload is the raw image itself, with its block map, beside the installer and its unit.
  const squashfs = join(dir, 'filesystem.squashfs');
  run('osirrox', ['-indev', iso, '-extract', '/live/filesystem.squashfs', squashfs]);
  const listing = run('unsquashfs', ['-l', squashfs, 'kiln-install', 'etc/systemd/system']);
  for (const name of ['appliance.raw', 'appliance.raw.bmap', 'installer.conf', 'ranges', 'kiln-install']) assert.ok(listing.includes(`/kiln-install/${name}\n`), `${name} missing`);
  assert.ok(listing.includes('/etc/systemd/system/kiln-installer.service\n'));
  const conf = run('unsquashfs', ['-cat', squashfs, 'kiln-install/installer.conf']);
  assert.match(conf, /^TARGET=auto$/m);
  assert.match(conf, /^GROW_PARTITION=2$/m);
  const imageSize = Number(/^IMAGE_SIZE=(\d+)$/m.exec(conf)?.[1]);

  // Unattended: the only disk is the target; QEMU exits when the installer powers off.
  const disk = join(dir, 'disk.raw');
  const installed = await withConsole(
    () => Console.start(iso, undefined, [blankDisk(disk, 3 * 1024 * MiB)]),
    async (vm) => {
      try {
        // A console silent for 5 minutes is a frozen guest (an emulation flake): started once more.
        await vm.waitFor(/kiln-installer: writing appliance\.raw onto \/dev\/vda/, 900, 300);
        await vm.waitFor(/kiln-installer: checking 100% /, 900, 300);
        await vm.waitFor(/kiln-installer: installed appliance onto \/dev\/vda in \d+ s/, 600, 300);
        assert.equal(await vm.exited(300), 0);
        return vm.output;
      } finally {
        vm.save();
        copyFileSync(vm.logFile, join(dir, 'install.console.log'));
      }
    },
  );
  assert.match(installed, /kiln-installer: writing \d+% \(/);
  assert.match(installed, /kiln-installer: growing partition 2 to the end of \/dev\/vda/);
  assert.match(installed, /kiln-growpart: partition 2 of \/dev\/vda grew from \d+ MiB to \d+ MiB/);

  // The root partition now ends at the disk's end (less GPT's backup), its file system with it.
  const root = partitions(disk)[1];
  assert.ok(root);
  assert.ok((root.start + root.size) * 512 > 3 * 1024 * MiB - 2 * MiB, `root ends at ${(root.start + root.size) * 512}`);
  const fs = new Ext4(disk, root);
  const blocks = Number(/Block count:\s+(\d+)/.exec(run('dumpe2fs', ['-h', fs.spec]))?.[1]);
  assert.ok(blocks * 4096 > 2.5 * 1024 * MiB, `file system of ${blocks} blocks`);
  assert.equal(fs.cat('/etc/hostname').trim(), 'kiln-appliance');
  assert.match(fs.cat('/etc/motd'), /Installed from kiln's examples\/appliance\.yaml/);

  // The installed disk boots alone to the image's login.
  assertLoginPrompt(await bootCheck(disk), 'kiln-appliance');

  // A disk smaller than the image: the ISO's own installer and settings, run here against a blank
  // 512 MiB disk file, refuse it with nothing written. (Its choosing and writing run on real disks
  // above; a third boot of the live system only to see the refusal cost two minutes of the suite.)
  assert.ok(imageSize > 512 * MiB);
  const payload = join(dir, 'kiln-install');
  mkdirSync(payload);
  writeFileSync(join(payload, 'kiln-install'), run('unsquashfs', ['-cat', squashfs, 'kiln-install/kiln-install']));
  writeFileSync(join(payload, 'installer.conf'), conf);
  const small = join(dir, 'small.raw');
  blankDisk(small, 512 * MiB);
  const refused = spawnSync('bash', ['-c', `set -euo pipefail; . "$KILN_INSTALL_DIR/kiln-install"; . "$KILN_INSTALL_DIR/installer.conf"; check_target '${small}'`], { encoding: 'utf8', env: { ...process.env, KILN_INSTALL_DIR: payload } });
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /kiln-installer: \S+small\.raw has 512 MiB, less than the image's \d+ MiB/);
  assert.match(refused.stderr, /nothing was installed/);
  assert.equal(allocated(small), 0, 'the installer wrote to a disk it refused');
});
