/** How much space a folder's content takes in a new file system, counted in whole blocks. */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface TreeSize {
  /** Bytes of data rounded up to the block size, plus one block per folder and symlink. */
  bytes: number;
  entries: number;
}

export function treeSize(root: string, blockSize = 4096): TreeSize {
  let bytes = 0;
  let entries = 0;
  const seen = new Set<number>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      entries++;
      if (stat.isDirectory()) {
        bytes += blockSize;
        walk(path);
      } else if (stat.isFile()) {
        // Hard links inside the tree take their space once.
        if (stat.nlink > 1 && seen.has(stat.ino)) continue;
        seen.add(stat.ino);
        bytes += Math.ceil(stat.size / blockSize) * blockSize;
      } else if (stat.isSymbolicLink() && stat.size > 59) bytes += blockSize;
    }
  };
  walk(root);
  return { bytes, entries };
}
