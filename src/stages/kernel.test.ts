/** The kernel stage against a recorder: the initramfs made when missing, remade once when package sets asked, else left alone. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stageRecorder } from '../testing/stage-recorder.js';
import { kernel } from './kernel.js';

const VERSION = '6.12.57+deb13-amd64';

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
  const made = await kernel.run(r.ctx, { package: 'linux-image-amd64' });
  assert.deepEqual(r.calls.map((c) => [c.where, c.command, ...c.args]), [['chroot', 'update-initramfs', '-u', '-k', VERSION]]);
  assert.deepEqual(made.kernel, { version: VERSION, vmlinuz: `/boot/vmlinuz-${VERSION}`, initrd: `/boot/initrd.img-${VERSION}` });
});

void test('kernel: a current initramfs is left alone; a missing one is created', async () => {
  for (const outdated of [undefined, false]) {
    const r = image(true, outdated);
    await kernel.run(r.ctx, { package: 'linux-image-amd64' });
    assert.deepEqual(r.calls, []);
  }
  const missing = image(false, true);
  await kernel.run(missing.ctx, { package: 'linux-image-amd64' });
  assert.deepEqual(missing.calls.map((c) => [c.command, ...c.args]), [['update-initramfs', '-c', '-k', VERSION]]);
});
