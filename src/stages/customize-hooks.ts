import { chmod, copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineStage } from './define.js';
import { command, HookOptions } from './hook-scripts.js';

const INSIDE = '/tmp/kiln-hook';

export const customizeHooks = defineStage({
  name: 'customize-hooks',
  version: 1,
  kind: 'tree',
  summary: 'Runs the customize hooks in order inside the image root (chroot with /proc, /sys, /dev, /run), with services kept from starting (policy-rc.d) and KILN_* variables set.',
  options: HookOptions,
  async run(ctx, o) {
    const policy = join(ctx.root, 'usr/sbin/policy-rc.d');
    await writeFile(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    try {
      for (const script of o.scripts) {
        const source = join(ctx.recipeFolder, script.path);
        await copyFile(source, join(ctx.root, INSIDE));
        await chmod(join(ctx.root, INSIDE), 0o755);
        ctx.log(`running hook ${script.path}`);
        const [cmd, args] = command(source, INSIDE);
        await ctx.chroot(cmd, args, { env: { ...o.env, KILN_ROOT: '/', KILN_HOOK: script.path } });
      }
    } finally {
      await rm(join(ctx.root, INSIDE), { force: true });
      await rm(policy, { force: true });
    }
  },
});
