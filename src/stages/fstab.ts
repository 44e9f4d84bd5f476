import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineStage } from './define.js';

const Entry = z.strictObject({ source: z.string(), mount: z.string(), fs: z.string(), options: z.string(), pass: z.number().int() });

export const fstab = defineStage({
  name: 'fstab',
  version: 2,
  kind: 'tree',
  summary: "Writes /etc/fstab from the disk layout's mounts, naming each file system by UUID, and makes each mount point that the tree lacks (e.g. /data).",
  options: z.strictObject({ entries: z.array(Entry) }),
  async run(ctx, o) {
    const lines = o.entries.map((e) => `${e.source}\t${e.mount}\t${e.fs}\t${e.options}\t0\t${e.pass}`);
    await writeFile(join(ctx.root, 'etc/fstab'), `# written by kiln from the recipe's disk layout\n${lines.join('\n')}\n`);
    // A file system mounts only onto a folder that exists.
    for (const e of o.entries) if (e.mount.startsWith('/')) await mkdir(join(ctx.root, e.mount), { recursive: true, mode: 0o755 });
  },
});
