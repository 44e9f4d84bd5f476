/**
 * The installer script as shipped, run by bash on this host: choosing the disk, refusing one too
 * small, writing an image's data and checking it back. Regular files stand in for disks.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { digestFile } from '../host/sparse-hash.js';
import { INSTALLER_SCRIPT, installerConfig, installerUnit, rangeList } from './installer.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-installer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const script = join(dir, 'kiln-install');
writeFileSync(script, INSTALLER_SCRIPT);

/** Sources the installer (which then only defines its functions) and runs `body`. */
function bash(body: string, input = '') {
  const r = spawnSync('bash', ['-c', `set -euo pipefail; . '${script}'; ${body}`], { input, encoding: 'utf8', env: { ...process.env, KILN_INSTALL_DIR: dir } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// lsblk -dnb -o NAME,SIZE,RM,RO,TYPE on a machine booted from a CD, with a USB stick and zram.
const GiB = 1024 ** 3;
const DISKS = [`sr0 ${GiB} 1 0 rom`, `vda ${8 * GiB} 0 0 disk`, `vdb ${2 * GiB} 0 0 disk`, `sda ${32 * GiB} 1 0 disk`, `zram0 ${GiB} 0 0 disk`, `loop0 ${GiB} 0 1 loop`].join('\n');

void test('installer auto target: the largest disk that is neither removable nor the medium', () => {
  assert.equal(bash('candidates sr0 | pick_auto', DISKS).out, '/dev/vda\n');
  // Booted from the larger disk (a USB stick that says it is fixed): the other one.
  assert.equal(bash('candidates vda | pick_auto', DISKS).out, '/dev/vdb\n');
});

void test('installer auto target: two disks of the largest size, or none, is a refusal', () => {
  const tie = bash('candidates sr0 | pick_auto', `${DISKS}\nvdc ${8 * GiB} 0 0 disk`);
  assert.equal(tie.code, 1);
  assert.equal(tie.out, '');
  assert.match(tie.err, /more than one disk could be the target \(vda 8192 MiB, vdc 8192 MiB, vdb 2048 MiB\): set installer.target/);
  assert.match(tie.err, /nothing was installed/);
  const none = bash('candidates sr0 | pick_auto', `sr0 ${GiB} 1 0 rom\nsda ${GiB} 1 0 disk`);
  assert.equal(none.code, 1);
  assert.match(none.err, /found no disk to install on/);
});

/** A sparse 6 MiB image with data at 0, in the middle (an odd length) and in the last block. */
async function image() {
  const path = join(dir, 'img.raw');
  writeFileSync(path, '');
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(4096, 1), 0, 4096, 0);
  writeSync(fd, Buffer.alloc(70_000, 2), 0, 70_000, 3 * 1024 * 1024 + 512);
  ftruncateSync(fd, 6 * 1024 * 1024);
  writeSync(fd, Buffer.alloc(100, 3), 0, 100, 6 * 1024 * 1024 - 100);
  closeSync(fd);
  const digest = await digestFile(path);
  writeFileSync(join(dir, 'installer.conf'), installerConfig('img', 'img.raw', digest, { target: 'auto', confirm: false, poweroff: true, grow: null }));
  writeFileSync(join(dir, 'ranges'), rangeList(digest));
  return { path, digest };
}

/** A stand-in disk of `size` bytes filled with 0xee, as an old disk is full of old data. */
function disk(size: number): string {
  const path = join(dir, `disk-${size}`);
  writeFileSync(path, Buffer.alloc(size, 0xee));
  return path;
}

void test('installer: a disk smaller than the image is refused before anything is written', async () => {
  await image();
  const small = disk(4 * 1024 * 1024);
  const r = bash(`. "$KILN_INSTALL_DIR/installer.conf"; check_target '${small}'`);
  assert.equal(r.code, 1);
  assert.match(r.err, /has 4 MiB, less than the image's 6 MiB/);
  assert.match(r.err, /nothing was installed/);
  assert.ok(readFileSync(small).every((b) => b === 0xee));
});

void test('installer: writes the mapped ranges, checks them back, and names the ranges that differ', async () => {
  const { path, digest } = await image();
  assert.ok(digest.ranges.length >= 3, 'the test image should have several ranges');
  const target = disk(8 * 1024 * 1024);
  const r = bash(`. "$KILN_INSTALL_DIR/installer.conf"; TARGET='${target}'; install_image`);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /writing 100% \(/);
  assert.match(r.err, /checking 100% \(/);
  const written = readFileSync(target);
  const source = readFileSync(path);
  for (const range of digest.ranges) {
    const from = range.first * 4096;
    const to = Math.min((range.last + 1) * 4096, digest.size);
    assert.ok(written.subarray(from, to).equals(source.subarray(from, to)), `range ${range.first}-${range.last}`);
  }
  // Unmapped space is left as it was, and the last MiB (an old backup GPT's place) is cleared.
  assert.equal(written[2 * 1024 * 1024], 0xee);
  assert.ok(written.subarray(7 * 1024 * 1024).every((b) => b === 0));
  assert.equal(statSync(target).size, 8 * 1024 * 1024);

  // A disk that returns other data than was written fails the check.
  const fd = openSync(target, 'r+');
  writeSync(fd, Buffer.from([9]), 0, 1, 3 * 1024 * 1024 + 600);
  closeSync(fd);
  const check = bash(`. "$KILN_INSTALL_DIR/installer.conf"; TARGET='${target}'; each_range verify_range; echo "$VERIFY_FAILED"`);
  assert.equal(check.code, 0, check.err);
  assert.match(check.out, /^ \d+\+\d+\n$/);
});

void test('installer confirm: lists the disks, takes a typed name, and nothing typed cancels', async () => {
  await image();
  const chosen = bash(`. "$KILN_INSTALL_DIR/installer.conf"; ask_target /dev/vda`, 'vdb\n');
  assert.equal(chosen.code, 0, chosen.err);
  assert.equal(chosen.out, '/dev/vdb\n');
  assert.match(chosen.err, /disks on this machine:\n\s+NAME\s+SIZE\s+MODEL/);
  assert.match(chosen.err, /replaced by the image img\.raw \(6 MiB\)/);
  assert.match(chosen.err, /type a disk name to install on \(e\.g\. vda\), or nothing to cancel: $/);
  const canceled = bash(`. "$KILN_INSTALL_DIR/installer.conf"; ask_target ''`, '\n');
  assert.equal(canceled.code, 1);
  assert.match(canceled.err, /canceled at the console/);
});

void test('installer unit: only a confirming installer takes the console as its terminal; both write to it', () => {
  // A unit whose input is the terminal waits for any other process to let go of it first.
  assert.match(installerUnit(false), /^StandardInput=null$/m);
  assert.match(installerUnit(true), /^StandardInput=tty$/m);
  for (const unit of [installerUnit(false), installerUnit(true)]) {
    assert.match(unit, /^StandardOutput=tty\nStandardError=tty\nTTYPath=\/dev\/console$/m);
    assert.match(unit, /^Before=systemd-user-sessions\.service$/m);
  }
});
