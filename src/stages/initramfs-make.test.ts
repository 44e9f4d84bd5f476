/**
 * Making the initramfs of a foreign root with native programs, against a recorder: mkinitramfs
 * runs with the toolbox's shell, small programs and depmod, and an initramfs that came out holding
 * one of them is made again with the image's own programs.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ELF_MACHINES } from '../arch/elf.js';
import { hostArch } from '../arch/host-arch.js';
import { fakeElf, fakeLoader } from '../testing/elf.js';
import { newc } from '../testing/newc.js';
import { stageRecorder, type Call } from '../testing/stage-recorder.js';
import { KernelOptions, makeInitramfs } from './initramfs-make.js';
import { tripletOf } from './native-tools.js';

const VERSION = '6.12.57+deb13-arm64';
const KERNEL = { version: VERSION, vmlinuz: `/boot/vmlinuz-${VERSION}`, initrd: `/boot/initrd.img-${VERSION}` };
const FOREIGN = hostArch() === 'arm64' ? 'amd64' : 'arm64';
const OPTIONS = KernelOptions.parse({ package: `linux-image-${FOREIGN}`, arch: FOREIGN, source: { release: 'trixie', mirror: 'http://deb.debian.org/debian', components: ['main'] } });
const PROGRAMS = ['usr/bin/dash', 'usr/bin/sed', 'usr/bin/cp', 'usr/bin/kmod', 'usr/bin/zstd', 'usr/lib/dracut/dracut-install'];
const PACKAGES = ['dash', 'sed', 'coreutils', 'kmod', 'zstd', 'dracut-install'];

/** An ELF head of `arch`'s machine, as newc text (the first 20 bytes are all below 0x80). */
function program(arch: string): string {
  return fakeElf(true, true, ELF_MACHINES[arch] ?? 0, '/lib/ld.so').subarray(0, 20).toString('latin1');
}

/** A foreign root with initramfs-tools; `copies`: what its update-initramfs puts in the initramfs, run by run. */
function image(copies: [string, string][][]) {
  let made = 0;
  const r = stageRecorder((call: Call, root: string) => {
    if (call.command === 'mmdebstrap') {
      // The toolbox: the host's loader and the programs, each as its package has it.
      const into = call.args.at(-2) ?? '';
      const triplet = tripletOf(hostArch());
      const files: [string, Buffer][] = [
        [`usr/lib/${triplet}/${hostArch() === 'arm64' ? 'ld-linux-aarch64.so.1' : 'ld-linux-x86-64.so.2'}`, fakeLoader(triplet)],
        ...PROGRAMS.map((p): [string, Buffer] => [p, fakeElf(true, true, ELF_MACHINES[hostArch()] ?? 0, '/lib64/ld-linux-x86-64.so.2')]),
      ];
      for (const [file, bytes] of files) {
        mkdirSync(join(into, file, '..'), { recursive: true });
        writeFileSync(join(into, file), bytes);
      }
    }
    if (call.command === 'update-initramfs' || call.args.includes('update-initramfs')) writeFileSync(join(root, KERNEL.initrd), newc((copies[made++] ?? []).map(([path, text]) => [0o100755, path, text])));
  });
  r.write(`boot/vmlinuz-${VERSION}`, 'kernel');
  r.write('usr/sbin/update-initramfs', '#!/bin/sh\n');
  for (const path of PROGRAMS) r.write(path, program(FOREIGN));
  mkdirSync(join(r.ctx.root, 'usr/sbin'), { recursive: true });
  symlinkSync('../bin/kmod', join(r.ctx.root, 'usr/sbin/depmod'));
  r.write('var/lib/dpkg/status', PACKAGES.map((p) => `Package: ${p}\nStatus: install ok installed\nArchitecture: ${FOREIGN}\nVersion: 1.0-1\n`).join('\n'));
  return r;
}

/** What each update-initramfs run was given: its arguments and the programs that ran natively. */
const runs = (r: ReturnType<typeof stageRecorder>) =>
  r.calls.filter((c) => c.args.includes('update-initramfs')).map((c) => ({ args: c.args.slice(c.args.indexOf('update-initramfs')), native: /, ([^()]*) native\)$/.exec(c.options?.label ?? '')?.[1] ?? /\(in the image root, (\S+) native\)/.exec(c.options?.label ?? '')?.[1] }));

void test('a foreign initramfs is made with the native shell, small programs, dracut-install and depmod, and kept when none of them is in it', async () => {
  const r = image([[['usr/bin/kmod', program(FOREIGN)], ['init', '#!/bin/sh\n']]]);
  await makeInitramfs(r.ctx, OPTIONS, KERNEL, 'create');
  const [made, ...again] = runs(r);
  assert.deepEqual(made?.args, ['update-initramfs', '-c', '-k', VERSION]);
  assert.match(made?.native ?? '', /^zstd, dracut-install, dash, sed, cp, depmod$/);
  assert.deepEqual(again, []);
  // depmod goes in place of the link, in an overlay of its folder: kmod itself stays the image's.
  const script = r.calls.find((c) => c.args.includes('update-initramfs'))?.args[9] ?? '';
  assert.match(script, /^ln -s '\/run\/kiln-native\/kiln-bin\/depmod' "\$r"'\/run\/kiln-links\/usr\/sbin\/depmod'$/m);
  assert.match(script, /^mount -t overlay kiln-links -o lowerdir="\$r"'\/run\/kiln-links\/usr\/sbin':"\$r"'\/usr\/sbin' "\$r"'\/usr\/sbin'$/m);
  assert.doesNotMatch(script, /usr\/bin\/kmod/);
});

void test("an initramfs that came out with the host's build of a program in it is made again with the image's own", async () => {
  const r = image([[['usr/bin/sed', program(hostArch())], ['usr/bin/kmod', program(FOREIGN)]], [['usr/bin/sed', program(FOREIGN)]]]);
  await makeInitramfs(r.ctx, OPTIONS, KERNEL, 'create');
  const made = runs(r);
  assert.deepEqual(made.map((m) => m.args), [['update-initramfs', '-c', '-k', VERSION], ['update-initramfs', '-u', '-k', VERSION]]);
  assert.equal(made[1]?.native, 'zstd');
  assert.ok(r.logs.some((l) => l.includes("the initramfs holds the host's build of usr/bin/sed (a hook copied it): made again with the image's own programs")), r.logs.join('\n'));
});

void test('an initramfs kiln cannot read to check is made again with the image\'s own programs', async () => {
  const r = image([]);
  // update-initramfs "writes" an lz4 archive (a compression kiln does not read).
  const lz4 = Buffer.from([0x02, 0x21, 0x4c, 0x18, 0, 0, 0, 0]);
  const original = r.ctx.exec;
  r.ctx.exec = async (command, args, options) => {
    const result = await original(command, args, options);
    if (args.includes('update-initramfs')) writeFileSync(join(r.ctx.root, KERNEL.initrd), lz4);
    return result;
  };
  await makeInitramfs(r.ctx, OPTIONS, KERNEL, 'create');
  assert.deepEqual(runs(r).map((m) => m.args[1]), ['-c', '-u']);
  assert.ok(r.logs.some((l) => /^the initramfs cannot be checked: its compression \(bytes 02214c18 at 0\) is not one kiln reads: made again with the image's own programs$/.test(l)), r.logs.join('\n'));
});
