import { z } from 'zod';
import { defineStage } from './define.js';

export const services = defineStage({
  name: 'services',
  version: 1,
  kind: 'tree',
  summary: 'Enables and disables systemd units with systemctl inside the image (a unit that does not exist fails the build), and masks units (linked to /dev/null: nothing can start them, installed or not).',
  options: z.strictObject({ enable: z.array(z.string()), disable: z.array(z.string()), mask: z.array(z.string()).default([]) }),
  async run(ctx, o) {
    if (o.enable.length) await ctx.chroot('systemctl', ['enable', ...o.enable]);
    if (o.disable.length) await ctx.chroot('systemctl', ['disable', ...o.disable]);
    if (o.mask.length) await ctx.chroot('systemctl', ['mask', ...o.mask]);
  },
});
