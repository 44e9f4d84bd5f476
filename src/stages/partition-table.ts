import { z } from 'zod';
import { writeGpt } from '../disk/gpt.js';
import type { Layout } from '../disk/layout.js';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';

export const partitionTable = defineStage({
  name: 'partition-table',
  version: 1,
  kind: 'image',
  summary: "Writes the GPT (protective MBR, primary and backup headers and entry arrays) into the disk image with kiln's own writer: partition names, type GUIDs and GUIDs derived from the recipe.",
  options: z.strictObject({
    diskGuid: z.string(),
    partitions: z.array(z.strictObject({ name: z.string(), typeGuid: z.string(), partGuid: z.string() })),
  }),
  async run(ctx, o) {
    const layout = ctx.facts.layout as Layout | undefined;
    const image = ctx.facts.image;
    if (!layout || typeof image !== 'string') throw new BuildError('partition-table needs the filesystems stage to run first');
    await writeGpt(image, {
      diskGuid: o.diskGuid,
      sizeBytes: layout.diskSize,
      partitions: o.partitions.map((p, i) => {
        const placed = layout.partitions[i];
        if (!placed) throw new BuildError(`partition ${p.name} is missing from the layout`);
        return { ...p, firstLba: placed.firstLba, lastLba: placed.lastLba };
      }),
    });
    ctx.log(`GPT with ${o.partitions.length} partitions on a ${layout.diskSize}-byte disk`);
  },
});
