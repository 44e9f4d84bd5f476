/** Initramfs archives for tests: cpio's newc format, as the kernel and initrd-files.ts read it. */

/** A newc archive of these entries (mode, name, content), with its trailer, padded as the kernel expects. */
export function newc(entries: [number, string, string][]): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  for (const [mode, name, data] of [...entries, [0, 'TRAILER!!!', ''] as [number, string, string]]) {
    const fields = [1, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}${name}\0`, 'latin1');
    parts.push(header, pad(header.length), Buffer.from(data), pad(data.length));
  }
  const all = Buffer.concat(parts);
  return Buffer.concat([all, Buffer.alloc((512 - (all.length % 512)) % 512)]);
}
