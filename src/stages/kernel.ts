import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';
import type { KernelFacts } from './facts.js';

export const kernel = defineStage({
  name: 'kernel',
  version: 2,
  kind: 'tree',
  summary: 'Finds the installed kernel (the newest if several) and makes sure its initramfs exists and is current: generated after all customization if missing, or remade once when package sets asked for an update.',
  options: z.strictObject({ package: z.string() }),
  makes: ['kernel'],
  async run(ctx, o) {
    const versions = readdirSync(join(ctx.root, 'boot'))
      .filter((f) => f.startsWith('vmlinuz-'))
      .map((f) => f.slice('vmlinuz-'.length))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const version = versions.at(-1);
    if (!version) throw new BuildError(`no kernel in /boot after installing ${o.package} (is it a kernel image package?)`);
    const initrd = `/boot/initrd.img-${version}`;
    const tools = existsSync(join(ctx.root, 'usr/sbin/update-initramfs'));
    if (!existsSync(join(ctx.root, initrd))) {
      // dracut, where an image has it instead of initramfs-tools (OSTree images), reads its settings from /etc/dracut.conf.d.
      if (tools) await ctx.chroot('update-initramfs', ['-c', '-k', version]);
      else await ctx.chroot('dracut', ['--quiet', '--kver', version, initrd]);
    } else if (ctx.facts.initramfsOutdated) {
      // The updates the package stages left (update-initramfs also runs its post-update hooks, e.g. raspi-firmware's copy to /boot/firmware).
      ctx.log('the initramfs: remade once for the package sets that asked for it');
      if (tools) await ctx.chroot('update-initramfs', ['-u', '-k', version]);
      else await ctx.chroot('dracut', ['--quiet', '--force', '--kver', version, initrd]);
    }
    ctx.log(`kernel ${version}`);
    const facts: KernelFacts = { version, vmlinuz: `/boot/vmlinuz-${version}`, initrd };
    return { kernel: facts };
  },
});
