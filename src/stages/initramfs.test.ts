/**
 * The initramfs stage against a recorder, with real layers: the kernel stage's initramfs kept when
 * nothing since changed what it is made from, made again once when something did.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { newc } from '../testing/newc.js';
import { stageRecorder } from '../testing/stage-recorder.js';
import { initramfs } from './initramfs.js';

const VERSION = '6.12.57+deb13-amd64';
const OPTIONS = initramfs.options.parse({ package: 'linux-image-amd64', arch: 'amd64', source: { release: 'trixie', mirror: 'http://deb.debian.org/debian', components: ['main'] }, initramfsModules: ['virtio_blk'] });
const KERNEL = { version: VERSION, vmlinuz: `/boot/vmlinuz-${VERSION}`, initrd: `/boot/initrd.img-${VERSION}` };

/** A root with the kernel stage's initramfs, and the layers of the stages since: path → content, by stage. */
function image(since: Record<string, string[]>, facts: { initramfsOutdated?: boolean } = {}) {
  const r = stageRecorder();
  r.write(`boot/vmlinuz-${VERSION}`, 'kernel');
  r.write('usr/sbin/update-initramfs', '#!/bin/sh\n');
  r.write(`boot/initrd.img-${VERSION}`, '');
  writeFileSync(join(r.ctx.root, `boot/initrd.img-${VERSION}`), gzipSync(newc([[0o100755, 'usr/bin/kmod', 'ELF'], [0o120777, 'lib', 'usr/lib']])));
  const layers = [{ stage: 'bootstrap', tree: join(r.ctx.work, 'bootstrap') }, { stage: 'kernel', tree: join(r.ctx.work, 'kernel') }];
  for (const [stage, paths] of Object.entries(since)) {
    const tree = join(r.ctx.work, stage);
    for (const path of paths) {
      mkdirSync(dirname(join(tree, path)), { recursive: true });
      writeFileSync(join(tree, path), '');
    }
    layers.push({ stage, tree });
  }
  // The layers below the kernel stage's are not read: a change there is in the initramfs already.
  mkdirSync(join(r.ctx.work, 'bootstrap/etc/initramfs-tools'), { recursive: true });
  writeFileSync(join(r.ctx.work, 'bootstrap/etc/initramfs-tools/modules'), '');
  mkdirSync(join(r.ctx.work, 'kernel'), { recursive: true });
  r.ctx.layers = layers;
  r.ctx.facts = { kernel: KERNEL, ...facts };
  return r;
}

const commands = (r: ReturnType<typeof stageRecorder>) => r.calls.map((c) => [c.where, c.command, ...c.args]);

void test('initramfs: a package, a user and a file that it is not made from keep the kernel stage’s', async () => {
  const r = image({ packages: ['usr/bin/hello', 'usr/share/doc/hello/copyright', 'etc/ld.so.cache'], users: ['etc/passwd'], files: ['etc/motd'] });
  const made = await initramfs.run(r.ctx, OPTIONS);
  assert.deepEqual(commands(r), []);
  assert.deepEqual(made, { kernel: KERNEL, initramfsOutdated: false });
  assert.ok(r.logs.some((l) => /is current/.test(l)));
});

void test('initramfs: a file it has a copy of, or its module list replaced, makes it again once, with the recipe’s modules', async () => {
  const lib = image({ packages: ['usr/bin/hello', 'bin/kmod'] });
  await initramfs.run(lib.ctx, OPTIONS);
  assert.deepEqual(commands(lib), [['chroot', 'update-initramfs', '-u', '-k', VERSION]]);
  assert.ok(lib.logs.some((l) => l.includes('remade once, because stage packages changed /bin/kmod')));

  const modules = image({ files: ['etc/initramfs-tools/modules'] });
  modules.write('etc/initramfs-tools/modules', 'dm_crypt');
  await initramfs.run(modules.ctx, OPTIONS);
  assert.deepEqual(commands(modules), [['chroot', 'update-initramfs', '-u', '-k', VERSION]]);
  // The file the recipe put there is kept, and the recipe's kernel.initramfs_modules are listed again.
  assert.equal(readFileSync(join(modules.ctx.root, 'etc/initramfs-tools/modules'), 'utf8'), 'dm_crypt\nvirtio_blk\n');
});

void test('initramfs: a package set that asked for it, or a newer kernel, makes it again', async () => {
  const asked = image({}, { initramfsOutdated: true });
  await initramfs.run(asked.ctx, OPTIONS);
  assert.deepEqual(commands(asked), [['chroot', 'update-initramfs', '-u', '-k', VERSION]]);

  const newer = image({ packages: ['boot/vmlinuz-6.13.1-amd64'] });
  newer.write('boot/vmlinuz-6.13.1-amd64', 'kernel');
  const made = await initramfs.run(newer.ctx, OPTIONS);
  assert.deepEqual(commands(newer), [['chroot', 'update-initramfs', '-c', '-k', '6.13.1-amd64']]);
  assert.equal(made.kernel.version, '6.13.1-amd64');
});
