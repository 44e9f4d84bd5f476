/** A pass-through stream that takes the sha256 and byte count of what flows through it, for one pass over data being written. */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface HashingStream {
  stream: Transform;
  /** The sha256 (hex) and size of everything that passed; read once the pipeline has finished. */
  result(): { sha256: string; size: number };
}

export function hashingStream(): HashingStream {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  return { stream, result: () => ({ sha256: hash.digest('hex'), size }) };
}
