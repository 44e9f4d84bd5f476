import { defineStage } from './define.js';
import { HookOptions, runInRoot } from './hook-scripts.js';

export const customizeHooks = defineStage({
  name: 'customize-hooks',
  version: 2,
  kind: 'tree',
  summary: 'Runs the customize hooks (the layers\', then the recipe\'s) in order inside the image root (chroot with /proc, /sys, /dev, /run), with services kept from starting (policy-rc.d) and KILN_* and layer variables set.',
  options: HookOptions,
  run: runInRoot,
});
