/**
 * Two facts of an ELF program kiln reads or changes: its machine (which architecture runs it), and
 * its interpreter (PT_INTERP: the dynamic loader the kernel starts it with). kiln gives the host's
 * programs a loader path inside a foreign image root, so that the kernel runs them natively there
 * by their own path, with no shell script in front (stages/native-tools.ts).
 */

const MAGIC = [0x7f, 0x45, 0x4c, 0x46]; // "\x7fELF"
const PT_INTERP = 3;

/** e_machine values of the architectures kiln builds for. */
export const ELF_MACHINES: Record<string, number> = { amd64: 62, arm64: 183, armhf: 40, i386: 3 };

/** The ELF header's machine, or undefined when `head` (at least the first 20 bytes) is no ELF file. */
export function elfMachine(head: Uint8Array): number | undefined {
  if (head.length < 20 || !MAGIC.every((b, i) => head[i] === b)) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return view.getUint16(18, head[5] === 1);
}

/**
 * A copy of the ELF program `elf` whose interpreter is `path`. The loader's path lives in a
 * segment of its own with a fixed size, so the new one must fit in it (NUL-padded): the kernel
 * reads the string up to its NUL. Throws when the program has no interpreter (a static program
 * needs none) or the path does not fit.
 */
export function withInterpreter(elf: Uint8Array, path: string): Buffer {
  const out = Buffer.from(elf);
  if (!MAGIC.every((b, i) => out[i] === b)) throw new Error('not an ELF file');
  const wide = out[4] === 2; // ELFCLASS64
  const little = out[5] === 1; // ELFDATA2LSB
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const word = (at: number) => (wide ? Number(view.getBigUint64(at, little)) : view.getUint32(at, little));
  const phoff = word(wide ? 0x20 : 0x1c);
  const phentsize = view.getUint16(wide ? 0x36 : 0x2a, little);
  const phnum = view.getUint16(wide ? 0x38 : 0x2c, little);
  for (let i = 0; i < phnum; i++) {
    const header = phoff + i * phentsize;
    if (view.getUint32(header, little) !== PT_INTERP) continue;
    const offset = word(header + (wide ? 8 : 4));
    const size = word(header + (wide ? 32 : 16));
    const bytes = Buffer.from(`${path}\0`);
    if (bytes.length > size) throw new Error(`the interpreter path ${path} is longer than the ${size - 1} bytes the program has room for`);
    out.fill(0, offset, offset + size);
    bytes.copy(out, offset);
    return out;
  }
  throw new Error('the program has no interpreter (PT_INTERP)');
}

/**
 * A copy of a glibc dynamic loader that looks for libraries in `to` where it looked in `from` (one
 * of its built-in folders, /usr/lib/x86_64-linux-gnu/). Every place the loader keeps the folder's
 * name, NUL-ended, is changed; `to` must be as long, since the loader has the lengths built in too.
 */
export function withLibraryFolder(loader: Uint8Array, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error(`${to} is not as long as ${from}`);
  const out = Buffer.from(loader);
  const needle = Buffer.from(`\0${from}\0`);
  let found = 0;
  for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, at + needle.length - 1)) {
    out.write(to, at + 1, 'latin1');
    found++;
  }
  if (!found) throw new Error(`the loader has no built-in library folder ${from}`);
  return out;
}
