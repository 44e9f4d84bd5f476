import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineStage } from './define.js';
import { installedKernel, KernelOptions, makeInitramfs } from './initramfs-make.js';

/**
 * Makes the initramfs. With initramfs-tools it runs after the base system, the layers' package
 * sets and the fstab, before the recipe's own packages, files and hooks: its result is then reused
 * when only those change, and the initramfs stage at the end makes it again only if one of them
 * changed what it is made from (initramfs-inputs.ts). dracut (OSTree images) copies much more of the system
 * (systemd's units and settings): this stage then runs last, after every change. Either way the
 * bootstrap and package sets make none (under qemu-user each costs over a minute).
 */
export const kernel = defineStage({
  name: 'kernel',
  version: 6,
  kind: 'tree',
  summary: "Finds the installed kernel (the newest if several) and makes its initramfs with the recipe's settings (a module list, or dracut's modules): with initramfs-tools before the recipe's own packages, files and hooks (the initramfs stage checks it after them), with dracut after all customization; one that exists already is remade only if a package set asked for that.",
  options: KernelOptions,
  makes: ['kernel', 'initramfsOutdated'],
  async run(ctx, o) {
    const kernel = installedKernel(ctx.root, o.package);
    if (!existsSync(join(ctx.root, kernel.initrd))) {
      ctx.log('the initramfs: made once');
      await makeInitramfs(ctx, o, kernel, 'create');
    } else if (ctx.facts.initramfsOutdated) {
      ctx.log('the initramfs: remade once for the package sets that asked for it');
      await makeInitramfs(ctx, o, kernel, 'update');
    }
    ctx.log(`kernel ${kernel.version}`);
    return { kernel, initramfsOutdated: false };
  },
});
