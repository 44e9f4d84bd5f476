/** What the hook stages share: the options shape, where a script is, and how it is started. */
import { readFileSync } from 'node:fs';
import { chmod, copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { originFolder, type StageContext } from './define.js';

export const HookScript = z.strictObject({
  /** Relative to the folder of `from`: "recipe" or the layer that brought the script. */
  path: z.string(),
  from: z.string(),
  sha256: z.string(),
  /** The layer's variables, and KILN_LAYER. */
  env: z.record(z.string(), z.string()),
});
export type HookScript = z.infer<typeof HookScript>;

export const HookOptions = z.strictObject({
  scripts: z.array(HookScript),
  /** Documented variables every hook gets (KILN_NAME, KILN_ARCH, ...). */
  env: z.record(z.string(), z.string()),
});

/** The script on the host. */
export function scriptFile(ctx: Pick<StageContext, 'folders'>, script: HookScript): string {
  return join(originFolder(ctx, script.from), script.path);
}

/** How a script is named in the log: with its layer, when a layer brought it. */
export function hookLabel(script: HookScript): string {
  return script.from === 'recipe' ? script.path : `${script.path} (layer ${script.from})`;
}

/**
 * The interpreter from the script's #! line (so a script needs no executable bit), or /bin/sh.
 * `script` is read on the host; `path` is how the script is named where it runs.
 */
export function command(script: string, path: string): [string, string[]] {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  if (!first.startsWith('#!')) return ['/bin/sh', [path]];
  const [interpreter = '/bin/sh', ...args] = first.slice(2).trim().split(/\s+/);
  return [interpreter, [...args, path]];
}

const INSIDE = '/tmp/kiln-hook';

/** Runs scripts inside the image root, with services kept from starting (policy-rc.d). */
export async function runInRoot(ctx: StageContext, o: z.output<typeof HookOptions>): Promise<void> {
  const policy = join(ctx.root, 'usr/sbin/policy-rc.d');
  await writeFile(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    for (const script of o.scripts) {
      const source = scriptFile(ctx, script);
      await copyFile(source, join(ctx.root, INSIDE));
      await chmod(join(ctx.root, INSIDE), 0o755);
      ctx.log(`running hook ${hookLabel(script)}`);
      const [cmd, args] = command(source, INSIDE);
      await ctx.chroot(cmd, args, { env: { ...o.env, ...script.env, KILN_ROOT: '/', KILN_HOOK: script.path } });
    }
  } finally {
    await rm(join(ctx.root, INSIDE), { force: true });
    await rm(policy, { force: true });
  }
}
