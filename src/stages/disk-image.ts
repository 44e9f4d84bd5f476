import { existsSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeGpt } from '../disk/gpt.js';
import type { Layout } from '../disk/layout.js';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';
import { sparseCopy } from './sparse-copy.js';

export const diskImage = defineStage({
  name: 'disk-image',
  version: 1,
  kind: 'image',
  summary: "Creates the sparse disk image, writes the GPT (protective MBR, primary and backup tables) with kiln's own writer and places each file system at its offset.",
  options: z.strictObject({
    diskGuid: z.string(),
    partitions: z.array(z.strictObject({ name: z.string(), typeGuid: z.string(), partGuid: z.string() })),
  }),
  async run(ctx, o) {
    const layout = ctx.facts.layout as Layout | undefined;
    if (!layout) throw new BuildError('disk-image needs the filesystems stage to run first');
    const image = join(ctx.work, 'disk.raw');
    await rm(image, { force: true });
    const handle = await open(image, 'w');
    await handle.truncate(layout.diskSize).finally(() => handle.close());
    await writeGpt(image, {
      diskGuid: o.diskGuid,
      sizeBytes: layout.diskSize,
      partitions: o.partitions.map((p, i) => {
        const placed = layout.partitions[i];
        if (!placed) throw new BuildError(`partition ${p.name} is missing from the layout`);
        return { ...p, firstLba: placed.firstLba, lastLba: placed.lastLba };
      }),
    });
    for (const placed of layout.partitions) {
      const file = join(ctx.work, 'parts', `${placed.name}.img`);
      if (existsSync(file)) await sparseCopy(file, image, placed.offset);
    }
    await rm(join(ctx.work, 'parts'), { recursive: true, force: true });
    ctx.log(`disk image ${layout.diskSize} bytes, ${layout.partitions.length} partitions`);
    return { image };
  },
});
