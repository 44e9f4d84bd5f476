import { z } from 'zod';
import { defineStage } from './define.js';

export const services = defineStage({
  name: 'services',
  version: 1,
  kind: 'tree',
  summary: 'Enables and disables systemd units with systemctl inside the image (a unit that does not exist fails the build).',
  options: z.strictObject({ enable: z.array(z.string()), disable: z.array(z.string()) }),
  async run(ctx, o) {
    if (o.enable.length) await ctx.chroot('systemctl', ['enable', ...o.enable]);
    if (o.disable.length) await ctx.chroot('systemctl', ['disable', ...o.disable]);
  },
});
