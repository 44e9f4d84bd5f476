import { defineStage } from './define.js';
import { HookOptions, runInRoot } from './hook-scripts.js';

export const cleanupHooks = defineStage({
  name: 'cleanup-hooks',
  version: 1,
  kind: 'tree',
  summary: 'Runs the cleanup hooks inside the image root after every other change to the tree (kernel and boot files included), just before the disk is made: the place to remove caches, logs and keys that must not ship.',
  options: HookOptions,
  run: runInRoot,
});
