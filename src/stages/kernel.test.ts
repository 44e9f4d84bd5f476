/** The kernel stage against a recorder: the initramfs made when missing (with the recipe's settings), remade once when package sets asked, else left alone. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stageRecorder } from '../testing/stage-recorder.js';
import { kernel } from './kernel.js';

const VERSION = '6.12.57+deb13-amd64';
/** A root of the host's own architecture: no native programs needed, so no toolbox is made. */
const NATIVE = { arch: 'amd64', source: { release: 'trixie', mirror: 'http://deb.debian.org/debian', components: ['main'] } };

function image(initrd: boolean, outdated?: boolean) {
  const r = stageRecorder();
  r.write(`boot/vmlinuz-${VERSION}`, 'kernel');
  r.write('usr/sbin/update-initramfs', '#!/bin/sh\n');
  if (initrd) r.write(`boot/initrd.img-${VERSION}`, 'initramfs');
  if (outdated !== undefined) r.ctx.facts = { initramfsOutdated: outdated };
  return r;
}

void test('kernel: an initramfs a package set asked to update is remade once, in the image root', async () => {
  const r = image(true, true);
  const made = await kernel.run(r.ctx, kernel.options.parse({ package: 'linux-image-amd64', ...NATIVE }));
  assert.deepEqual(r.calls.map((c) => [c.where, c.command, ...c.args]), [['chroot', 'update-initramfs', '-u', '-k', VERSION]]);
  assert.deepEqual(made.kernel, { version: VERSION, vmlinuz: `/boot/vmlinuz-${VERSION}`, initrd: `/boot/initrd.img-${VERSION}` });
});

void test('kernel: a current initramfs is left alone; a missing one is created', async () => {
  for (const outdated of [undefined, false]) {
    const r = image(true, outdated);
    await kernel.run(r.ctx, kernel.options.parse({ package: 'linux-image-amd64', ...NATIVE }));
    assert.deepEqual(r.calls, []);
  }
  const missing = image(false, true);
  await kernel.run(missing.ctx, kernel.options.parse({ package: 'linux-image-amd64', ...NATIVE }));
  assert.deepEqual(missing.calls.map((c) => [c.command, ...c.args]), [['update-initramfs', '-c', '-k', VERSION]]);
});

void test("kernel: the recipe's initramfs settings are in the image before the initramfs is made", async () => {
  const r = image(false);
  r.write('etc/initramfs-tools/modules', '# List of modules\n');
  await kernel.run(r.ctx, kernel.options.parse({ package: 'linux-image-amd64', ...NATIVE, initramfsModules: ['virtio_blk', 'ext4'] }));
  const file = (path: string) => readFileSync(join(r.ctx.root, path), 'utf8');
  assert.match(file('etc/initramfs-tools/conf.d/kiln.conf'), /^MODULES=list$/m);
  assert.equal(file('etc/initramfs-tools/modules'), '# List of modules\nvirtio_blk\next4\n');
  assert.ok(!existsSync(join(r.ctx.root, 'etc/dracut.conf.d')));
  assert.deepEqual(r.calls.map((c) => [c.command, ...c.args]), [['update-initramfs', '-c', '-k', VERSION]]);

  // dracut (an OSTree image): no host-only initramfs, with OSTree's module; Debian's default list is left alone.
  const d = stageRecorder();
  d.write(`boot/vmlinuz-${VERSION}`, 'kernel');
  await kernel.run(d.ctx, kernel.options.parse({ package: 'linux-image-amd64', ...NATIVE, dracutModules: ['ostree'] }));
  assert.equal(readFileSync(join(d.ctx.root, 'etc/dracut.conf.d/kiln.conf'), 'utf8'), '# Written by kiln.\nhostonly="no"\nadd_dracutmodules+=" ostree "\n');
  assert.ok(!existsSync(join(d.ctx.root, 'etc/initramfs-tools/conf.d/kiln.conf')));
  assert.deepEqual(d.calls.map((c) => [c.command, ...c.args]), [['dracut', '--quiet', '--kver', VERSION, `/boot/initrd.img-${VERSION}`]]);

  // dracut with the recipe's short list: dracut's exclusive `drivers`, and no initramfs-tools settings.
  const s = stageRecorder();
  s.write(`boot/vmlinuz-${VERSION}`, 'kernel');
  await kernel.run(s.ctx, kernel.options.parse({ package: 'linux-image-amd64', ...NATIVE, dracutModules: ['ostree'], initramfsModules: ['virtio_blk', 'ext4'] }));
  assert.equal(readFileSync(join(s.ctx.root, 'etc/dracut.conf.d/kiln.conf'), 'utf8'), '# Written by kiln.\nhostonly="no"\nadd_dracutmodules+=" ostree "\ndrivers+=" virtio_blk ext4 "\n');
  assert.ok(!existsSync(join(s.ctx.root, 'etc/initramfs-tools')));
});
