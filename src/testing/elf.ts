/**
 * Made-up ELF files for unit tests: the few header fields kiln reads and changes, nothing runnable.
 */

/** A made-up ELF program: header, then program headers (a PT_LOAD, a PT_INTERP), then the loader path. */
export function fakeElf(wide: boolean, little: boolean, machine: number, interp: string): Buffer {
  const ehsize = wide ? 64 : 52;
  const phentsize = wide ? 56 : 32;
  const pathAt = ehsize + 2 * phentsize;
  const out = Buffer.alloc(pathAt + interp.length + 1 + 8);
  out.set([0x7f, 0x45, 0x4c, 0x46, wide ? 2 : 1, little ? 1 : 2, 1]);
  const view = new DataView(out.buffer);
  view.setUint16(18, machine, little);
  const setWord = (at: number, value: number) => (wide ? view.setBigUint64(at, BigInt(value), little) : view.setUint32(at, value, little));
  setWord(wide ? 0x20 : 0x1c, ehsize);
  view.setUint16(wide ? 0x36 : 0x2a, phentsize, little);
  view.setUint16(wide ? 0x38 : 0x2c, 2, little);
  view.setUint32(ehsize, 1, little); // PT_LOAD
  const interpHeader = ehsize + phentsize;
  view.setUint32(interpHeader, 3, little); // PT_INTERP
  setWord(interpHeader + (wide ? 8 : 4), pathAt);
  setWord(interpHeader + (wide ? 32 : 16), interp.length + 1);
  out.write(interp, pathAt, 'latin1');
  return out;
}

/** A made-up dynamic loader that keeps its built-in library folder, /usr/lib/<triplet>/, the way glibc's does. */
export function fakeLoader(triplet: string): Buffer {
  return Buffer.concat([fakeElf(true, true, 62, '/lib/ld.so'), Buffer.from(`\0/lib/${triplet}/\0/usr/lib/${triplet}/\0/lib/\0/usr/lib/\0`)]);
}
