import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import { defineStage, type StageContext } from './define.js';
import { changesIn, firstInput } from './initramfs-inputs.js';
import { installedKernel, KernelOptions, makeInitramfs } from './initramfs-make.js';
import { initrdFiles } from './initrd-files.js';

/**
 * The initramfs-tools initramfs, checked after the recipe's package set, files, services and hooks:
 * the kernel stage made it before them, so adding a package or changing a file reruns
 * this check (a fraction of a second) instead of mkinitramfs (6 s on amd64, half a minute under
 * qemu-user). It is made again, once, if a package set asked for that (Debian's trigger), a newer
 * kernel came in, or a stage since changed anything it is made from (initramfs-inputs.ts).
 */
export const initramfs = defineStage({
  name: 'initramfs',
  version: 2,
  kind: 'tree',
  summary: "Makes the initramfs again, once, if a stage after the kernel stage changed what it is made from (its settings, hooks, modules, firmware, a file it has a copy of), a package set asked for that, or a newer kernel came in; otherwise keeps the kernel stage's.",
  options: KernelOptions,
  makes: ['kernel', 'initramfsOutdated'],
  async run(ctx, o) {
    const made = ctx.facts.kernel;
    const at = ctx.layers.map((l) => l.stage).lastIndexOf('kernel');
    if (!made || at < 0) throw new BuildError('the initramfs stage needs the kernel stage to run first');
    const kernel = installedKernel(ctx.root, o.package);
    const reason = await remakeReason(ctx, kernel.version, made.version, ctx.layers.slice(at + 1));
    if (!reason) {
      ctx.log('the initramfs the kernel stage made is current: no stage since changed what it is made from');
    } else {
      const create = !existsSync(join(ctx.root, kernel.initrd));
      ctx.log(`the initramfs: ${create ? 'made' : 'remade'} once, because ${reason}`);
      await makeInitramfs(ctx, o, kernel, create ? 'create' : 'update');
    }
    return { kernel, initramfsOutdated: false };
  },
});

/** Why the initramfs must be made again, or undefined when the kernel stage's is current. */
async function remakeReason(ctx: StageContext, version: string, made: string, since: readonly { stage: string; tree: string }[]): Promise<string | undefined> {
  if (version !== made) return `kernel ${version} was installed after ${made}`;
  if (ctx.facts.initramfsOutdated) return 'a package set asked for it';
  const initrd = join(ctx.root, `boot/initrd.img-${version}`);
  if (!existsSync(initrd)) return `/boot/initrd.img-${version} is gone`;
  const changes = await changesIn(since);
  if (!changes.length) return undefined;
  const files = await initrdFiles(ctx.exec, initrd, ctx.scratch);
  if (typeof files === 'string') return `kiln cannot list its files to compare: ${files}`;
  const input = firstInput(changes, files);
  return input && `stage ${input.stage} changed /${input.path}`;
}
