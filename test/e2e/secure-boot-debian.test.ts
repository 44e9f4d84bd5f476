/**
 * secure_boot: debian on trixie: Microsoft-signed shim, Debian-signed GRUB and the signed kernel,
 * booted by OVMF with Microsoft's keys enrolled and Secure Boot enforced; mokutil inside agrees.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Console, withConsole } from './console.js';
import { fatFile, kiln, partitions, run, scratch, sharedCache } from './kiln.js';

void test("Debian's signed chain (shim, signed GRUB, signed kernel) boots with Secure Boot on; mokutil --sb-state says enabled", async (t) => {
  const out = join(scratch('shim'), 'out');
  const built = await kiln(['build', 'test/e2e/fixtures/trixie/shim.yaml', '-o', out], { KILN_CACHE: sharedCache('shim') });
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  const image = join(out, 'shim.raw');
  const [esp] = partitions(image);
  assert.ok(esp);
  // shim is the removable-media loader, Debian's signed GRUB sits beside it and reads EFI/debian/grub.cfg.
  const shim = join(out, 'BOOTX64.EFI');
  run('mcopy', ['-i', `${image}@@${esp.start * 512}`, '::EFI/BOOT/BOOTX64.EFI', shim]);
  assert.match(run('sbverify', ['--list', shim]), /Microsoft Corporation UEFI CA/);
  assert.match(fatFile(image, esp, '/EFI/debian/grub.cfg'), /^search --no-floppy --fs-uuid --set=root [0-9a-f-]{36}\nset prefix=\(\$root\)\/boot\/grub\nconfigfile \$prefix\/grub.cfg\n$/);

  await withConsole(() => Console.start(image, 'ms'), async (vm) => {
    await vm.login('root', 'root');
    t.diagnostic(`shim + signed GRUB under Secure Boot: logged in ${vm.seconds} s after QEMU started`);
    assert.match(vm.output, /secureboot: Secure boot enabled/);
    const state = await vm.run('mokutil --sb-state');
    assert.equal(state.status, 0, state.out);
    assert.match(state.out, /SecureBoot enabled/);
  });
});
