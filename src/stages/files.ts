import { copyFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage, originFolder } from './define.js';
import { resolveOwner } from './image-accounts.js';

const Item = z.strictObject({
  kind: z.enum(['tree', 'file', 'content']),
  src: z.string().optional(),
  content: z.string().optional(),
  dst: z.string(),
  mode: z.string().optional(),
  owner: z.string().optional(),
  /** Content hash of src (a file's bytes or a folder's tree): makes the stage id follow the files. */
  sha256: z.string(),
  /** Whose folder src is relative to: "recipe" or a layer's name. */
  from: z.string(),
});

/** Staging name inside the image; paths are resolved by the chroot so image symlinks never lead out. */
const STAGED = '/tmp/kiln-files.staged';

export const files = defineStage({
  name: 'files',
  version: 2,
  kind: 'tree',
  summary: 'Copies overlay folders (owned by root, modes kept, existing folders and symlinks like /lib kept), single files with a mode and owner, and inline content into the image.',
  options: z.strictObject({ items: z.array(Item) }),
  async run(ctx, o) {
    const staged = join(ctx.root, STAGED);
    try {
      for (const item of o.items) {
        const folder = originFolder(ctx, item.from);
        const from = item.from === 'recipe' ? '' : ` (layer ${item.from})`;
        if (item.kind === 'tree') {
          await ctx.exec('tar', ['-C', join(folder, item.src ?? '.'), '--owner=0', '--group=0', '--numeric-owner', '--sort=name', '-cf', staged, '.']);
          await ctx.chroot('mkdir', ['-p', item.dst]);
          await ctx.chroot('tar', ['-C', item.dst, '--keep-directory-symlink', '--no-overwrite-dir', '-xpf', STAGED]);
          ctx.log(`copied folder ${item.src ?? ''} to ${item.dst}${from}`);
          continue;
        }
        let mode = item.mode;
        if (item.kind === 'file') {
          const src = join(folder, item.src ?? '');
          await copyFile(src, staged);
          mode ??= (await stat(src)).mode & 0o111 ? '0755' : '0644';
        } else {
          await writeFile(staged, item.content ?? '');
        }
        const owner = resolveOwner(ctx.root, item.owner ?? 'root:root');
        if ('error' in owner) throw new BuildError(`files: ${item.dst}: owner ${item.owner ?? ''}: ${owner.error}`);
        await ctx.chroot('install', ['-D', '-m', mode ?? '0644', '-o', String(owner.uid), '-g', String(owner.gid), STAGED, item.dst]);
        ctx.log(`wrote ${item.dst} (mode ${mode ?? '0644'}, owner ${item.owner ?? 'root:root'})${from}`);
      }
    } finally {
      await rm(staged, { force: true });
    }
  },
});
