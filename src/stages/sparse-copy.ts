/** Copies a file into another at an offset, skipping zero blocks so the target stays sparse. */
import { open } from 'node:fs/promises';

const CHUNK = 4 * 1024 * 1024;
const BLOCK = 64 * 1024;

export async function sparseCopy(source: string, target: string, offset: number): Promise<void> {
  const input = await open(source, 'r');
  const output = await open(target, 'r+');
  try {
    const buffer = Buffer.alloc(CHUNK);
    for (let position = 0; ; ) {
      const { bytesRead } = await input.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) break;
      for (let at = 0; at < bytesRead; at += BLOCK) {
        const block = buffer.subarray(at, Math.min(at + BLOCK, bytesRead));
        if (!isZero(block)) await output.write(block, 0, block.length, offset + position + at);
      }
      position += bytesRead;
    }
  } finally {
    await input.close();
    await output.close();
  }
}

const ZERO = Buffer.alloc(BLOCK);

function isZero(block: Buffer): boolean {
  return block.equals(block.length === BLOCK ? ZERO : ZERO.subarray(0, block.length));
}
