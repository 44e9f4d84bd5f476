import { join } from 'node:path';
import { defineStage, originFolder } from './define.js';
import { command, hookLabel, HookOptions, scriptFile } from './hook-scripts.js';

export const imageHooks = defineStage({
  name: 'image-hooks',
  version: 3,
  kind: 'image',
  summary: 'Runs the image hooks in order on the host after the disk image is assembled; $1 is the build folder holding the image, KILN_IMAGE its path and KILN_ROOT the image root tree.',
  options: HookOptions,
  async run(ctx, o) {
    for (const script of o.scripts) {
      const source = scriptFile(ctx, script);
      ctx.log(`running hook ${hookLabel(script)}`);
      const [cmd, args] = command(source, source);
      await ctx.exec(cmd, [...args, ctx.work], {
        // Relative paths in a hook start where its recipe or layer is.
        cwd: originFolder(ctx, script.from),
        env: { ...o.env, ...script.env, KILN_ROOT: ctx.root, KILN_BUILD_DIR: ctx.work, KILN_IMAGE: ctx.facts.image === undefined ? '' : join(ctx.work, ctx.facts.image), KILN_HOOK: script.path },
      });
    }
  },
});
