import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';
import { resolveOwner } from './image-accounts.js';

const Directory = z.strictObject({ path: z.string(), mode: z.string().optional(), owner: z.string().optional() });

export const directories = defineStage({
  name: 'directories',
  version: 1,
  kind: 'tree',
  summary: 'Creates folders in the image with their parents (parents that did not exist are root\'s, mode 0755); each folder gets its mode (default 0755) and owner (default root:root), by name or number, as the image\'s own accounts resolve it.',
  options: z.strictObject({ items: z.array(Directory) }),
  async run(ctx, o) {
    for (const dir of o.items) {
      const owner = resolveOwner(ctx.root, dir.owner ?? 'root:root');
      if ('error' in owner) throw new BuildError(`directories: ${dir.path}: owner ${dir.owner ?? ''}: ${owner.error}`);
      const mode = dir.mode ?? '0755';
      // Inside the image root, so a symbolic link on the path (/var/run, /lib) resolves as the image sees it.
      await ctx.chroot('mkdir', ['-p', dir.path]);
      await ctx.chroot('chown', [`${owner.uid}:${owner.gid}`, dir.path]);
      await ctx.chroot('chmod', [mode, dir.path]);
      ctx.log(`made ${dir.path} (mode ${mode}, owner ${dir.owner ?? 'root:root'})`);
    }
  },
});
