/** Writes all of `chunk`: a write may take only part of it (a filling disk), which is no error by itself. */
import type { FileHandle } from 'node:fs/promises';

export async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    // The next write after a short one reports the cause (ENOSPC); a write of nothing must not loop.
    if (bytesWritten === 0) throw Object.assign(new Error('no space left on device (a write stored nothing)'), { code: 'ENOSPC', syscall: 'write' });
    offset += bytesWritten;
  }
}
